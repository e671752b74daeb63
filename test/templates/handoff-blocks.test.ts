import { describe, expect, it } from 'vitest';
import { handoffMessage, age } from '../../templates/handoff-blocks.js';
import { incidentStatusMessage } from '../../templates/blocks-incident.js';
import { blockProblems } from '../helpers/fake-slack.js';
import { incidentRecord } from './fixtures.js';

const NOW = new Date('2026-11-28T03:20:00.000Z');

describe('handoff', () => {
  it('lists each open incident with where it stands', () => {
    const running = incidentRecord({ id: 'inc-20261128-0300-prod-b-0001', server: 'prod-b', host: 'gpu-2', createdAt: '2026-11-28T03:00:00.000Z', jobState: 'running', pipeline: 'replay', report: undefined, problemClass: undefined, nextSkill: undefined, steps: [{ step: 'replay on clean target', state: 'started', at: '2026-11-28T03:10:00.000Z' }] });
    const failed = incidentRecord({ id: 'inc-20261127-2200-prod-c-0002', server: 'prod-c', status: 'failed', jobState: 'failed', failure: 'server refused connections', report: undefined, problemClass: undefined, nextSkill: undefined, createdAt: '2026-11-27T22:00:00.000Z' });
    expect(handoffMessage([incidentRecord(), running, failed], NOW)).toMatchSnapshot();
  });

  it('says so when nothing is open', () => {
    expect(handoffMessage([], NOW).text).toBe('No open incidents.');
  });

  it('stays inside 50 blocks with many incidents', () => {
    const many = Array.from({ length: 120 }, (_, i) => incidentRecord({ id: `inc-${i}` }));
    const message = handoffMessage(many, NOW);
    expect(blockProblems(message.blocks)).toEqual([]);
    expect(JSON.stringify(message.blocks)).toContain('75 more not shown');
  });

  it('ages read as minutes, hours, days', () => {
    expect([age('2026-11-28T03:15:00Z', NOW), age('2026-11-28T00:05:00Z', NOW), age('2026-11-20T00:00:00Z', NOW)]).toEqual(['5 min', '3 h 15 min', '8 d']);
  });
});

describe('/triage status', () => {
  it('shows one incident in full', () => {
    expect(incidentStatusMessage(incidentRecord(), NOW)).toMatchSnapshot();
  });

  it('keeps a long timeline inside the limits', () => {
    const timeline = Array.from({ length: 500 }, (_, i) => ({ at: '2026-11-28T01:16:00.000Z', kind: 'step' as const, text: `step ${i}: ${'z'.repeat(300)}` }));
    const message = incidentStatusMessage(incidentRecord({ timeline }), NOW);
    expect(blockProblems(message.blocks)).toEqual([]);
    expect(JSON.stringify(message.blocks)).toContain('(newest 12)');
  });
});
