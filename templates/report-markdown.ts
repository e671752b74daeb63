import type { Report } from '../src/contracts/report.js';
import { escapeControls, markdownCell, markdownFence, markdownLine } from './sanitize.js';

export interface ReportMeta {
  incidentId?: string;
  server?: string;
  incidentDir?: string;
}

/**
 * report.md: the output contract for people, in the order the method asks for. Every value came
 * from evidence: one line each (a value cannot open a heading or a list), controls visible, and
 * the commands' fence is longer than any backtick run inside them. Pure.
 */
export function renderReportMarkdown(report: Report, meta: ReportMeta = {}): string {
  const m = markdownLine;
  const code = (v: string) => m(v).replace(/`/g, "'");
  const title = meta.incidentId ? `Incident ${m(meta.incidentId)}` : 'Incident triage';
  const lines: string[] = [`# ${title}: ${report.problemClass}`, ''];
  if (meta.server) lines.push(`**Server:** ${m(meta.server)}  `);
  if (meta.incidentDir) lines.push(`**Incident folder:** \`${code(meta.incidentDir)}\`  `);
  lines.push(`**Problem class:** ${report.problemClass}  `, `**Next skill:** \`${report.nextStep.skill}\``, '');
  lines.push('## Strongest signal', '', m(report.strongestSignal), '');
  lines.push('## Best guess', '', m(report.bestGuess), '');
  lines.push('## Next step', '', m(report.nextStep.why), '');
  if (report.nextStep.commands.length) {
    // Commands stay runnable as written (no Markdown escaping); only control characters are shown.
    const commands = report.nextStep.commands.map((c) => escapeControls(c).replace(/\n/g, '\\n'));
    const fence = markdownFence(commands);
    lines.push(`${fence}sh`, ...commands, fence, '');
  }
  lines.push('## Production risk', '', m(report.productionRisk), '');
  lines.push('## Ruled out', '', ...(report.ruledOut.length ? report.ruledOut.map((r) => `- ${m(r)}`) : ['- nothing yet']), '');
  lines.push('## What was checked', '', ...report.checked.map((c) => `- ${m(c)}`), '');
  const facts = Object.entries(report.facts).filter(([, v]) => v !== undefined && v !== null);
  if (facts.length) {
    lines.push('## Facts', '', '| fact | value |', '| --- | --- |');
    for (const [k, v] of facts) lines.push(`| ${markdownCell(k)} | ${markdownCell(typeof v === 'string' ? v : JSON.stringify(v))} |`);
    lines.push('');
  }
  if (report.evidence.length) {
    lines.push('## Evidence', '', ...report.evidence.map((e) => `- \`${code(e.file)}\`: ${m(e.fact)}`), '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
