import { TriageError } from '../errors.js';
import { readIncidentFile, writeIncidentFile, type IncidentFile, type TimelineEntry } from './incident-file.js';
import { incidentPaths } from './layout.js';

/**
 * The one owner of incident.json. Pipelines, the worker and the CLI change the file only through these
 * functions; each change is a read-modify-write serialised per folder within the process, so two
 * updates of one incident (a step's timeline entry and a status patch) never overwrite each other.
 */

const queues = new Map<string, Promise<unknown>>();

async function mutate(dir: string, fn: (current: IncidentFile | null) => IncidentFile | null): Promise<IncidentFile | null> {
  const key = incidentPaths(dir).root;
  const previous = queues.get(key) ?? Promise.resolve();
  const next = previous.then(async () => {
    const current = await readIncidentFile(key);
    const updated = fn(current);
    if (updated && updated !== current) await writeIncidentFile(key, updated);
    return updated;
  });
  const settled = next.catch(() => undefined);
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return next;
}

/** Creates incident.json unless one is there; returns what is on disk afterwards. */
export async function openIncident(dir: string, init: () => IncidentFile): Promise<IncidentFile> {
  try {
    return (await mutate(dir, (current) => current ?? init()))!;
  } catch (err) {
    throw new TriageError('E_IO', `cannot write incident.json in ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

/** Merges `patch` and appends `entry` (when given). A folder without incident.json is left alone. */
export async function patchIncident(dir: string, patch: Partial<Omit<IncidentFile, 'timeline' | 'id'>>, at: Date, entry?: Omit<TimelineEntry, 'at'>): Promise<IncidentFile | null> {
  return mutate(dir, (current) =>
    current
      ? {
          ...current,
          ...patch,
          updatedAt: at.toISOString(),
          timeline: entry ? [...current.timeline, { at: at.toISOString(), ...entry }] : current.timeline,
        }
      : null,
  );
}

/** Like patchIncident, but only when `when` holds for the current record (e.g. "not already routed"). */
export async function patchIncidentIf(dir: string, when: (current: IncidentFile) => boolean, patch: Partial<Omit<IncidentFile, 'timeline' | 'id'>>, at: Date, entry?: Omit<TimelineEntry, 'at'>): Promise<IncidentFile | null> {
  return mutate(dir, (current) =>
    current && when(current)
      ? { ...current, ...patch, updatedAt: at.toISOString(), timeline: entry ? [...current.timeline, { at: at.toISOString(), ...entry }] : current.timeline }
      : current,
  );
}

export { readIncidentFile };
