/** runStep: every step ends by its deadline, even one that never looks at its signal. */
import { describe, expect, it } from 'vitest';
import type { StepProgress } from '../../src/contracts/progress.js';
import { runStep } from '../../src/pipelines/run-step.js';

const host = (signal: AbortSignal, seen: StepProgress[]) => ({ signal, now: () => new Date(), emit: async (p: StepProgress) => void seen.push(p) });

describe('runStep', () => {
  it('a step that ignores its signal and never settles still fails with E_TIMEOUT at its deadline, and its signal is aborted', async () => {
    const seen: StepProgress[] = [];
    let stepSignal: AbortSignal | undefined;
    const never = (s: AbortSignal) => {
      stepSignal = s;
      return new Promise<string>(() => undefined);
    };
    await expect(runStep('stubborn', host(new AbortController().signal, seen), 50, never)).rejects.toMatchObject({ code: 'E_TIMEOUT', message: 'step stubborn passed its 0.1 s deadline' });
    expect(stepSignal?.aborted).toBe(true);
    expect(seen.map((p) => p.state)).toEqual(['started', 'failed']);
    expect(seen[0]?.deadline).toBeTruthy();
  });

  it("the caller's abort ends a step that ignores it, as E_ABORTED", async () => {
    const ac = new AbortController();
    const run = runStep('stubborn', host(ac.signal, []), 60_000, () => new Promise<string>(() => undefined));
    ac.abort(new Error('operator pressed Ctrl-C'));
    await expect(run).rejects.toMatchObject({ code: 'E_ABORTED' });
  });

  it('a step that finishes in time reports done with its detail', async () => {
    const seen: StepProgress[] = [];
    await expect(runStep('quick', host(new AbortController().signal, seen), 1000, async () => 42, (v) => `got ${v}`)).resolves.toBe(42);
    expect(seen.at(-1)).toMatchObject({ step: 'quick', state: 'done', detail: 'got 42' });
  });
});
