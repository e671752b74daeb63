import { findServer, loadRegistry, serverNames, type NamedServer, type Registry } from '../config/servers.js';
import { TriageError } from '../errors.js';

export type Target = NamedServer | { name?: undefined; url: string; tokenEnv?: undefined; host?: undefined };

export async function registryFrom(flag: string | undefined, env: Record<string, string | undefined>): Promise<Registry> {
  return loadRegistry(flag ?? env.TRIAGE_SERVERS);
}

/** `<server|url>`: a URL is used as is; anything else must be a registered server name. */
export function resolveTarget(arg: string, registry: Registry): Target {
  if (/^https?:\/\//i.test(arg)) return { url: arg };
  const server = findServer(registry, arg);
  if (server) return server;
  const names = serverNames(registry);
  throw new TriageError(
    'E_UNKNOWN_SERVER',
    names.length
      ? `unknown server "${arg}". Registered servers: ${names.join(', ')}. Or pass a URL such as http://127.0.0.1:30000`
      : `unknown server "${arg}" and no servers.yaml loaded (use --servers FILE or TRIAGE_SERVERS), or pass a URL such as http://127.0.0.1:30000`,
  );
}
