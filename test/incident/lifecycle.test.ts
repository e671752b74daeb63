import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evidenceFingerprint, isSlackUser } from '../../src/incident/lifecycle.js';
import { IncidentStore } from '../../src/incident/store.js';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis-test.js';
import { SLOW_REPORT } from '../templates/fixtures.js';

const NEW = { server: 'prod-a', host: 'gpu-1', channel: 'C0OPS', createdBy: 'U0ALICE', pipeline: 'capture' };

describe('incident lifecycle in the store (real Redis)', () => {
  let redis: Redis;
  let prefix: string;
  let ids: string[];
  let store: IncidentStore;

  beforeEach(() => {
    redis = new Redis(REDIS_URL);
    prefix = uniquePrefix();
    ids = [];
    store = new IncidentStore({ redis, prefix, now: () => new Date(), newId: () => ids.shift() ?? `inc-${Math.random().toString(36).slice(2)}` });
  });
  afterEach(async () => {
    redis.disconnect();
    await cleanupPrefix(prefix);
  });

  it('ten people resolving at once resolve it once; a resolved incident cannot move again', async () => {
    const { incident } = await store.open(NEW, { scope: 'a', windowMs: 60_000 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.transition(incident.id, 'resolved', ['open', 'investigating', 'mitigated', 'failed'], { resolvedBy: `U${i}`, resolveReason: `reason ${i}` })));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const record = await store.require(incident.id);
    expect(record.resolveReason).toBe(`reason ${record.resolvedBy!.slice(1)}`);
    expect(await store.transition(incident.id, 'investigating', ['open', 'failed', 'mitigated'])).toEqual({ ok: false, from: 'resolved' });
    expect(await store.countActive()).toBe(0);
    expect((await store.listResolvedSince(new Date(Date.now() - 60_000))).map((i) => i.id)).toEqual([incident.id]);
  });

  it('the first responder owns it; /triage own takes it over', async () => {
    const { incident } = await store.open({ ...NEW, createdBy: 'alertmanager' }, { scope: 'a', windowMs: 60_000 });
    const owners = await Promise.all(['U0A', 'U0B', 'U0C'].map((u) => store.setOwner(incident.id, u, { onlyIfUnset: true })));
    expect(new Set(owners).size).toBe(1);
    expect(await store.setOwner(incident.id, 'U0D')).toBe('U0D');
    expect(await store.setOwner('inc-missing', 'U0D')).toBeNull();
  });

  it('a repeat capture joins an incident that is being investigated or mitigated, not a resolved one', async () => {
    const first = await store.open(NEW, { scope: 'a', windowMs: 60_000 });
    await store.transition(first.incident.id, 'mitigated', ['open']);
    expect((await store.open(NEW, { scope: 'a', windowMs: 60_000 })).incident.id).toBe(first.incident.id);
    await store.transition(first.incident.id, 'resolved', ['mitigated']);
    expect((await store.open(NEW, { scope: 'a', windowMs: 60_000 })).created).toBe(true);
  });

  it('a job on an investigated incident keeps its state; on a failed one it reopens it', async () => {
    const { incident } = await store.open(NEW, { scope: 'a', windowMs: 60_000 });
    await store.transition(incident.id, 'investigating', ['open']);
    await store.beginJob(incident.id, 'route');
    expect((await store.require(incident.id)).status).toBe('investigating');
    await store.update(incident.id, { status: 'failed' });
    await store.beginJob(incident.id, 'capture');
    expect((await store.require(incident.id)).status).toBe('open');
  });

  it('an id drawn twice never overwrites the first incident', async () => {
    ids = ['inc-same', 'inc-same', 'inc-other'];
    const a = await store.open(NEW, { scope: 'a', windowMs: 60_000 });
    const b = await store.open({ ...NEW, channel: 'C0B' }, { scope: 'b', windowMs: 60_000 });
    expect([a.incident.id, b.incident.id]).toEqual(['inc-same', 'inc-other']);
    expect((await store.require('inc-same')).channel).toBe('C0OPS');
  });
});

describe('evidence fingerprint', () => {
  it('is the same for the same evidence in any key order, and differs when the evidence does', () => {
    const reordered = { ...SLOW_REPORT, facts: Object.fromEntries(Object.entries(SLOW_REPORT.facts).reverse()), checked: ['different wording of what was checked'] };
    expect(evidenceFingerprint(reordered)).toBe(evidenceFingerprint(SLOW_REPORT));
    expect(evidenceFingerprint({ ...SLOW_REPORT, evidence: [...SLOW_REPORT.evidence, { file: 'replay/replay.json', fact: 'reproduced' }] })).not.toBe(evidenceFingerprint(SLOW_REPORT));
    expect(evidenceFingerprint({ ...SLOW_REPORT, problemClass: 'hang' })).not.toBe(evidenceFingerprint(SLOW_REPORT));
  });

  it('only Slack user ids count as people', () => {
    expect([isSlackUser('U0ALICE'), isSlackUser('W123'), isSlackUser('alertmanager'), isSlackUser('<@U1>')]).toEqual([true, true, false, false]);
  });
});
