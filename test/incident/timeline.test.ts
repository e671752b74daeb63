import { describe, expect, it } from 'vitest';
import { applyStep, stepEntry, whereItStands } from '../../src/incident/timeline.js';
import { incidentRecord } from '../templates/fixtures.js';

describe('steps and where an incident stands', () => {
  it('a step keeps its place while its state moves on', () => {
    let steps = applyStep([], { step: 'capture', state: 'started', at: 't1' });
    steps = applyStep(steps, { step: 'route', state: 'started', at: 't2' });
    steps = applyStep(steps, { step: 'capture', state: 'done', detail: '8/8 ok', at: 't3' });
    expect(steps).toEqual([
      { step: 'capture', state: 'done', detail: '8/8 ok', at: 't3' },
      { step: 'route', state: 'started', at: 't2' },
    ]);
  });

  it('turns progress into a timeline entry', () => {
    expect(stepEntry({ step: 'route', state: 'failed', detail: 'boom', at: 't' }, 'capture')).toEqual({ at: 't', kind: 'step', pipeline: 'capture', step: 'route', state: 'failed', text: 'route: failed (boom)' });
  });

  it.each([
    [{ jobState: 'done' as const }, 'routed: slow → llm-torch-profiler-analysis'],
    [{ jobState: 'queued' as const, pipeline: 'replay' }, 'replay queued on gpu-1; last verdict slow → llm-torch-profiler-analysis'],
    [{ jobState: 'running' as const, attempt: 2, steps: [{ step: 'replay', state: 'started' as const, at: 't' }] }, 'capture running (attempt 2): replay started'],
    [{ jobState: 'failed' as const, failure: 'refused', problemClass: undefined, nextSkill: undefined }, 'capture failed: refused'],
    [{ status: 'resolved' as const }, 'resolved'],
  ])('%o', (patch, expected) => {
    expect(whereItStands(incidentRecord(patch))).toBe(expected);
  });
});
