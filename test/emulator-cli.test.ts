/** The emulator is a tool people run (README, `npm run emulator`): its command line must fail clearly. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseEmulatorArgs } from './helpers/sglang-emulator.js';
import { REPO_ROOT } from './helpers/tmp.js';

const run = promisify(execFile);
const EMULATOR = path.join(REPO_ROOT, 'test', 'helpers', 'sglang-emulator.ts');

async function emulator(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', EMULATOR, ...args], { cwd: REPO_ROOT, timeout: 20_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('sglang-emulator command line', () => {
  it('--help prints the usage and exits 0', async () => {
    const r = await emulator('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage: npm run emulator -- \[options\]/);
    expect(r.stdout).toMatch(/--crash-prompt-tokens N/);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });

  it('an unknown option is a clear error with exit 2, not a stack trace', async () => {
    const r = await emulator('--scenaro', 'healthy');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('sglang-emulator: unknown option --scenaro (see --help)');
  });

  it('bad values name the option and what it takes', () => {
    expect(() => parseEmulatorArgs(['--port', 'abc'])).toThrow('--port must be a whole number >= 1, got "abc"');
    expect(() => parseEmulatorArgs(['--scenario', 'nope'])).toThrow(/unknown scenario "nope"; one of: healthy, ttft-spike/);
    expect(() => parseEmulatorArgs(['--latency', 'metrics'])).toThrow(/--latency takes PATH=MS pairs/);
    expect(() => parseEmulatorArgs(['--port'])).toThrow(/--port/);
    expect(parseEmulatorArgs(['--crash-prompt-tokens', '769', '--tp', '2', '--crash-dump-folder', '/d'])).toMatchObject({ crashPromptTokens: 769, tpSize: 2, crashDumpFolder: '/d', port: 30000 });
  });
});
