import type { Redis } from 'ioredis';
import { TriageError } from '../errors.js';
import { newIncidentId } from './layout.js';
import { incidentKeys, type IncidentKeys } from './keys.js';
import {
  incidentHashSchema,
  timelineEntrySchema,
  type IncidentPatch,
  type IncidentRecord,
  type IncidentStatus,
  type IncidentTimelineEntry,
  type NewIncident,
} from './types.js';

export interface IncidentStoreOptions {
  redis: Redis;
  /** Key prefix shared with the queues (TRIAGE_QUEUE_PREFIX). */
  prefix: string;
  now: () => Date;
  newId?: (server: string, now: Date) => string;
  /** Newest entries kept per incident timeline. */
  timelineLimit?: number;
}

export interface OpenResult {
  incident: IncidentRecord;
  /** false: a trigger for the same scope + pipeline inside the window joined this open incident. */
  created: boolean;
}

/**
 * Creates the incident unless one for the same scope + pipeline is still open inside the window.
 * Atomic, so two bots (or a Slack retry racing the original) can never open two incidents.
 * The dedupe key only points at an incident; the incident's own status decides whether to join.
 */
const OPEN_OR_JOIN = `
local current = redis.call('GET', KEYS[1])
if current then
  local status = redis.call('HGET', ARGV[3] .. current, 'status')
  if status == 'open' or status == 'investigating' or status == 'mitigated' then return {current, 0} end
end
-- Ids carry 16 random bits per server and minute: an alert burst can draw one twice. Never overwrite.
if redis.call('EXISTS', KEYS[2]) == 1 then return {ARGV[1], 2} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('HSET', KEYS[2], unpack(ARGV, 5))
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -201)
return {ARGV[1], 1}
`;

/** HSET only on an incident that exists: a late worker update must not resurrect half a record. */
const UPDATE_EXISTING = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`;

/**
 * Points the incident at a new job unless a job of the same pipeline is still queued or running
 * (then that job is the answer). Job ids are `<incident>.<pipeline>.<n>`, n counting per incident.
 */
const BEGIN_JOB = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'', 'missing'} end
local f = redis.call('HMGET', KEYS[1], 'status', 'pipeline', 'jobState', 'jobId')
if f[1] == 'resolved' then return {'', 'resolved'} end
if f[4] and f[2] == ARGV[1] and (f[3] == 'queued' or f[3] == 'running' or f[3] == 'retrying') then return {f[4], 'joined'} end
local seq = redis.call('HINCRBY', KEYS[1], 'jobSeq', 1)
local jobId = ARGV[2] .. '.' .. ARGV[1] .. '.' .. seq
redis.call('HSET', KEYS[1], 'jobId', jobId, 'pipeline', ARGV[1], 'jobState', 'queued', 'steps', '[]', 'attempt', '1', 'failure', '', 'updatedAt', ARGV[3])
-- A failed incident that someone works on again is open again; a person's state stands.
if f[1] == 'failed' then redis.call('HSET', KEYS[1], 'status', 'open') end
return {jobId, 'started'}
`;

/** HSET only while the incident's current job is this one: a superseded job must not overwrite the newer one's state. */
const UPDATE_FOR_JOB = `
if redis.call('HGET', KEYS[1], 'jobId') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
`;

/**
 * Moves the incident to ARGV[1] only from one of the states listed after the fields: a resolve
 * racing another resolve (two people, a redelivered button) happens once. Returns the old state.
 */
const TRANSITION = `
local from = redis.call('HGET', KEYS[1], 'status')
if not from then return {0, ''} end
local n = tonumber(ARGV[1])
for i = 2, n + 1 do
  if ARGV[i] == from then
    redis.call('HSET', KEYS[1], unpack(ARGV, n + 2))
    return {1, from}
  end
end
return {0, from}
`;

/** Sets the owner; with ARGV[2] = '1' only when nobody owns it yet (the first responder). Returns the owner now. */
const SET_OWNER = `
if redis.call('EXISTS', KEYS[1]) == 0 then return '' end
local current = redis.call('HGET', KEYS[1], 'owner')
if ARGV[2] == '1' and current and current ~= '' then return current end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'updatedAt', ARGV[3])
return ARGV[1]
`;

export type Transition = { ok: true; from: IncidentStatus } | { ok: false; from: IncidentStatus | null };

export type BeginJob = { outcome: 'started'; jobId: string } | { outcome: 'joined'; jobId: string } | { outcome: 'missing' } | { outcome: 'resolved' };

export class IncidentStore {
  readonly keys: IncidentKeys;
  private readonly redis: Redis;
  private readonly now: () => Date;
  private readonly newId: (server: string, now: Date) => string;
  private readonly timelineLimit: number;

