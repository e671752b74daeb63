/**
 * Signed Slack requests the shared helper does not build: a modal submission, an Events API
 * callback, and raw bodies (garbage, a future timestamp) for the receiver's edges.
 */
import type { FakeSlack } from '../helpers/fake-slack.js';
import { sign, SIGNING_SECRET } from '../helpers/slack-requests.js';

export interface RawResult {
  status: number;
  body: string;
  ms: number;
}

export async function postRaw(botUrl: string, body: string, options: { contentType?: string; timestamp?: number; fake?: FakeSlack; what?: string } = {}): Promise<RawResult> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const started = performance.now();
  const res = await fetch(`${botUrl}/slack/events`, { method: 'POST', headers: { 'content-type': options.contentType ?? 'application/x-www-form-urlencoded', ...sign(SIGNING_SECRET, body, timestamp) }, body });
  const text = await res.text();
  const ms = performance.now() - started;
  options.fake?.recordAck(ms, options.what ?? 'raw request');
  return { status: res.status, body: text, ms };
}

/** A view_submission of the resolve-reason modal, as Slack sends it when the user presses Resolve. */
export function postViewSubmission(botUrl: string, fake: FakeSlack, submit: { user: string; callbackId: string; privateMetadata: string; reason: string }): Promise<RawResult> {
  const payload = {
    type: 'view_submission',
    team: { id: 'T0TEST', domain: 'fake' },
    user: { id: submit.user, username: 'someone', team_id: 'T0TEST' },
    api_app_id: 'A0TEST',
    token: 'legacy-verification-token',
    trigger_id: '123.456.def',
    view: {
      id: 'V1',
      team_id: 'T0TEST',
      type: 'modal',
      callback_id: submit.callbackId,
      private_metadata: submit.privateMetadata,
      state: { values: { reason: { reason: { type: 'plain_text_input', value: submit.reason } } } },
      hash: 'h',
      blocks: [],
      title: { type: 'plain_text', text: 'Resolve incident' },
    },
  };
  return postRaw(botUrl, new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), { fake, what: 'view_submission' });
}

/** An Events API callback: the user opened the app's Home tab. */
export function postAppHomeOpened(botUrl: string, fake: FakeSlack, user: string): Promise<RawResult> {
  const body = JSON.stringify({
    token: 'legacy-verification-token',
    team_id: 'T0TEST',
    api_app_id: 'A0TEST',
    type: 'event_callback',
    event_id: `Ev${Math.random().toString(36).slice(2, 10)}`,
    event_time: Math.floor(Date.now() / 1000),
    event: { type: 'app_home_opened', user, channel: 'D0HOME', tab: 'home', event_ts: `${Date.now() / 1000}` },
  });
  return postRaw(botUrl, body, { contentType: 'application/json', fake, what: 'app_home_opened' });
}

/** The first button of an ephemeral answer (the confirm prompt of an intrusive command). */
export function firstButton(body: Record<string, unknown>): { action_id: string; value: string; confirm?: { title: { text: string }; text: { text: string } } } | undefined {
  const blocks = (body.blocks as Array<{ type: string; elements?: Array<Record<string, unknown>> }> | undefined) ?? [];
  return blocks.find((b) => b.type === 'actions')?.elements?.[0] as ReturnType<typeof firstButton>;
}
