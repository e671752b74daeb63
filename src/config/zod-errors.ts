import type { z } from 'zod';
import { TriageError } from '../errors.js';

/** Renders zod issues as "path.to.key: what is wrong. Fix: how" lines. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], source: string): string {
  const lines = issues.map((issue) => {
    const where = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
    return `  ${where}: ${issue.message}${fixHint(issue)}`;
  });
  return `${source} is invalid:\n${lines.join('\n')}`;
}

function fixHint(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `. Fix: remove or rename ${issue.keys.map((k) => `"${k}"`).join(', ')} (check spelling against the README's servers.yaml reference)`;
    case 'invalid_type':
      return `. Fix: give a ${issue.expected}`;
    case 'invalid_value':
      return `. Fix: use one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return '';
  }
}

export function configError(issues: readonly z.core.$ZodIssue[], source: string): TriageError {
  return new TriageError('E_CONFIG', formatIssues(issues, source), {
    details: { issues: issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
  });
}
