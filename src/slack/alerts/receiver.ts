import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../pipelines/types.js';
import type { AlertIncidents, AlertSummary } from './alert-incidents.js';
import { webhookSchema } from './schema.js';

export const ALERTS_PATH = '/alerts/alertmanager';
const MAX_BODY = 1024 * 1024;

/** Constant-time: both sides are hashed to equal length first, so neither length nor content leaks. */
export function bearerMatches(header: string | undefined, token: string | undefined): boolean {
  if (!token || !header) return false;
  const match = /^Bearer ([^\s]+)$/.exec(header);
  if (!match) return false;
  const given = createHash('sha256').update(match[1] as string).digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected);
}

/**
 * POST /alerts/alertmanager: `Authorization: Bearer $TRIAGE_ALERT_TOKEN` or 401 (no token
 * configured means nothing is accepted), a JSON body of at most 1 MiB or 413, Alertmanager's
 * webhook v4 or 400. Then each alert opens, joins or annotates an incident. A store failure is
 * a 503, so Alertmanager retries the notification.
 */
export function alertmanagerHandler(deps: { token: string | undefined; alerts: AlertIncidents; logger: Logger }) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const reply = (status: number, body: Record<string, unknown>) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!bearerMatches(req.headers.authorization, deps.token)) {
      req.resume();
      deps.logger.warn('alert webhook refused: bad or missing bearer token', { remote: req.socket.remoteAddress });
      return reply(401, { ok: false, error: deps.token ? 'unauthorized' : 'unauthorized: TRIAGE_ALERT_TOKEN is not set on the bot' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        tooBig = true;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooBig) return reply(413, { ok: false, error: `body over ${MAX_BODY} bytes` });
      let json: unknown;
      try {
        json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reply(400, { ok: false, error: 'body is not JSON' });
      }
      const parsed = webhookSchema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return reply(400, { ok: false, error: `not an Alertmanager v4 webhook: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}` });
      }
      deps.alerts.handle(parsed.data).then(
        (summary: AlertSummary) => reply(200, { ok: true, ...summary }),
        (err: unknown) => {
          deps.logger.error('alert webhook failed; Alertmanager will retry', { err });
          reply(503, { ok: false, error: 'could not record the alerts; retry' });
        },
      );
    });
    req.on('error', () => reply(400, { ok: false, error: 'request aborted' }));
  };
}
