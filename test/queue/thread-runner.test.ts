import { describe, expect, it } from 'vitest';
import { parseRegistry } from '../../src/config/servers.js';
import { TriageError } from '../../src/errors.js';
import type { StepProgress } from '../../src/pipelines/types.js';
import { silentLogger } from '../../src/queue/json-logger.js';
import { threadedRunner } from '../../src/queue/thread-runner.js';

const RUNNERS = new URL('../helpers/poisoned-runners.ts', import.meta.url);
const registry = parseRegistry('servers:\n  prod-a:\n    url: http://127.0.0.1:9\n    host: gpu-1\n', 'test');
const deps = { registry, env: {}, now: () => new Date(), logger: silentLogger };
const req = { pipeline: 'route' as const, server: { url: 'http://127.0.0.1:9' }, incidentDir: '/nonexistent/inc-x' };

describe('pipeline threads', () => {
  it('reuses a loaded thread for the next attempt', async () => {
    const run = threadedRunner({ entry: RUNNERS, exportName: 'threadIdRunner' });
    try {
      const first = await run(req, deps, new AbortController().signal, () => undefined);
      const second = await run(req, deps, new AbortController().signal, () => undefined);
      expect(Number(first.files[0])).toBeGreaterThan(0);
      expect(second.files).toEqual(first.files);
    } finally {
      await run.close();
    }
  });

  it('a coded error comes back as the same TriageError (so the queue does not retry bad input)', async () => {
    const run = threadedRunner({ entry: RUNNERS, exportName: 'badInputRunner' });
    try {
      const err = await run(req, deps, new AbortController().signal, () => undefined).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TriageError);
      expect(err).toMatchObject({ code: 'E_BAD_INPUT', message: 'crash dump is not a pickle', retryable: false });
    } finally {
      await run.close();
    }
  });

  it('a thread that never yields is killed once the grace after its abort runs out', async () => {
    const run = threadedRunner({ entry: RUNNERS, exportName: 'spinForeverRunner', abortGraceMs: 200 });
    try {
      const progress: StepProgress[] = [];
      const controller = new AbortController();
      const pending = run(req, deps, controller.signal, (p) => {
        progress.push(p);
        controller.abort(new Error('deadline'));
      });
      const err = await pending.catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'E_ABORTED', message: expect.stringContaining('did not stop within 200 ms') });
      expect(progress.map((p) => p.state)).toEqual(['started']);
    } finally {
      await run.close();
    }
  });
});