  constructor(options: IncidentStoreOptions) {
    this.redis = options.redis;
    this.keys = incidentKeys(options.prefix);
    this.now = options.now;
    this.newId = options.newId ?? ((server, now) => newIncidentId(server, now));
    this.timelineLimit = options.timelineLimit ?? 500;
  }

  async open(input: NewIncident, dedupe: { scope: string; windowMs: number }): Promise<OpenResult> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const opened = await this.tryOpen(input, dedupe);
      if (opened) return opened;
    }
    throw new TriageError('E_TRANSIENT', `could not draw a free incident id for ${input.server}`);
  }

  /** null: the drawn id was taken (another incident of the same server and minute). */
  private async tryOpen(input: NewIncident, dedupe: { scope: string; windowMs: number }): Promise<OpenResult | null> {
    const now = this.now();
    const id = this.newId(input.server, now);
    const at = now.toISOString();
    const fields = { id, ...input, status: 'open', createdAt: at, updatedAt: at };
    const reply = (await this.redis.eval(
      OPEN_OR_JOIN,
      4,
      this.keys.dedupe(dedupe.scope, input.pipeline),
      this.keys.incident(id),
      this.keys.active,
      this.keys.channel(input.channel),
      id,
      String(dedupe.windowMs),
      this.keys.incidentPrefix,
      String(now.getTime()),
      ...Object.entries(fields).flat(),
    )) as [string, number];
    const [resolvedId, created] = reply;
    if (created === 2) return null;
    if (created === 1) await this.append(resolvedId, { kind: 'created', text: `${input.pipeline} on ${input.server} asked for`, by: input.createdBy, pipeline: input.pipeline });
    return { incident: await this.require(resolvedId), created: created === 1 };
  }

  /** `timeline`: false skips it (hot paths that need only the fields), a number reads only the newest entries. */
  async get(id: string, options: { timeline?: boolean | number } = {}): Promise<IncidentRecord | null> {
    const newest = typeof options.timeline === 'number' ? -options.timeline : 0;
    const [hash, timeline] = await Promise.all([
      this.redis.hgetall(this.keys.incident(id)),
      options.timeline === false ? Promise.resolve([]) : this.redis.lrange(this.keys.timeline(id), newest, -1),
    ]);
    if (!hash.id) return null;
    const parsed = incidentHashSchema.safeParse(hash);
    if (!parsed.success) throw new TriageError('E_BAD_INPUT', `incident ${id} in Redis is malformed: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return fromHash(parsed.data, timeline);
  }

  async require(id: string, options: { timeline?: boolean | number } = {}): Promise<IncidentRecord> {
    const incident = await this.get(id, options);
    if (!incident) throw new TriageError('E_NOT_FOUND', `no incident ${id}`);
    return incident;
  }

  /** Sets fields on an existing incident; false when it does not exist. */
  async update(id: string, patch: IncidentPatch): Promise<boolean> {
    const done = await this.redis.eval(UPDATE_EXISTING, 1, this.keys.incident(id), ...encodePatch(patch, this.now()));
    if (done === 1 && patch.status) await this.trackStatus(id, patch.status);
    return done === 1;
  }

  async beginJob(id: string, pipeline: string): Promise<BeginJob> {
    const [jobId, outcome] = (await this.redis.eval(BEGIN_JOB, 1, this.keys.incident(id), pipeline, id, this.now().toISOString())) as [string, BeginJob['outcome']];
    if (outcome === 'started') {
      await this.trackStatus(id, 'open');
      return { outcome, jobId };
    }
    if (outcome === 'joined') return { outcome, jobId };
    return outcome === 'resolved' ? { outcome } : { outcome: 'missing' };
  }

  /** Like update(), but only while `jobId` is still the incident's current job. */
  async updateForJob(id: string, jobId: string, patch: IncidentPatch): Promise<boolean> {
    return (await this.redis.eval(UPDATE_FOR_JOB, 1, this.keys.incident(id), jobId, ...encodePatch(patch, this.now()))) === 1;
  }

  async append(id: string, entry: Omit<IncidentTimelineEntry, 'at'> & { at?: string }): Promise<void> {
    const line = JSON.stringify({ at: entry.at ?? this.now().toISOString(), ...entry });
    await this.redis.multi().rpush(this.keys.timeline(id), line).ltrim(this.keys.timeline(id), -this.timelineLimit, -1).exec();
  }

  /**
   * Incidents not yet resolved (open, investigating, mitigated, or failed and needing a person),
   * oldest first. Read in pages of `pageSize` through the whole index: no cap unless `limit` is given.
   */
  async listActive(limit = Infinity, pageSize = PAGE): Promise<IncidentRecord[]> {
    return this.readIndex(this.keys.active, '-inf', '+inf', limit, pageSize);
  }

  /** Incidents resolved at or after `since`, oldest first, paged like listActive. */
  async listResolvedSince(since: Date, limit = Infinity, pageSize = PAGE): Promise<IncidentRecord[]> {
    return this.readIndex(this.keys.resolved, String(since.getTime()), '+inf', limit, pageSize);
  }

  /** How many incidents are not yet resolved (ZCARD: no read of the records). */
  countActive(): Promise<number> {
    return this.redis.zcard(this.keys.active);
  }

  /**
   * Moves an incident to `to` if it is in one of `from` now; `patch` is written with it, atomically.
   * Keeps the active and resolved indexes in step.
   */
  async transition(id: string, to: IncidentStatus, from: readonly IncidentStatus[], patch: IncidentPatch = {}): Promise<Transition> {
    const fields = encodePatch({ ...patch, status: to }, this.now());
    const [done, old] = (await this.redis.eval(TRANSITION, 1, this.keys.incident(id), String(from.length), ...from, ...fields)) as [number, string];
    if (done === 1) {
      await this.trackStatus(id, to);
      return { ok: true, from: old as IncidentStatus };
    }
    return { ok: false, from: old ? (old as IncidentStatus) : null };
  }

  /** Sets the owner (`onlyIfUnset`: the first responder, never replacing one). Returns who owns it now, or null if no such incident. */
  async setOwner(id: string, user: string, options: { onlyIfUnset?: boolean } = {}): Promise<string | null> {
    const owner = (await this.redis.eval(SET_OWNER, 1, this.keys.incident(id), user, options.onlyIfUnset ? '1' : '0', this.now().toISOString())) as string;
    return owner || null;
  }

  private async readIndex(key: string, min: string, max: string, limit: number, pageSize: number): Promise<IncidentRecord[]> {
    const out: IncidentRecord[] = [];
    for (let offset = 0; out.length < limit; offset += pageSize) {
      const ids = await this.redis.zrangebyscore(key, min, max, 'LIMIT', offset, pageSize);
      if (!ids.length) break;
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.hgetall(this.keys.incident(id));
      const replies = (await pipeline.exec()) ?? [];
      for (const [err, hash] of replies) {
        if (err || !hash || !(hash as Record<string, string>).id) continue;
        const record = decodeIncident(hash as Record<string, string>, []);
        if (record) out.push(record);
        if (out.length >= limit) break;
      }
      if (ids.length < pageSize) break;
    }
    return out;
  }

  async newestInChannel(channel: string, options: { timeline?: boolean | number } = {}): Promise<IncidentRecord | null> {
    const [id] = await this.redis.zrange(this.keys.channel(channel), 0, 0, 'REV');
    return id ? this.get(id, options) : null;
  }

  /** First caller wins; used so one summary is posted per job whatever races (events, reconcile, two bots). */
  async claim(id: string, what: string, ttlMs = 7 * 24 * 3600_000): Promise<boolean> {
    return (await this.redis.set(this.keys.claim(id, what), '1', 'PX', ttlMs, 'NX')) === 'OK';
  }

  async releaseClaim(id: string, what: string): Promise<void> {
    await this.redis.del(this.keys.claim(id, what));
  }

  private async trackStatus(id: string, status: IncidentStatus): Promise<void> {
    if (status === 'resolved') {
      await this.redis.multi().zrem(this.keys.active, id).zadd(this.keys.resolved, this.now().getTime(), id).exec();
      return;
    }
    const createdAt = await this.redis.hget(this.keys.incident(id), 'createdAt');
    if (createdAt) await this.redis.zadd(this.keys.active, Date.parse(createdAt), id);
  }
}

/** Records read per round trip when walking an index. */
const PAGE = 200;

function fromHash(data: ReturnType<typeof incidentHashSchema.parse>, timeline: string[]): IncidentRecord {
  const { steps, artifacts, report, result, ranOn, ...rest } = data;
  return {
    ...rest,
    steps: steps ?? [],
    artifacts: artifacts ?? [],
    ...(report ? { report } : {}),
    ...(result ? { result } : {}),
    ...(ranOn ? { ranOn } : {}),
    timeline: timeline.flatMap((line) => {
      const entry = timelineEntrySchema.safeParse(safeJson(line));
      return entry.success ? [entry.data] : [];
    }),
  };
}

/** A listing skips a malformed record instead of failing the whole handoff. */
function decodeIncident(hash: Record<string, string>, timeline: string[]): IncidentRecord | null {
  const parsed = incidentHashSchema.safeParse(hash);
  return parsed.success ? fromHash(parsed.data, timeline) : null;
}

function encodePatch(patch: IncidentPatch, now: Date): string[] {
  const fields: string[] = ['updatedAt', now.toISOString()];
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    fields.push(key, typeof value === 'string' ? value : typeof value === 'number' ? String(value) : JSON.stringify(value));
  }
  return fields;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
