/**
 * Signed requests as Slack sends them: HMAC-SHA256 over `v0:<timestamp>:<body>` with the app's
 * signing secret, form-encoded bodies, slash commands and block_actions interactions.
 */
import { createHmac } from 'node:crypto';
import type { FakeSlack } from './fake-slack.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';

export function sign(secret: string, body: string, timestamp: number): Record<string, string> {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'x-slack-signature': signature, 'x-slack-request-timestamp': String(timestamp) };
}

export interface SlackPostResult {
  status: number;
  body: string;
  json: Record<string, unknown> | null;
  ms: number;
}

export interface PostOptions {
  secret?: string;
  /** Seconds since the epoch; default now. A value > 5 min old must be refused. */
  timestamp?: number;
  badSignature?: boolean;
  retryNum?: number;
  fake?: FakeSlack;
}

async function post(url: string, body: string, options: PostOptions, what: string): Promise<SlackPostResult> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', ...sign(options.secret ?? SIGNING_SECRET, body, timestamp) };
  if (options.badSignature) headers['x-slack-signature'] = `v0=${'0'.repeat(64)}`;
  if (options.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(options.retryNum);
    headers['x-slack-retry-reason'] = 'http_timeout';
  }
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  const ms = performance.now() - started;
  options.fake?.recordAck(ms, what);
  let json: Record<string, unknown> | null = null;
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : null;
  } catch {
    json = null;
  }
  return { status: res.status, body: text, json, ms };
}

export interface SlashFields {
  text: string;
  user_id?: string;
  channel_id?: string;
  response_url?: string;
  command?: string;
}

export function slashBody(fields: SlashFields & { response_url: string }): string {
  return new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: 'T0TEST',
    team_domain: 'fake',
    channel_id: fields.channel_id ?? 'C0OPS',
    channel_name: 'ops',
    user_id: fields.user_id ?? 'U0ALICE',
    user_name: 'alice',
    command: fields.command ?? '/triage',
    text: fields.text,
    api_app_id: 'A0TEST',
    is_enterprise_install: 'false',
    response_url: fields.response_url,
    trigger_id: '123.456.abc',
  }).toString();
}

/** POSTs a signed slash command to the bot's HTTP receiver and reports the ack time to the fake. */
export async function postSlashCommand(botUrl: string, fake: FakeSlack, fields: SlashFields, options: PostOptions = {}): Promise<SlackPostResult & { responseUrl: string }> {
  const responseUrl = fields.response_url ?? fake.responseUrl();
  const result = await post(`${botUrl}/slack/events`, slashBody({ ...fields, response_url: responseUrl }), { fake, ...options }, `/triage ${fields.text}`);
  return { ...result, responseUrl };
}

/** POSTs a signed block_actions interaction (a button press on the summary). */
export async function postButton(botUrl: string, fake: FakeSlack, press: { actionId: string; value: string; user?: string; channel?: string; messageTs?: string }, options: PostOptions = {}): Promise<SlackPostResult & { responseUrl: string }> {
  const responseUrl = fake.responseUrl();
  const payload = {
    type: 'block_actions',
    team: { id: 'T0TEST', domain: 'fake' },
    user: { id: press.user ?? 'U0ALICE', username: 'alice', team_id: 'T0TEST' },
    api_app_id: 'A0TEST',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: press.messageTs ?? '1700000000.000001', channel_id: press.channel ?? 'C0OPS', is_ephemeral: false },
    trigger_id: '123.456.abc',
    channel: { id: press.channel ?? 'C0OPS', name: 'ops' },
    message: { ts: press.messageTs ?? '1700000000.000001', text: 'summary' },
    response_url: responseUrl,
    actions: [{ action_id: press.actionId, block_id: 'triage.summary', type: 'button', value: press.value, text: { type: 'plain_text', text: 'x' }, action_ts: '1700000001.000000' }],
  };
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const result = await post(`${botUrl}/slack/events`, body, { fake, ...options }, `button ${press.actionId}`);
  return { ...result, responseUrl };
}
