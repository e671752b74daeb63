import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { TriageError } from '../errors.js';
import { renderDumpSummary } from '../evidence/dump/render.js';
import { summarizeInput } from '../evidence/dump/summary.js';
import { parseCommandArgs } from './args.js';
import { EXIT, print, say, writeJson, type Subcommand } from './io.js';
import { writeFileAtomic } from '../fsutil/atomic-write.js';

const USAGE = 'triage dump <file|folder> [--json] [--out DIR]';

/** `triage dump`: summarise a crash dump, a request dump, or every *.pkl under a folder. */
export const dumpCommand: Subcommand = async (argv, ctx) => {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      json: { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (values.help) {
    say(ctx, `usage: ${USAGE}\n\nReads SGLang crash/request dumps (Python pickles) without running them.\n--json prints the summary as one JSON document; --out DIR also writes DIR/dump-summary.json.`);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new TriageError('E_USAGE', `expected one dump file or folder, got ${positionals.length}\nusage: ${USAGE}`);
  const input = path.resolve(ctx.cwd, positionals[0]!);

  const summary = await summarizeInput(input, { signal: ctx.signal });

  if (values.out) {
    const dir = path.resolve(ctx.cwd, values.out);
    try {
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(path.join(dir, 'dump-summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    } catch (err) {
      throw new TriageError('E_IO', `cannot write ${path.join(dir, 'dump-summary.json')}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (values.json) {
    writeJson(ctx, summary);
    say(ctx, `read ${summary.counts.requests} requests from ${summary.files.length} file(s); ${summary.counts.unfinished} unfinished`);
  } else {
    print(ctx, renderDumpSummary(summary, { cwd: ctx.cwd }));
  }
  return EXIT.ok;
};
