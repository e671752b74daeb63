import type { Report } from '../src/contracts/report.js';
import { terminalLine } from './sanitize.js';

/**
 * The terminal view of a report (stderr of `triage route`). Every value is one line with its
 * control characters shown, so evidence cannot colour, move the cursor or forge a line. Pure.
 */
export function renderReportText(report: Report, location?: string): string {
  const t = terminalLine;
  const lines = [
    `problem class:    ${report.problemClass}`,
    `strongest signal: ${t(report.strongestSignal)}`,
    `best guess:       ${t(report.bestGuess)}`,
    `next skill:       ${report.nextStep.skill}`,
    `why:              ${t(report.nextStep.why)}`,
    `production risk:  ${t(report.productionRisk)}`,
  ];
  if (report.ruledOut.length) lines.push('ruled out:', ...report.ruledOut.map((r) => `  - ${t(r)}`));
  lines.push('checked:', ...report.checked.map((c) => `  - ${t(c)}`));
  if (report.nextStep.commands.length) lines.push('commands:', ...report.nextStep.commands.map((c) => `  ${t(c)}`));
  if (location) lines.push(`report: ${t(location)}`);
  return `${lines.join('\n')}\n`;
}
