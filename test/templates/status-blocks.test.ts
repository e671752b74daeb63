import { describe, expect, it } from 'vitest';
import { statusMessage, type StatusView } from '../../templates/status-blocks.js';
import { blockProblems } from '../helpers/fake-slack.js';

const BASE: StatusView = {
  incidentId: 'inc-20261128-0116-prod-a-3f9c',
  server: 'prod-a',
  host: 'gpu-1',
  pipeline: 'capture',
  jobState: 'running',
  steps: [
    { step: 'capture baseline bundle', state: 'done', detail: '8/8 endpoints ok in 1.2 s', at: '2026-11-28T01:16:05.000Z' },
    { step: 'route', state: 'started', at: '2026-11-28T01:16:06.000Z' },
  ],
  at: '2026-11-28T01:16:06.500Z',
};

describe('live status message', () => {
  it.each([
    ['queued', { ...BASE, jobState: 'queued' as const, steps: [] }],
    ['running', BASE],
    ['retrying', { ...BASE, jobState: 'retrying' as const, attempt: 2, failure: 'connect ECONNREFUSED 10.0.0.5:30000' }],
    ['done', { ...BASE, jobState: 'done' as const, steps: BASE.steps.map((s) => ({ ...s, state: 'done' as const })) }],
    ['failed', { ...BASE, jobState: 'failed' as const, attempt: 3, failure: 'step route passed its 300 s deadline' }],
  ])('%s', (_name, view) => {
    expect(statusMessage(view)).toMatchSnapshot();
  });

  it('drops the oldest steps, saying so, when the list would overflow one section', () => {
    const steps = Array.from({ length: 200 }, (_, i) => ({ step: `step ${i} ${'x'.repeat(40)}`, state: 'done' as const, detail: 'y'.repeat(60), at: BASE.at }));
    const message = statusMessage({ ...BASE, steps });
    expect(blockProblems(message.blocks)).toEqual([]);
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('earlier steps not shown');
    expect(text).toContain('step 199');
    expect(text).not.toContain('step 0 ');
  });
});
