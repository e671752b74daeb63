import type { Writable } from 'node:stream';
import type { CliEnv, Credentials } from '../config/env.js';

/** What a CLI subcommand gets from the entry: streams, parsed env, credentials, cwd and a signal tied to Ctrl-C. */
export interface CliContext {
  stdout: Writable;
  stderr: Writable;
  /** The CLI's environment, read once through cliEnvSchema (src/config/env.ts). */
  env: CliEnv;
  /** Server tokens, resolved from the environment snapshot taken at the entry. */
  credentials: Credentials;
  /**
   * The environment handed to the processes the CLI starts (GPU tools, a managed clean target), as a
   * shell would hand it on: PATH, CUDA_*, HOME. Passed through to them, never read for configuration.
   */
  childEnv?: Readonly<Record<string, string | undefined>>;
  cwd: string;
  signal: AbortSignal;
  /** stderr is a TTY: progress may redraw lines. */
  interactive: boolean;
  /** Colour on stderr: a TTY and NO_COLOR unset. */
  color?: boolean;
}

export type Subcommand = (argv: string[], ctx: CliContext) => Promise<number>;

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** --json: exactly one JSON document on stdout. */
export function writeJson(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The human report: stdout, so `triage route inc > r.txt` and `| less` get it. */
export function print(ctx: CliContext, text: string): void {
  ctx.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Progress and diagnostics: stderr, never mixed into the report or the JSON document. */
export function say(ctx: CliContext, line: string): void {
  ctx.stderr.write(`${line}\n`);
}

/** https://no-color.org: colour only on a TTY, and never when NO_COLOR is set to anything. TERM=dumb too. */
export function colorWanted(stream: { isTTY?: boolean }, env: { NO_COLOR?: string | undefined; TERM?: string | undefined }): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** SGR open/close pairs (util.styleText needs Node 20.12; engines allows 20.11). */
const STYLES = { bold: [1, 22], dim: [2, 22], red: [31, 39], yellow: [33, 39], cyan: [36, 39] } as const;
export type Style = keyof typeof STYLES;

/** Styles text for stderr when the context allows colour; otherwise returns it unchanged. */
export function paint(ctx: Pick<CliContext, 'color'>, style: Style, text: string): string {
  if (!ctx.color) return text;
  const [open, close] = STYLES[style];
  return `\x1b[${open}m${text}\x1b[${close}m`;
}
