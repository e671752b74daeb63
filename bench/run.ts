/**
 * `npm run bench [name...]`: runs every bench/<name>.bench.ts (or the named ones) in this process,
 * one after another, each printing its figures and its ratio to the named reference.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type BenchLog = (line: string) => void;
export type Bench = (log: BenchLog) => Promise<void>;

const here = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort();
let failed = 0;
for (const file of files) {
  const name = file.replace(/\.bench\.ts$/, '');
  if (wanted.length && !wanted.includes(name)) continue;
  console.log(`\n== ${name} ==`);
  const started = performance.now();
  try {
    const mod = (await import(pathToFileURL(path.join(here, file)).href)) as { default: Bench };
    await mod.default((line) => console.log(`  ${line}`));
    console.log(`  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  } catch (err) {
    failed++;
    console.error(`  FAILED: ${(err as Error).stack ?? err}`);
  }
}
process.exit(failed ? 1 : 0);
