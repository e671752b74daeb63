/** Issue 8.3: the CLI conventions people expect, checked on the built binary and in-process. */
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES } from '../../src/cli/help.js';
import { colorWanted } from '../../src/cli/io.js';
import { FIXTURES, REPO_ROOT, withTempDir } from '../helpers/tmp.js';
import { runCli } from './run-cli.js';

const BIN = path.join(REPO_ROOT, 'bin', 'triage.js');
const VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The built CLI with stdout going to a real file, as `triage … > out.txt` does. */
function triageToFile(args: string[], outFile: string, env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const fd = openSync(outFile, 'w');
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', fd, 'pipe'], env: { PATH: process.env.PATH ?? '', ...env } });
  closeSync(fd);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

async function crashFolder(tmp: string): Promise<string> {
  const inc = path.join(tmp, 'inc');
  await mkdir(inc, { recursive: true });
  await copyFile(path.join(FIXTURES, 'handmade', 'device-assert.log'), path.join(inc, 'server.log'));
  return inc;
}

const PARSER_INTERNALS = /ERR_PARSE_ARGS|To specify a positional argument|argument is ambiguous|Option '--|Unknown option '/;

describe('stdout is the report, stderr is progress', () => {
  it('`triage route inc > r.txt` leaves the whole report in r.txt and nothing of it on stderr', async () => {
    await withTempDir(async (tmp) => {
      const inc = await crashFolder(tmp);
      const out = path.join(tmp, 'r.txt');
      const r = await triageToFile(['route', inc], out);
      expect(r.code, r.stderr).toBe(0);
      const text = readFileSync(out, 'utf8');
      expect(text).toMatch(/^problem class: +\S+/m);
      expect(text).toMatch(/^next skill: +\S+/m);
      expect(text).toContain(`report: ${path.join(inc, 'report.json')}`);
      expect(r.stderr).not.toMatch(/problem class/);
    });
  });

  it('--json is still exactly one JSON document on stdout', async () => {
    await withTempDir(async (tmp) => {
      const inc = await crashFolder(tmp);
      const r = await runCli(['route', inc, '--json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).problemClass).toBeTruthy();
    });
  });
});

describe('--version and --help', () => {
  it('triage --version prints package.json version on stdout', async () => {
    const r = await runCli(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it.each(COMMAND_NAMES)('triage %s --help: usage and details on stdout, exit 0, same as `triage help <command>`', async (name) => {
    const flag = await runCli([name, '--help']);
    expect(flag.code, flag.stderr).toBe(0);
    expect(flag.stdout).toMatch(new RegExp(`^usage: triage ${name}\\b`));
    expect(flag.stdout.split('\n').length).toBeGreaterThan(3);
    expect(flag.stderr).toBe('');
    expect(await runCli(['help', name])).toEqual(flag);
    expect((await runCli([name, '-h'])).stdout).toBe(flag.stdout);
  });

  it('--help wins over other arguments and needs no config (no servers.yaml, no target)', async () => {
    const r = await runCli(['replay', '--help', '--servers', '/nonexistent.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: triage replay/);
  });

  it('no arguments: the usage on stderr and exit 2; `triage help`: on stdout and exit 0', async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/usage:/);
    const help = await runCli(['help']);
    expect(help.code).toBe(0);
    for (const name of COMMAND_NAMES) expect(help.stdout).toContain(`  ${name} `);
  });
});

describe('did you mean', () => {
  it('a mistyped subcommand', async () => {
    const r = await runCli(['captrue', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Did you mean "capture"?');
    expect((await runCli(['rout'])).stderr).toContain('Did you mean "route"?');
    expect((await runCli(['zzzzzz'])).stderr).not.toContain('Did you mean');
  });

  it('with --json, every usage error is still one JSON document on stdout', async () => {
    for (const argv of [['captrue', '--json'], ['route', 'x', '--jsno', '--json'], ['dump', '--json']]) {
      const r = await runCli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'E_USAGE' } });
    }
  });

  it('a mistyped flag, for every subcommand, without parser internals', async () => {
    const cases: Array<[string[], string]> = [
      [['route', 'x', '--jsno'], '--json'],
      [['capture', 'x', '--timout', '3'], '--timeout'],
      [['replay', 'x', '--paralel', '4'], '--parallel'],
      [['dump', 'x', '--ot', 'd'], '--out'],
      [['run', 'auto', 'x', '--servrs', 's.yaml'], '--servers'],
    ];
    for (const [argv, flag] of cases) {
      const r = await runCli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toContain(`Did you mean ${flag}?`);
      expect(r.stderr).not.toMatch(PARSER_INTERNALS);
    }
  });

  it('other command-line mistakes say what is wrong in our words', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['dump', 'x', '--out'], /--out needs a value/],
      [['replay', 'x', '--target', '--json'], /--target needs a value/],
      [['route', 'x', '--json=yes'], /--json takes no value/],
      [['route', 'x', '-q'], /unknown option -q/],
    ];
    for (const [argv, message] of cases) {
      const r = await runCli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/usage: triage /);
      expect(r.stderr).not.toMatch(PARSER_INTERNALS);
    }
  });

  it('a mistyped server name, in capture and in replay --target', async () => {
    await withTempDir(async (tmp) => {
      const yaml = path.join(tmp, 'servers.yaml');
      await writeFile(yaml, 'servers:\n  prod-a:\n    url: http://127.0.0.1:9\n    host: gpu-1\n  prod-b:\n    url: http://127.0.0.1:9\n    host: gpu-1\n  staging:\n    url: http://127.0.0.1:9\n    host: gpu-1\n');
      const capture = await runCli(['capture', 'prdo-a', '--servers', yaml]);
      expect(capture.code).toBe(2);
      expect(capture.stderr).toMatch(/unknown server "prdo-a"\. Did you mean "prod-a"/);
      const replay = await runCli(['replay', 'd.pkl', '--target', 'stagign'], { environment: { TRIAGE_SERVERS: yaml } });
      expect(replay.code).toBe(2);
      expect(replay.stderr).toContain('Did you mean "staging"?');
    });
  });
});

describe('colour', () => {
  it('only on a TTY, never with NO_COLOR or TERM=dumb', () => {
    expect(colorWanted({ isTTY: true }, {})).toBe(true);
    expect(colorWanted({ isTTY: false }, {})).toBe(false);
    expect(colorWanted({}, {})).toBe(false);
    expect(colorWanted({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorWanted({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });

  it('an error on a TTY is coloured; with NO_COLOR, or piped, it is plain text', async () => {
    const tty = await runCli(['captrue'], { tty: true });
    expect(tty.stderr).toContain('\x1b[31mtriage:\x1b[39m');
    const noColor = await runCli(['captrue'], { tty: true, environment: { NO_COLOR: '1' } });
    expect(noColor.stderr).not.toContain('\x1b[');
    const piped = await runCli(['captrue']);
    expect(piped.stderr).not.toContain('\x1b[');
  });

  it('the built CLI writes no escape codes into a redirected report', async () => {
    await withTempDir(async (tmp) => {
      const inc = await crashFolder(tmp);
      const out = path.join(tmp, 'r.txt');
      await triageToFile(['route', inc], out, { FORCE_COLOR: '1' });
      expect(readFileSync(out, 'utf8')).not.toContain('\x1b[');
    });
  });
});
