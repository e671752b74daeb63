import { cliEnvSchema, credentialsFrom, loadEnv } from '../config/env.js';
import { describeError, isTriageError, TriageError } from '../errors.js';
import pkg from '../../package.json' with { type: 'json' };
import { HelpRequested } from './args.js';
import { COMMAND_DETAILS, COMMAND_NAMES, COMMAND_SUMMARY, HELP_USAGE, type CommandName } from './help.js';
import { colorWanted, EXIT, paint, type CliContext, type Subcommand } from './io.js';
import { didYouMean } from './suggest.js';

const USAGE = `triage ${pkg.version}: incident triage for SGLang servers

usage:
  triage capture <server|url> [--out DIR] [--timeout S] [--health-timeout S] [--token T] [--json]
  triage dump <file|folder> [--out DIR] [--json]
  triage replay <dump|folder> --target <server|url> [--parallel N] [--speed X] [--ignore-eos]
                [--req-start N] [--req-number N] [--timeout S] [--token T] [--keep-going] [--out DIR] [--json]
  triage route <incident-dir|bundle-dir> [--no-write] [--json]
  triage run <pipeline> <server|url> [--out DIR] [--timeout S] [--json]
  triage <command> --help      one command in detail
  triage --version

commands:
${COMMAND_NAMES.map((c) => `  ${c.padEnd(9)}${COMMAND_SUMMARY[c]}`).join('\n')}

Every command takes --servers FILE (default $TRIAGE_SERVERS). A server NAME as a replay --target
means its clean replay target (servers.yaml replay.url), never its production URL.
The report goes to stdout; progress and diagnostics go to stderr. --json prints one JSON document on stdout.
Exit codes: 0 success, 1 failure, 2 usage error.`;

/** Subcommands load lazily so `triage route` does not pay for the Slack or BullMQ graphs. */
const SUBCOMMANDS: Record<Exclude<CommandName, 'help'>, () => Promise<Subcommand>> = {
  capture: async () => (await import('./capture.js')).captureCommand,
  dump: async () => (await import('./dump.js')).dumpCommand,
  replay: async () => (await import('./replay.js')).replayCommand,
  route: async () => (await import('./route.js')).routeCommand,
  run: async () => (await import('./run.js')).runCommand,
};

export interface MainOverrides extends Partial<CliContext> {
  /** The raw environment to read once (default process.env); `env`/`credentials` in overrides win. */
  environment?: Record<string, string | undefined>;
}

/** The entry: the environment is read here, once, through cliEnvSchema; nothing below sees it raw. */
export async function main(argv: string[], overrides: MainOverrides = {}): Promise<number> {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => controller.abort(new Error(`received ${sig}`));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const { environment = process.env, ...given } = overrides;
  const stderr = given.stderr ?? process.stderr;
  const early = { stdout: given.stdout ?? process.stdout, stderr, color: given.color ?? colorWanted(stderr as { isTTY?: boolean }, environment) };
  try {
    const ctx: CliContext = {
      ...early,
      env: given.env ?? loadEnv(cliEnvSchema, environment),
      credentials: given.credentials ?? credentialsFrom(environment),
      childEnv: given.childEnv ?? { ...environment },
      cwd: given.cwd ?? process.cwd(),
      signal: given.signal ?? controller.signal,
      interactive: given.interactive ?? Boolean((stderr as { isTTY?: boolean }).isTTY),
    };
    const [name, ...rest] = argv;
    if (name === '--version' || name === '-V') {
      ctx.stdout.write(`${pkg.version}\n`);
      return EXIT.ok;
    }
    if (!name) {
      ctx.stderr.write(`${USAGE}\n`);
      return EXIT.usage;
    }
    if (name === '--help' || name === '-h') return printHelp(ctx, undefined);
    if (name === 'help') return printHelp(ctx, rest[0] === '--help' || rest[0] === '-h' ? 'help' : rest[0]);
    if (!isCommand(name)) {
      throw new TriageError('E_USAGE', `unknown command "${name}".${didYouMean(name, COMMAND_NAMES)} Run "triage --help" for the list.`);
    }
    const command = await SUBCOMMANDS[name]();
    try {
      return await command(rest, ctx);
    } catch (err) {
      if (err instanceof HelpRequested) return printHelp(ctx, name, err.usage);
      throw err;
    }
  } catch (err) {
    stderr.write(`${paint(early, 'red', 'triage:')} ${describeError(err)}\n`);
    // --json promises one JSON document on stdout, failures included.
    if (argv.includes('--json')) {
      const code = err instanceof TriageError ? err.code : 'E_INTERNAL';
      early.stdout.write(`${JSON.stringify({ error: { code, message: err instanceof Error ? err.message : String(err) } })}\n`);
    }
    if (isTriageError(err, 'E_USAGE') || isTriageError(err, 'E_UNKNOWN_SERVER')) return EXIT.usage;
    return EXIT.failure;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function isCommand(name: string): name is Exclude<CommandName, 'help'> {
  return Object.hasOwn(SUBCOMMANDS, name);
}

/** Help that was asked for goes to stdout (so `| less` works) and exits 0. */
async function printHelp(ctx: CliContext, name: string | undefined, usage?: string): Promise<number> {
  if (name === undefined) {
    ctx.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (name === 'help') {
    ctx.stdout.write(`usage: ${HELP_USAGE}\n\n${COMMAND_DETAILS.help}\n`);
    return EXIT.ok;
  }
  if (!isCommand(name)) {
    ctx.stderr.write(`${paint(ctx, 'red', 'triage:')} no help for "${name}": not a command.${didYouMean(name, COMMAND_NAMES)}\n`);
    return EXIT.usage;
  }
  // The usage line belongs to the command: ask it, the same way `triage <name> --help` does.
  let line = usage;
  if (line === undefined) {
    try {
      await (await SUBCOMMANDS[name]())(['--help'], ctx);
    } catch (err) {
      if (!(err instanceof HelpRequested)) throw err;
      line = err.usage;
    }
  }
  ctx.stdout.write(`usage: ${line ?? `triage ${name}`}\n\n${COMMAND_DETAILS[name]}\n`);
  return EXIT.ok;
}
