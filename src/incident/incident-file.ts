import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { incidentPaths } from './layout.js';
import { writeFileAtomic } from '../fsutil/atomic-write.js';

/** incident.json, the folder's own record (DESIGN.md): id, server, status, createdAt, timeline[]. */
export const timelineEntrySchema = z.object({
  at: z.string(),
  step: z.string(),
  state: z.enum(['started', 'done', 'failed', 'skipped']),
  detail: z.string().optional(),
});

export const incidentFileSchema = z.object({
  id: z.string(),
  server: z.string(),
  serverUrl: z.string().optional(),
  host: z.string().optional(),
  status: z.enum(['open', 'running', 'routed', 'resolved', 'failed']),
  createdAt: z.string(),
  updatedAt: z.string().optional(),
  problemClass: z.string().optional(),
  nextSkill: z.string().optional(),
  /** The newest pipeline run here, and what its replay reproduced. */
  pipeline: z.string().optional(),
  reproduced: z.union([z.boolean(), z.string()]).optional(),
  /** A clean target this folder's pipeline started: kept so a restarted worker can see what it left running. */
  target: z
    .object({ url: z.string(), pid: z.number().int(), pgid: z.number().int(), startedAt: z.string(), stoppedAt: z.string().optional(), stop: z.string().optional() })
    .optional(),
  timeline: z.array(timelineEntrySchema),
});

export type IncidentFile = z.infer<typeof incidentFileSchema>;
export type TimelineEntry = z.infer<typeof timelineEntrySchema>;

export async function readIncidentFile(dir: string): Promise<IncidentFile | null> {
  try {
    const parsed = incidentFileSchema.safeParse(JSON.parse(await readFile(incidentPaths(dir).incidentJson, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Atomic write (writeFileAtomic: temp + fsync + rename) so a worker killed mid-write never leaves half a JSON file, and a planted link is replaced, never followed. Only journal.ts calls it. */
export async function writeIncidentFile(dir: string, incident: IncidentFile): Promise<void> {
  const file = incidentPaths(dir).incidentJson;
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(incident, null, 2)}\n`);
}
