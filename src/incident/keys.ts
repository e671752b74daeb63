/**
 * Redis keys of the incident store and audit log. BullMQ owns `<prefix>:<host>:*` (one queue per
 * GPU host); ours sit under `<prefix>:@…`. '@' cannot appear in a host name (servers.yaml allows
 * [A-Za-z0-9._-]), so no host's queue can ever collide with these keys.
 */
export interface IncidentKeys {
  incidentPrefix: string;
  incident(id: string): string;
  timeline(id: string): string;
  /** Sorted set (score = createdAt ms) of incidents not yet resolved. */
  active: string;
  /** Sorted set (score = resolvedAt ms) of resolved incidents: "what was resolved last shift". */
  resolved: string;
  /** Sorted set (score = createdAt ms) of every incident started in a channel. */
  channel(channel: string): string;
  dedupe(scope: string, pipeline: string): string;
  /** Exactly-once markers: "this summary was posted". */
  claim(id: string, what: string): string;
  audit: string;
}

export function incidentKeys(prefix: string): IncidentKeys {
  const root = `${prefix}:@`;
  return {
    incidentPrefix: `${root}incident:`,
    incident: (id) => `${root}incident:${id}`,
    timeline: (id) => `${root}timeline:${id}`,
    active: `${root}active`,
    resolved: `${root}resolved`,
    channel: (channel) => `${root}channel:${channel}`,
    dedupe: (scope, pipeline) => `${root}dedupe:${scope}:${pipeline}`,
    claim: (id, what) => `${root}claim:${id}:${what}`,
    audit: `${root}audit`,
  };
}
