import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { TriageError } from '../errors.js';
import { configError } from './zod-errors.js';

/** Control characters (newline, ESC, NUL, DEL): never valid in a path or URL that a printed command names. */
const CONTROL = /[\x00-\x1f\x7f]/;
/** Shell-special characters that no server URL needs (commands quote URLs anyway; this refuses them early). */
const URL_SHELL_UNSAFE = /[\s$`'"\\<>|;{}^]/;

const httpUrl = z
  .string()
  .refine((u) => !CONTROL.test(u), { message: 'must not contain control characters (newline, tab, escape)' })
  .refine((u) => !URL_SHELL_UNSAFE.test(u), { message: 'must not contain spaces, quotes, backslashes or $ ` < > | ; { } ^' })
  .pipe(z.string().url({ message: 'must be an http(s) URL such as http://10.0.0.5:30000' }))
  .refine((u) => /^https?:\/\//.test(u), { message: 'must start with http:// or https://' })
  .refine((u) => !/^https?:\/\/[^/]*@/.test(u), { message: 'must not hold user:password; name the token in tokenEnv instead' });

/** A file or folder on the GPU host, named in printed commands: absolute, one line. */
const hostPath = z
  .string()
  .min(1)
  .refine((p) => !CONTROL.test(p), { message: 'must not contain control characters (newline, tab, escape)' })
  .refine((p) => p.startsWith('/'), { message: 'must be an absolute path such as /var/log/sglang/server.log' });

/** A command line the operator wrote (replay.launch): one line. */
const commandLine = z.string().min(1).refine((c) => !CONTROL.test(c), { message: 'must be one line without control characters' });

/** Env var names only: a token value must never be written in servers.yaml. */
const envVarName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, { message: 'must be the NAME of an environment variable (e.g. PROD_A_TOKEN), not the token itself' });

const serverName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, {
  message: 'server names are lower-case letters, digits, ".", "_" or "-" (max 63)',
});

export const serverSchema = z.strictObject({
  url: httpUrl,
  /** Env var holding the bearer token (api key) for NORMAL routes. */
  tokenEnv: envVarName.optional(),
  /** Env var holding the admin key, used for ADMIN_OPTIONAL routes (/hicache, /configure_logging). */
  adminTokenEnv: envVarName.optional(),
  /**
   * The GPU host whose worker owns this server; names the BullMQ queue `triage:<host>`. Optional for
   * CLI-only use (the CLI needs no queue); the bot and the worker refuse a server without one.
   */
  host: z.string().regex(/^[A-Za-z0-9._-]+$/, { message: 'host must be a plain host name' }).optional(),
  logFile: hostPath.optional(),
  crashDumpDir: hostPath.optional(),
  requestDumpDir: hostPath.optional(),
  /** Where CUDA coredumps land (SGLANG_CUDA_COREDUMP_DIR); default /tmp/sglang_cuda_coredumps. */
  coredumpDir: hostPath.optional(),
  /** pgrep -f pattern for the scheduler (rank) processes on the host; default '^sglang::scheduler'. */
  schedulerProcessPattern: z
    .string()
    .min(1)
    .refine((p) => !CONTROL.test(p), { message: 'must not contain control characters' })
    .refine((p) => !p.startsWith('-'), { message: 'must not start with "-" (pgrep would read it as an option)' })
    .optional(),
  /**
   * Hang evidence from the live ranks: 'attach' (cuda-gdb attach; the processes keep running) or
   * 'coredump' (CUDA user-triggered coredump of every rank; the driver aborts each process after its dump).
   */
  hangEvidence: z.enum(['attach', 'coredump']).default('attach'),
  /** A clean replay target for this server: its URL and how to start it. */
  replay: z
    .strictObject({
      url: httpUrl,
      /** How to start it (a shell line run by `sh -c` in its own process group); one line. */
      launch: commandLine.optional(),
      tokenEnv: envVarName.optional(),
      /** triage may start it from `launch` when it does not answer, and stops it when the pipeline ends. */
      managed: z.boolean().default(false),
      /** Model load can take many minutes. */
      readyTimeoutS: z.number().positive().max(7200).default(900),
      /** SIGTERM → SIGKILL grace when stopping it. */
      stopGraceS: z.number().positive().max(600).default(10),
      /** regression: how to build the checked-out revision before it starts (default: nothing to build). */
      build: z.string().optional(),
    })
    .refine((r) => !r.managed || Boolean(r.launch), { message: 'managed: true needs launch: the command that starts the clean target', path: ['launch'] })
    .optional(),
  description: z.string().optional(),
});

export const accessSchema = z.strictObject({
  /** Slack channel ids allowed to use the bot. Empty = every channel. */
  channels: z.array(z.string()).default([]),
  /** Users (U…) and user groups (S…) allowed to run intrusive steps. Empty = nobody. */
  intrusiveUsers: z.array(z.string()).default([]),
  intrusiveGroups: z.array(z.string()).default([]),
  /**
   * Who sees an incident: 'channel' (default) answers status, buttons and resolve only in the
   * channel the incident was opened in; 'workspace' lets every allowed channel act on any incident.
   */
  incidentScope: z.enum(['channel', 'workspace']).default('channel'),
});

export const registrySchema = z.strictObject({
  servers: z.record(serverName, serverSchema),
  access: accessSchema.default({ channels: [], intrusiveUsers: [], intrusiveGroups: [], incidentScope: 'channel' }),
});

export type ServerEntry = z.infer<typeof serverSchema>;
export type AccessConfig = z.infer<typeof accessSchema>;
export type Registry = z.infer<typeof registrySchema>;
export type NamedServer = ServerEntry & { name: string };

export const EMPTY_REGISTRY: Registry = { servers: {}, access: { channels: [], intrusiveUsers: [], intrusiveGroups: [], incidentScope: 'channel' } };

export function parseRegistry(text: string, source: string): Registry {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new TriageError('E_CONFIG', `${source} is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  const result = registrySchema.safeParse(raw ?? {});
  if (!result.success) throw configError(result.error.issues, source);
  return result.data;
}

export async function loadRegistry(file: string | undefined): Promise<Registry> {
  if (!file) return EMPTY_REGISTRY;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new TriageError('E_CONFIG', `cannot read server registry ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`, { cause: err });
  }
  return parseRegistry(text, file);
}

export function findServer(registry: Registry, name: string): NamedServer | undefined {
  const entry = registry.servers[name];
  return entry ? { ...entry, name } : undefined;
}

export function serverNames(registry: Registry): string[] {
  return Object.keys(registry.servers).sort();
}

/** Resolves a server's token from the environment it names. Missing env var = no token. */
export function resolveToken(envName: string | undefined, env: Record<string, string | undefined>): string | undefined {
  if (!envName) return undefined;
  const value = env[envName];
  return value && value.length > 0 ? value : undefined;
}

export function gpuHosts(registry: Registry): string[] {
  return [...new Set(Object.values(registry.servers).flatMap((s) => (s.host ? [s.host] : [])))].sort();
}

/** The bot and the worker queue jobs per host: a server without `host` is usable from the CLI only. */
export function requireHost(server: NamedServer): string {
  if (server.host) return server.host;
  throw new TriageError('E_CONFIG', `server "${server.name}" has no host in servers.yaml: set servers.${server.name}.host to the GPU host whose worker serves it (the bot and the worker queue jobs per host; the CLI needs none)`, {
    details: { path: `servers.${server.name}.host` },
  });
}
