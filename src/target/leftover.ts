import { patchIncident, readIncidentFile } from '../incident/journal.js';
import { groupAlive, stopGroup } from './process-group.js';

/**
 * Stops a clean target that a pipeline recorded in incident.json and never stopped: the pipeline's thread
 * was killed (it ignored its abort) or crashed, so its own `finally` never ran. The process that hosted it
 * lives on, so the reaper (which waits for that process) would not act.
 */
export async function stopLeftoverTarget(incidentDir: string, opts: { graceMs?: number; now?: () => Date } = {}): Promise<'stopped' | 'none'> {
  const incident = await readIncidentFile(incidentDir);
  const target = incident?.target;
  if (!target || target.stoppedAt || !groupAlive(target.pgid)) return 'none';
  const kind = await stopGroup(target.pgid, { graceMs: opts.graceMs ?? 10_000 });
  const at = (opts.now ?? (() => new Date()))();
  await patchIncident(incidentDir, { target: { ...target, stoppedAt: at.toISOString(), stop: `${kind} (left behind by a killed pipeline)` } }, at, {
    step: 'stop the clean target',
    state: 'done',
    detail: `process group ${target.pgid} left running by a pipeline that did not finish: ${kind}`,
  });
  return 'stopped';
}
