import { webApi } from '@slack/bolt';
import type { Logger } from '../pipelines/types.js';
import type { SlackMessage } from '../../templates/blocks.js';
import type { BotMetrics } from './metrics.js';

export type SlackResult<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Every Slack Web API call the bot makes goes through here. The WebClient itself honours 429
 * Retry-After and retries 5xx with backoff (clientOptions.retryConfig); what still fails is
 * counted, logged and returned as a value, so callers record it instead of crashing.
 */
export class SlackPoster {
  constructor(
    private readonly client: webApi.WebClient,
    private readonly metrics: BotMetrics,
    private readonly logger: Logger,
  ) {
    client.on(webApi.WebClientEvent.RATE_LIMITED, (retryAfterS: number, { url }: { url: string }) => {
      const method = url.split('/').pop() ?? 'unknown';
      metrics.slackErrors.inc({ method, error: 'ratelimited' });
      logger.warn('slack rate limited; waiting as told', { method, retryAfterS });
    });
  }

  post(channel: string, message: SlackMessage, threadTs?: string): Promise<SlackResult<string>> {
    return this.call('chat.postMessage', async () => {
      const res = await this.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks, ...(threadTs ? { thread_ts: threadTs } : {}), unfurl_links: false });
      return res.ts ?? '';
    });
  }

  update(channel: string, ts: string, message: SlackMessage): Promise<SlackResult<void>> {
    return this.call('chat.update', async () => {
      await this.client.chat.update({ channel, ts, text: message.text, blocks: message.blocks });
    });
  }

  ephemeral(channel: string, user: string, message: SlackMessage): Promise<SlackResult<void>> {
    return this.call('chat.postEphemeral', async () => {
      await this.client.chat.postEphemeral({ channel, user, text: message.text, blocks: message.blocks });
    });
  }

  /** files.uploadV2: getUploadURLExternal → upload → completeUploadExternal, shared into the thread. */
  upload(channel: string, threadTs: string | undefined, file: { filename: string; title: string; content: string }): Promise<SlackResult<void>> {
    return this.call('files.uploadV2', async () => {
      const common = { filename: file.filename, title: file.title, content: file.content };
      await this.client.files.uploadV2(threadTs ? { ...common, channel_id: channel, thread_ts: threadTs } : { ...common, channel_id: channel });
    });
  }

  /** chat.getPermalink: the thread link handoff shows (one call per incident, when it opens). */
  permalink(channel: string, ts: string): Promise<SlackResult<string>> {
    return this.call('chat.getPermalink', async () => {
      const res = await this.client.chat.getPermalink({ channel, message_ts: ts });
      return res.permalink ?? '';
    });
  }

  /** views.open: a modal, answering a button press (its trigger_id lives 3 s). */
  openView(triggerId: string, view: webApi.ViewsOpenArguments['view']): Promise<SlackResult<void>> {
    return this.call('views.open', async () => {
      await this.client.views.open({ trigger_id: triggerId, view });
    });
  }

  /** views.publish: a user's App Home tab. */
  publishHome(user: string, view: webApi.ViewsPublishArguments['view']): Promise<SlackResult<void>> {
    return this.call('views.publish', async () => {
      await this.client.views.publish({ user_id: user, view });
    });
  }

  /** users.conversations: the channels a user is in (for incidents scoped to their channel), every page. */
  userChannels(user: string): Promise<SlackResult<string[]>> {
    return this.call('users.conversations', async () => {
      const ids: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 50; page++) {
        const res = await this.client.users.conversations({ user, types: 'public_channel,private_channel', exclude_archived: true, limit: 200, ...(cursor ? { cursor } : {}) });
        for (const c of res.channels ?? []) if (c.id) ids.push(c.id);
        cursor = res.response_metadata?.next_cursor || undefined;
        if (!cursor) break;
      }
      return ids;
    });
  }

  usergroupMembers(usergroup: string): Promise<SlackResult<string[]>> {
    return this.call('usergroups.users.list', async () => {
      const res = await this.client.usergroups.users.list({ usergroup });
      return res.users ?? [];
    });
  }

  private async call<T>(method: string, fn: () => Promise<T>): Promise<SlackResult<T>> {
    try {
      return { ok: true, value: await fn() };
    } catch (err) {
      const error = slackErrorCode(err);
      this.metrics.slackErrors.inc({ method, error });
      this.logger.warn('slack call failed', { method, error });
      return { ok: false, error };
    }
  }
}

/** web-api errors carry a code, and platform errors Slack's own `error` string. */
export function slackErrorCode(err: unknown): string {
  const e = err as { code?: string; data?: { error?: string }; statusCode?: number; original?: { message?: string } };
  if (e?.data?.error) return e.data.error;
  if (e?.statusCode) return `http_${e.statusCode}`;
  if (e?.code) return e.code;
  return err instanceof Error ? err.message : String(err);
}
