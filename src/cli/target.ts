import type { CliEnv } from '../config/env.js';
import { findServer, loadRegistry, serverNames, type NamedServer, type Registry } from '../config/servers.js';
import { TriageError } from '../errors.js';
import { didYouMean } from './suggest.js';

export type Target = NamedServer | { name?: undefined; url: string; tokenEnv?: undefined; host?: undefined };

export async function registryFrom(flag: string | undefined, env: Pick<CliEnv, 'TRIAGE_SERVERS'>): Promise<Registry> {
  return loadRegistry(flag ?? env.TRIAGE_SERVERS);
}

/** `<server|url>`: a URL is used as is; anything else must be a registered server name. */
export function resolveTarget(arg: string, registry: Registry): Target {
  if (/^https?:\/\//i.test(arg)) return { url: arg };
  const server = findServer(registry, arg);
  if (server) return server;
  throw unknownServerError(arg, registry);
}

/** E_UNKNOWN_SERVER with the closest registered names first, then the whole list. */
export function unknownServerError(arg: string, registry: Registry, usage?: string): TriageError {
  const names = serverNames(registry);
  const message = names.length
    ? `unknown server "${arg}".${didYouMean(arg, names)} Registered servers: ${names.join(', ')}. Or pass a URL such as http://127.0.0.1:30000`
    : `unknown server "${arg}" and no servers.yaml loaded (use --servers FILE or TRIAGE_SERVERS), or pass a URL such as http://127.0.0.1:30000`;
  return new TriageError('E_UNKNOWN_SERVER', usage ? `${message}\nusage: ${usage}` : message);
}
