/** Runs `triage` in-process through main(), with its own streams and environment. */
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(argv: string[], opts: { cwd?: string; environment?: Record<string, string>; tty?: boolean } = {}): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), opts.tty ? { isTTY: true } : {});
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await main(argv, { stdout, stderr, environment: opts.environment ?? {}, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
  return { code, stdout: out, stderr: err };
}
