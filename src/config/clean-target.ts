import { TriageError } from '../errors.js';
import { findServer, type NamedServer, type Registry } from './servers.js';

/**
 * "A server name means its clean target": the one place that turns a replay target named by a person
 * (CLI --target, Slack --target, a pipeline's own server) into a URL. A registered name always means
 * that server's `replay.url`, never its production `url`; only the CLI may pass a bare URL.
 */
export function cleanTargetUrl(registry: Registry, name: string): string {
  const server = findServer(registry, name);
  if (!server) throw new TriageError('E_UNKNOWN_SERVER', `replay target "${name}" is not a registered server`);
  return cleanTargetOf(server);
}

export function cleanTargetOf(server: NamedServer): string {
  if (!server.replay) {
    throw new TriageError('E_CONFIG', `server "${server.name}" has no clean replay target (servers.yaml servers.${server.name}.replay.url); replays never go to production`);
  }
  return server.replay.url;
}
