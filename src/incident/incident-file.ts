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

/** Atomic write (tmp + rename) so a worker killed mid-write never leaves half a JSON file. */
export async function writeIncidentFile(dir: string, incident: IncidentFile): Promise<void> {
  const file = incidentPaths(dir).incidentJson;
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(incident, null, 2)}\n`);
}
