import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { HTTPReceiver } from '@slack/bolt';
import { isValidSlackRequest } from '@slack/bolt';
import { RESOLVE_MODAL } from '../../templates/blocks.js';

/** Slack's own rule, in both directions: a request dated more than 5 minutes from now is refused. */
export const MAX_SKEW_S = 5 * 60;
/** What Bolt would buffer anyway (its default body limit). */
const BODY_LIMIT = 10 * 1024 * 1024;

export interface GuardOptions {
  signingSecret: string;
  endpoints: readonly string[];
  /** Action ids with a listener; any other button is answered 400 at once. */
  actionIds: ReadonlySet<string>;
  now?: () => number;
}

type Verdict = { ok: true } | { ok: false; status: 400 | 401 | 413; why: string };

/**
 * In front of Bolt's HTTP receiver, on its event endpoints only. Bolt checks the signature and
 * refuses stale timestamps, but accepts any timestamp in the future, and a request no listener
 * acks is answered 404 after 3 s. This answers at once: 401 for a bad signature or a timestamp
 * more than 5 minutes away either way, 400 for a body that is no Slack payload or a button this
 * bot never drew. The body it read is handed on (Bolt reuses `rawBody`).
 */
export function guardReceiver(receiver: HTTPReceiver, options: GuardOptions): void {
  const inner = receiver.requestListener;
  const now = options.now ?? (() => Date.now());
  receiver.requestListener = (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'POST' || !options.endpoints.includes(path)) return inner(req, res);
    void readBody(req).then(
      (raw) => {
        const verdict = check(req, raw, options, now());
        if (!verdict.ok) return refuse(res, verdict.status);
        Object.assign(req, { rawBody: raw });
        inner(req, res);
      },
      () => refuse(res, 413),
    );
  };
}

function check(req: IncomingMessage, raw: Buffer, options: GuardOptions, nowMs: number): Verdict {
  const timestamp = Number(header(req, 'x-slack-request-timestamp'));
  if (!Number.isFinite(timestamp) || Math.abs(nowMs / 1000 - timestamp) > MAX_SKEW_S) return { ok: false, status: 401, why: 'timestamp' };
  const body = raw.toString('utf8');
  const signature = header(req, 'x-slack-signature') ?? '';
  if (!isValidSlackRequest({ signingSecret: options.signingSecret, body, headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp }, nowMilliseconds: nowMs })) {
    return { ok: false, status: 401, why: 'signature' };
  }
  return knownPayload(header(req, 'content-type') ?? '', body, options.actionIds);
}

/** A slash command, an event, or an interaction this bot can answer; anything else is a 400. */
function knownPayload(contentType: string, body: string, actionIds: ReadonlySet<string>): Verdict {
  const bad = (why: string): Verdict => ({ ok: false, status: 400, why });
  let fields: Record<string, unknown>;
  try {
    fields = contentType.includes('application/json') ? (JSON.parse(body) as Record<string, unknown>) : (parseQuery(body) as Record<string, unknown>);
  } catch {
    return bad('body is not JSON');
  }
  if (!fields || typeof fields !== 'object') return bad('empty body');
  if (fields.ssl_check === '1' || fields.type === 'url_verification' || fields.type === 'event_callback') return { ok: true };
  if (typeof fields.command === 'string' && fields.command.startsWith('/')) return { ok: true };
  if (typeof fields.payload !== 'string') return bad('no command, event or payload');
  let payload: { type?: unknown; actions?: Array<{ action_id?: unknown }>; view?: { callback_id?: unknown } };
  try {
    payload = JSON.parse(fields.payload) as typeof payload;
  } catch {
    return bad('payload is not JSON');
  }
  if (payload?.type === 'block_actions') {
    const actions = Array.isArray(payload.actions) ? payload.actions : [];
    return actions.length && actions.every((a) => typeof a?.action_id === 'string' && actionIds.has(a.action_id)) ? { ok: true } : bad('unknown action');
  }
  if (payload?.type === 'view_submission' || payload?.type === 'view_closed') return payload.view?.callback_id === RESOLVE_MODAL ? { ok: true } : bad('unknown view');
  return bad('unknown interaction type');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT) {
        req.destroy();
        reject(new Error('body too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function refuse(res: ServerResponse, status: number): void {
  if (res.headersSent) return;
  res.writeHead(status);
  res.end();
}
