import { TriageError } from '../errors.js';

/**
 * Queue naming. The design names each GPU host's queue `triage:<host>`. BullMQ refuses ':' in a
 * queue name ("Queue name cannot contain :"), so the queue is named `{<host>}` and created with
 * BullMQ's `prefix` option set to TRIAGE_QUEUE_PREFIX (default "triage"): its Redis keys are
 * `triage:{<host>}:wait`, `triage:{<host>}:events`, … The braces are a Redis Cluster hash tag:
 * every key of one host's queue hashes to one slot (BullMQ's Lua scripts need that), and
 * different hosts hash to different slots, so the fleet's queues spread over the cluster.
 * Custom job ids cannot hold ':' either; ours are built from incident ids and pipeline names
 * joined by '.'.
 */
export function queueNameFor(host: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(host)) throw new TriageError('E_CONFIG', `host "${host}" cannot name a queue: use letters, digits, ".", "_" or "-"`);
  return `{${host}}`;
}

/** The name people see in logs and docs: the queue's Redis key prefix. */
export function queueLabel(prefix: string, host: string): string {
  return `${prefix}:{${host}}`;
}

export function jobIdFor(incidentId: string, pipeline: string, seq: number): string {
  return `${incidentId}.${pipeline}.${seq}`;
}
