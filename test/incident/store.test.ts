import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IncidentStore } from '../../src/incident/store.js';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis-test.js';
import { SLOW_REPORT } from '../templates/fixtures.js';

const NEW = { server: 'prod-a', host: 'gpu-1', channel: 'C0OPS', createdBy: 'U0ALICE', pipeline: 'capture' };

describe('incident store (real Redis)', () => {
  let redis: Redis;
  let prefix: string;
  let clock: number;
  let store: IncidentStore;
  let seq = 0;

  beforeEach(() => {
    redis = new Redis(REDIS_URL);
    prefix = uniquePrefix();
    clock = Date.parse('2026-11-28T01:16:00Z');
    store = new IncidentStore({ redis, prefix, now: () => new Date(clock), newId: (server) => `inc-test-${server}-${++seq}` });
  });
  afterEach(async () => {
    redis.disconnect();
    await cleanupPrefix(prefix);
  });

  it('opens an incident and reads it back with its timeline', async () => {
    const { incident, created } = await store.open(NEW, { scope: 'prod-a', windowMs: 600_000 });
    expect(created).toBe(true);
    expect(incident).toMatchObject({ ...NEW, status: 'open', createdAt: '2026-11-28T01:16:00.000Z', steps: [], artifacts: [] });
    expect(incident.timeline).toEqual([expect.objectContaining({ kind: 'created', by: 'U0ALICE' })]);
    expect(await store.newestInChannel('C0OPS')).toMatchObject({ id: incident.id });
    expect((await store.listActive()).map((i) => i.id)).toEqual([incident.id]);
  });

  it('joins the open incident for the same scope + pipeline inside the window, even when triggered concurrently', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => store.open(NEW, { scope: 'prod-a', windowMs: 600_000 })));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.incident.id)).size).toBe(1);
    const other = await store.open({ ...NEW, server: 'prod-b' }, { scope: 'prod-b', windowMs: 600_000 });
    expect(other.created).toBe(true);
  });

  it('starts a new incident once the window passed or the open one was resolved', async () => {
    const first = await store.open(NEW, { scope: 'prod-a', windowMs: 80 });
    await new Promise((r) => setTimeout(r, 150));
    const second = await store.open(NEW, { scope: 'prod-a', windowMs: 600_000 });
    expect(second.created).toBe(true);
    expect(second.incident.id).not.toBe(first.incident.id);
    await store.update(second.incident.id, { status: 'resolved', resolvedBy: 'U0BOB' });
    const third = await store.open(NEW, { scope: 'prod-a', windowMs: 600_000 });
    expect(third.created).toBe(true);
    expect((await store.listActive()).map((i) => i.id)).toEqual([first.incident.id, third.incident.id]);
  });

  it('begins one job per pipeline at a time and numbers job ids per incident', async () => {
    const { incident } = await store.open(NEW, { scope: 'prod-a', windowMs: 600_000 });
    const a = await store.beginJob(incident.id, 'capture');
    const again = await store.beginJob(incident.id, 'capture');
    expect(a).toEqual({ outcome: 'started', jobId: `${incident.id}.capture.1` });
    expect(again).toEqual({ outcome: 'joined', jobId: `${incident.id}.capture.1` });
    const route = await store.beginJob(incident.id, 'route');
    expect(route).toEqual({ outcome: 'started', jobId: `${incident.id}.route.2` });
    await store.updateForJob(incident.id, `${incident.id}.route.2`, { jobState: 'done' });
    expect(await store.beginJob(incident.id, 'route')).toEqual({ outcome: 'started', jobId: `${incident.id}.route.3` });
    expect(await store.beginJob('inc-missing', 'route')).toEqual({ outcome: 'missing' });
    await store.update(incident.id, { status: 'resolved' });
    expect(await store.beginJob(incident.id, 'replay')).toEqual({ outcome: 'resolved' });
  });

  it('ignores job-state writes from a superseded job but keeps the newest verdict', async () => {
    const { incident } = await store.open(NEW, { scope: 'prod-a', windowMs: 600_000 });
    const old = await store.beginJob(incident.id, 'capture');
    const current = await store.beginJob(incident.id, 'route');
    expect(old.outcome === 'started' && current.outcome === 'started').toBe(true);
    if (old.outcome !== 'started' || current.outcome !== 'started') return;
    expect(await store.updateForJob(incident.id, old.jobId, { jobState: 'failed', failure: 'late' })).toBe(false);
    expect(await store.updateForJob(incident.id, current.jobId, { jobState: 'running', steps: [{ step: 'route', state: 'started', at: 'x' }] })).toBe(true);
    await store.update(incident.id, { report: SLOW_REPORT, problemClass: 'slow', nextSkill: 'llm-torch-profiler-analysis' });
    const read = await store.require(incident.id);
    expect(read).toMatchObject({ jobId: current.jobId, jobState: 'running', problemClass: 'slow', report: SLOW_REPORT });
    expect(read.failure).toBeUndefined();
    expect(read.steps).toEqual([{ step: 'route', state: 'started', at: 'x' }]);
  });

  it('never resurrects a deleted incident from a late update', async () => {
    expect(await store.update('inc-gone', { jobState: 'done' })).toBe(false);
    expect(await redis.exists(store.keys.incident('inc-gone'))).toBe(0);
    await expect(store.require('inc-gone')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });

  it('caps the timeline and hands out each claim once', async () => {
    const small = new IncidentStore({ redis, prefix, now: () => new Date(clock), timelineLimit: 5, newId: () => 'inc-capped' });
    const { incident } = await small.open(NEW, { scope: 'x', windowMs: 1000 });
    for (let i = 0; i < 12; i++) await small.append(incident.id, { kind: 'step', text: `step ${i}` });
    const timeline = (await small.require(incident.id)).timeline;
    expect(timeline.map((t) => t.text)).toEqual(['step 7', 'step 8', 'step 9', 'step 10', 'step 11']);
    expect((await small.require(incident.id, { timeline: 2 })).timeline.map((t) => t.text)).toEqual(['step 10', 'step 11']);
    expect((await small.require(incident.id, { timeline: false })).timeline).toEqual([]);
    const claims = await Promise.all(Array.from({ length: 5 }, () => small.claim(incident.id, 'posted:job-1')));
    expect(claims.filter(Boolean)).toHaveLength(1);
    await small.releaseClaim(incident.id, 'posted:job-1');
    expect(await small.claim(incident.id, 'posted:job-1')).toBe(true);
  });

  it('keeps its keys under <prefix>:@ so no host queue (<prefix>:<host>:*) can collide', async () => {
    await store.open(NEW, { scope: 'prod-a', windowMs: 1000 });
    const keys = await redis.keys(`${prefix}:*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.startsWith(`${prefix}:@`))).toBe(true);
  });
});
