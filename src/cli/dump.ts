import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { TriageError } from '../errors.js';
import { streamWriter, writeSummaryFile, writeSummaryJson } from '../evidence/dump/json-out.js';
import { renderDumpSummary } from '../evidence/dump/render.js';
import { summarizeInput } from '../evidence/dump/summary.js';
import { parseCommandArgs } from './args.js';
import { EXIT, print, say, type Subcommand } from './io.js';

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
      // Streamed into a new temporary file renamed over the old one (a link is replaced, never followed).
      await writeSummaryFile(summary, path.join(dir, 'dump-summary.json'));
    } catch (err) {
      throw new TriageError('E_IO', `cannot write ${path.join(dir, 'dump-summary.json')}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (values.json) {
    // Streamed: the document can be tens of MB (see MAX_SUMMARY_ROWS), never one string.
    await writeSummaryJson(summary, streamWriter(ctx.stdout));
    say(ctx, `read ${summary.counts.requests} requests from ${summary.files.length} file(s); ${summary.counts.unfinished} unfinished`);
  } else {
    print(ctx, renderDumpSummary(summary, { cwd: ctx.cwd }));
  }
  return EXIT.ok;
};
