/**
 * POSIX shell quoting for one argument: safe characters pass as they are, anything else is wrapped in
 * single quotes (a single quote inside becomes '\''). Nothing inside single quotes is expanded, so a
 * value from a dump, a log or servers.yaml can never run as a command.
 */
export function shellQuote(value: string): string {
  // A leading '-' needs no quoting: quotes never stop a tool reading `-x` as an option (pass paths
  // through src/triage/shell.ts pathArg for that). A leading '=' does: zsh expands `=cmd`.
  if (value !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) && !value.startsWith('=')) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
