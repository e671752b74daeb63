import { readFile } from 'node:fs/promises';

/**
 * A JSON object from a file the pipeline itself wrote (or a bundle file), or null when the file is
 * missing, unreadable, not JSON, or not an object. Callers read optional evidence, so absence is a value.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function readJsonObject(file: string): Promise<Record<string, any> | null> {
  try {
    const v: unknown = JSON.parse(await readFile(file, 'utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
