import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openIncident, readIncidentFile } from '../../src/incident/journal.js';
import { stopLeftoverTarget } from '../../src/target/leftover.js';
import { groupAlive } from '../../src/target/process-group.js';
import { withTempDir } from '../helpers/tmp.js';

describe('stopLeftoverTarget: a target recorded in incident.json and never stopped', () => {
  it('stops the whole process group and records it; a second call finds nothing to do', async () => {
    await withTempDir(async (dir) => {
      // A stand-in target: a detached group of a shell and its child that ignore nothing.
      const child = spawn('sh', ['-c', 'sleep 300 & sleep 300'], { detached: true, stdio: 'ignore' });
      const pgid = child.pid!;
      const inc = path.join(dir, 'inc-left');
      await openIncident(inc, () => ({ id: 'inc-left', server: 'prod-a', status: 'running', createdAt: new Date().toISOString(), timeline: [], target: { url: 'http://127.0.0.1:1', pid: pgid, pgid, startedAt: new Date().toISOString() } }));
      expect(groupAlive(pgid)).toBe(true);
      expect(await stopLeftoverTarget(inc, { graceMs: 2000 })).toBe('stopped');
      expect(groupAlive(pgid)).toBe(false);
      const after = await readIncidentFile(inc);
      expect(after?.target?.stoppedAt).toBeTruthy();
      expect(after?.timeline.at(-1)?.detail).toMatch(/left running by a pipeline that did not finish/);
      expect(await stopLeftoverTarget(inc)).toBe('none');
    });
  });
});
