import type { Report } from '../src/contracts/report.js';

/** The terminal view of a report (stderr of `triage route`). Pure. */
export function renderReportText(report: Report, location?: string): string {
  const lines = [
    `problem class:    ${report.problemClass}`,
    `strongest signal: ${report.strongestSignal}`,
    `best guess:       ${report.bestGuess}`,
    `next skill:       ${report.nextStep.skill}`,
    `why:              ${report.nextStep.why}`,
    `production risk:  ${report.productionRisk}`,
  ];
  if (report.ruledOut.length) lines.push('ruled out:', ...report.ruledOut.map((r) => `  - ${r}`));
  lines.push('checked:', ...report.checked.map((c) => `  - ${c}`));
  if (report.nextStep.commands.length) lines.push('commands:', ...report.nextStep.commands.map((c) => `  ${c}`));
  if (location) lines.push(`report: ${location}`);
  return `${lines.join('\n')}\n`;
}
