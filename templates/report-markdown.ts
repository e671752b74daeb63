import type { Report } from '../src/contracts/report.js';

export interface ReportMeta {
  incidentId?: string;
  server?: string;
  incidentDir?: string;
}

/** report.md: the output contract for people, in the order the method asks for. Pure. */
export function renderReportMarkdown(report: Report, meta: ReportMeta = {}): string {
  const title = meta.incidentId ? `Incident ${meta.incidentId}` : 'Incident triage';
  const lines: string[] = [`# ${title}: ${report.problemClass}`, ''];
  if (meta.server) lines.push(`**Server:** ${meta.server}  `);
  if (meta.incidentDir) lines.push(`**Incident folder:** \`${meta.incidentDir}\`  `);
  lines.push(`**Problem class:** ${report.problemClass}  `, `**Next skill:** \`${report.nextStep.skill}\``, '');
  lines.push('## Strongest signal', '', report.strongestSignal, '');
  lines.push('## Best guess', '', report.bestGuess, '');
  lines.push('## Next step', '', report.nextStep.why, '');
  if (report.nextStep.commands.length) lines.push('```sh', ...report.nextStep.commands, '```', '');
  lines.push('## Production risk', '', report.productionRisk, '');
  lines.push('## Ruled out', '', ...(report.ruledOut.length ? report.ruledOut.map((r) => `- ${r}`) : ['- nothing yet']), '');
  lines.push('## What was checked', '', ...report.checked.map((c) => `- ${c}`), '');
  const facts = Object.entries(report.facts).filter(([, v]) => v !== undefined && v !== null);
  if (facts.length) {
    lines.push('## Facts', '', '| fact | value |', '| --- | --- |');
    for (const [k, v] of facts) lines.push(`| ${k} | ${escapeCell(typeof v === 'string' ? v : JSON.stringify(v))} |`);
    lines.push('');
  }
  if (report.evidence.length) {
    lines.push('## Evidence', '', ...report.evidence.map((e) => `- \`${e.file}\`: ${e.fact}`), '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
