import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes `file` by creating a fresh temporary file beside it and renaming it over the old name.
 *
 * Why not writeFile: writeFile opens the name and follows it. A `report.json` planted as a symlink to
 * `~/.bashrc` would have the report written through it. rename(2) replaces the directory entry
 * itself, so a link at `file` is replaced, never followed; the temporary name is opened with O_EXCL
 * and O_NOFOLLOW so nothing already there (a link, a FIFO) is ever opened. The data is fsynced before
 * the rename, so a crash leaves either the old file or the whole new one, never half a JSON document.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: { mode?: number } = {}): Promise<void> {
  await writeFileAtomicWith(file, (handle) => handle.writeFile(data), options);
}

/** The same, for a writer that produces the file piece by piece (a streamed JSON document). */
export async function writeFileAtomicStream(file: string, produce: (write: (chunk: string) => Promise<void>) => Promise<void>, options: { mode?: number } = {}): Promise<void> {
  await writeFileAtomicWith(file, (handle) => produce(async (chunk) => void (await handle.write(chunk))), options);
}

async function writeFileAtomicWith(file: string, fill: (handle: FileHandle) => Promise<void>, options: { mode?: number }): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const handle = await open(tmp, flags, options.mode ?? 0o666);
  let renamed = false;
  try {
    try {
      await fill(handle);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
    renamed = true;
  } finally {
    if (!renamed) await unlink(tmp).catch(() => undefined);
  }
}
