import type { Writable } from 'node:stream';

/** What a CLI subcommand gets from the entry: streams, env, cwd and a signal tied to Ctrl-C. */
export interface CliContext {
  stdout: Writable;
  stderr: Writable;
  env: Record<string, string | undefined>;
  cwd: string;
  signal: AbortSignal;
  /** stderr is a TTY: progress may redraw lines. */
  interactive: boolean;
}

export type Subcommand = (argv: string[], ctx: CliContext) => Promise<number>;

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export function writeJson(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Human output and progress go to stderr so --json keeps stdout to one JSON document. */
export function say(ctx: CliContext, line: string): void {
  ctx.stderr.write(`${line}\n`);
}
