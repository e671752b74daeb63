/** The command builders' own contract: what is data is quoted, what is syntax must be ours. */
import { describe, expect, it } from 'vitest';
import { isCleanTargetStart, startCleanTargetCommand } from '../../src/triage/next-commands.js';
import type { RouteContext } from '../../src/triage/rule.js';
import { command, fixedNote, glob, interpolated, note, parseSimpleCommand, pathArg, shellVar } from '../../src/triage/shell.js';
import { makeSandbox } from './sandbox.js';

const ctx = (replayLaunch: string): RouteContext => ({ root: '/i', incidentDir: '/i', server: { url: 'http://h:1', replayLaunch } });

describe('shell builders', () => {
  it('comments, globs, variables and env names refuse anything that is not ours', () => {
    expect(() => fixedNote('ok\nrm -rf /')).toThrow(/misuse/);
    expect(() => fixedNote('esc \x1b[2J')).toThrow(/misuse/);
    expect(note`threshold ${100} ${null}`.text).toBe('threshold 100 n/a');
    expect(() => glob('/d', '*.pkl; pwned')).toThrow(/misuse/);
    expect(() => glob('/d', '/etc/*')).toThrow(/misuse/);
    expect(() => shellVar('a b')).toThrow(/misuse/);
    expect(() => command(['x'], { env: { 'A;B': '1' } })).toThrow(/misuse/);
  });

  it('renders data as single-quoted words, a glob as quoted folder + our pattern, a header with the env NAME', () => {
    expect(command(['cp', glob("/data/it's here", '*/crash_dump_*.pkl'), pathArg('-rf')])).toBe(`cp '/data/it'\\''s here'/*/crash_dump_*.pkl ./-rf`);
    expect(command(['curl', '-H', interpolated('Authorization: Bearer ', shellVar('ADMIN_KEY'))])).toBe('curl -H "Authorization: Bearer $ADMIN_KEY"');
    expect(command(['x', interpolated('a$`"\\', shellVar('V'), 'b')])).toBe('x "a\\$\\`\\"\\\\${V}b"');
  });

  it('reads a launch line as one simple command, or declines so it runs untouched under sh -c', () => {
    expect(parseSimpleCommand(`CUDA_VISIBLE_DEVICES=1 python -m sglang.launch_server --model-path '/m/a b' --api-key "k\\"x"`)).toEqual({
      env: { CUDA_VISIBLE_DEVICES: '1' },
      argv: ['python', '-m', 'sglang.launch_server', '--model-path', '/m/a b', '--api-key', 'k"x'],
    });
    for (const line of ['cd /srv && python x', 'python $HOME/x', 'python "$(id)"', 'python x # c', 'python *.py', 'python x > log', '~/bin/sglang']) expect(parseSimpleCommand(line), line).toBeNull();
    expect(startCleanTargetCommand(ctx('cd /srv && python -m sglang.launch_server'), { A: '1' }, ['--port', '31000'])).toBe(`A=1 sh -c 'cd /srv && python -m sglang.launch_server "$@"' launch --port 31000`);
  });

  it('a secret redacted out of the launch is asked for at run time, and the line still parses', () => {
    const line = startCleanTargetCommand(ctx('python -m sglang.launch_server --api-key <redacted> --port 31000'))!;
    expect(line).not.toContain('<redacted>');
    const sb = makeSandbox();
    return sb.then(async (s) => {
      try {
        // Not a simple command any more ("$…"): it runs under sh -c; run that inner script with the real sh.
        const inner = s.run(line).calls.find((c) => c.tool === 'sh')!.argv[1]!;
        expect(inner).toContain('${LAUNCH_SECRET:?');
        const unset = s.run(inner);
        expect(unset.calls.filter((c) => c.tool === 'python')).toEqual([]);
        expect(unset.stderr).toMatch(/LAUNCH_SECRET/);
        const set = s.run(inner, { LAUNCH_SECRET: 'sk-1' });
        expect(set.calls.find((c) => c.tool === 'python')!.argv).toEqual(['-m', 'sglang.launch_server', '--api-key', 'sk-1', '--port', '31000']);
      } finally {
        await s.cleanup();
      }
    });
  });

  it('isCleanTargetStart knows the launch with our env prefix and tags, and nothing else', () => {
    const c = ctx('python -m sglang.launch_server --model-path /m --port 31000');
    const start = startCleanTargetCommand(c, { NCCL_DEBUG: 'INFO', CUDA_COREDUMP_FILE: "/i/a b/x" })!;
    expect(isCleanTargetStart(c, `${start}  # on the GPU host`)).toBe(true);
    expect(isCleanTargetStart(c, startCleanTargetCommand(c, {}, [], ['compute-sanitizer', '--tool', 'memcheck'])!)).toBe(false);
    expect(isCleanTargetStart(c, '# python -m sglang.launch_server --model-path /m --port 31000')).toBe(false);
  });
});
