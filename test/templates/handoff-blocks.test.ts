import { describe, expect, it } from 'vitest';
import { handoffMessage, handoffText, homeView, age, type HandoffView } from '../../templates/handoff-blocks.js';
import { incidentStatusMessage } from '../../templates/blocks-incident.js';
import { blockProblems } from '../helpers/fake-slack.js';
import { incidentRecord } from './fixtures.js';

const NOW = new Date('2026-11-28T03:20:00.000Z');
const SINCE = new Date('2026-11-27T15:20:00.000Z');
const view = (open: HandoffView['open'], resolved: HandoffView['resolved'] = []): HandoffView => ({ open, resolved, since: SINCE, now: NOW, scope: 'in <#C0OPS>' });

describe('handoff', () => {
  it('lists each open incident with where it stands', () => {
    const running = incidentRecord({ id: 'inc-20261128-0300-prod-b-0001', server: 'prod-b', host: 'gpu-2', createdAt: '2026-11-28T03:00:00.000Z', jobState: 'running', pipeline: 'replay', report: undefined, problemClass: undefined, nextSkill: undefined, steps: [{ step: 'replay on clean target', state: 'started', at: '2026-11-28T03:10:00.000Z' }], owner: 'U0BOB', severity: 'sev1', status: 'investigating', permalink: 'https://fake.slack.test/archives/C0OPS/p1700000000000009' });
    const failed = incidentRecord({ id: 'inc-20261127-2200-prod-c-0002', server: 'prod-c', status: 'failed', jobState: 'failed', failure: 'server refused connections', report: undefined, problemClass: undefined, nextSkill: undefined, createdAt: '2026-11-27T22:00:00.000Z' });
    const resolved = incidentRecord({ id: 'inc-20261127-1900-prod-d-0003', server: 'prod-d', status: 'resolved', resolvedBy: 'U0ROOT', resolvedAt: '2026-11-28T01:00:00.000Z', resolveReason: 'restarted the router' });
    expect(handoffMessage(view([incidentRecord({ owner: 'U0ALICE' }), running, failed], [resolved]))).toMatchSnapshot();
  });

  it('lists the most urgent first: sev1 before sev3 before unset, oldest first within one', () => {
    const text = JSON.stringify(handoffMessage(view([incidentRecord({ id: 'inc-a' }), incidentRecord({ id: 'inc-b', severity: 'sev3' }), incidentRecord({ id: 'inc-c', severity: 'sev1' })])).blocks);
    expect(text.indexOf('inc-c')).toBeLessThan(text.indexOf('inc-b'));
    expect(text.indexOf('inc-b')).toBeLessThan(text.indexOf('inc-a'));
  });

  it('says so when nothing is open', () => {
    const message = handoffMessage(view([]));
    expect(message.text).toContain('0 open');
    expect(JSON.stringify(message.blocks)).toContain('No open incidents');
  });

  it('counts every incident, packs several per block, stays inside 50 blocks, and the file lists them all', () => {
    const many = Array.from({ length: 5000 }, (_, i) => incidentRecord({ id: `inc-${String(i).padStart(4, '0')}`, severity: i % 7 === 0 ? 'sev2' : undefined }));
    const message = handoffMessage(view(many));
    expect(blockProblems(message.blocks)).toEqual([]);
    expect(message.complete).toBe(false);
    expect(message.text).toContain('5000 open');
    const shown = (JSON.stringify(message.blocks).match(/inc-\d{4}/g) ?? []).length;
    expect(shown).toBeGreaterThan(100);
    expect(JSON.stringify(message.blocks)).toContain(`${5000 - shown} more open incidents not shown`);
    const file = handoffText(view(many));
    for (const i of [0, 1234, 4999]) expect(file).toContain(`inc-${String(i).padStart(4, '0')} |`);
  });

  it('the App Home tab is the same handoff inside the 100 blocks a home view takes', () => {
    const many = Array.from({ length: 800 }, (_, i) => incidentRecord({ id: `inc-${i}` }));
    const home = homeView(view(many));
    expect(home.type).toBe('home');
    expect(blockProblems(home.blocks, 100)).toEqual([]);
    expect(home.blocks.length).toBeGreaterThan(50);
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
