import { describeError, isTriageError, TriageError } from '../errors.js';
import { EXIT, type CliContext, type Subcommand } from './io.js';

const USAGE = `triage: incident triage for SGLang servers

usage:
  triage capture <server|url> [--out DIR] [--timeout S] [--health-timeout S] [--token T] [--json]
  triage dump <file|folder> [--out DIR] [--json]
  triage replay <dump|folder> --target <server|url> [--parallel N] [--speed X] [--ignore-eos]
                [--req-start N] [--req-number N] [--timeout S] [--token T] [--keep-going] [--out DIR] [--json]
  triage route <incident-dir|bundle-dir> [--no-write] [--json]
  triage run <auto|slow|crash|hang|replay> <server|url> [--out DIR] [--timeout S] [--json]

Every command takes --servers FILE. A server NAME as a replay --target means its clean replay
target (servers.yaml replay.url), never its production URL.

Servers are looked up in servers.yaml (--servers FILE or $TRIAGE_SERVERS).
Exit codes: 0 success, 1 failure, 2 usage error. --json prints one JSON document on stdout.`;

/** Subcommands load lazily so `triage route` does not pay for the Slack or BullMQ graphs. */
const SUBCOMMANDS: Record<string, () => Promise<Subcommand>> = {
  capture: async () => (await import('./capture.js')).captureCommand,
  dump: async () => (await import('./dump.js')).dumpCommand,
  replay: async () => (await import('./replay.js')).replayCommand,
  route: async () => (await import('./route.js')).routeCommand,
  run: async () => (await import('./run.js')).runCommand,
};

export async function main(argv: string[], overrides: Partial<CliContext> = {}): Promise<number> {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => controller.abort(new Error(`received ${sig}`));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const ctx: CliContext = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
    interactive: Boolean(process.stderr.isTTY),
    ...overrides,
  };
  try {
    const [name, ...rest] = argv;
    if (!name || name === 'help' || name === '--help' || name === '-h') {
      ctx.stderr.write(`${USAGE}\n`);
      return name ? EXIT.ok : EXIT.usage;
    }
    const load = SUBCOMMANDS[name];
    if (!load) {
      ctx.stderr.write(`triage: unknown command "${name}"\n\n${USAGE}\n`);
      return EXIT.usage;
    }
    const command = await load();
    return await command(rest, ctx);
  } catch (err) {
    ctx.stderr.write(`triage: ${describeError(err)}\n`);
    // --json promises one JSON document on stdout, failures included.
    if (argv.includes('--json')) {
      const code = err instanceof TriageError ? err.code : 'E_INTERNAL';
      ctx.stdout.write(`${JSON.stringify({ error: { code, message: err instanceof Error ? err.message : String(err) } })}\n`);
    }
    if (isTriageError(err, 'E_USAGE') || isTriageError(err, 'E_UNKNOWN_SERVER')) return EXIT.usage;
    return EXIT.failure;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
