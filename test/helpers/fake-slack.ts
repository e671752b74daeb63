/**
 * A local Slack Web API for tests: node:http on 127.0.0.1, handed to Bolt and web-api through
 * clientOptions.slackApiUrl. It records every call and ENFORCES what real Slack enforces, so a
 * bot that breaks a limit fails a test instead of failing in production:
 *   - ≤ 50 blocks per message, section text ≤ 3000 chars, header text ≤ 150;
 *   - a response_url takes ≤ 5 posts within 30 minutes;
 *   - the slash-command ack within 3 s (measured by the request helper, reported here);
 *   - 429 with Retry-After and 500 on demand (failNext).
 * Violations are answered the way Slack answers them and listed in `violations`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { eventually } from './eventually.js';

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  at: number;
  status: number;
  token?: string;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text?: string;
  blocks?: Array<Record<string, unknown>>;
  updates: number;
}

export interface ResponsePost {
  url: string;
  body: Record<string, unknown>;
  at: number;
}

export interface UploadedFile {
  id: string;
  filename: string;
  length: number;
  content: string;
  channel?: string;
  thread_ts?: string;
  title?: string;
}

export type Fault = { status: 429; retryAfter: number } | { status: 500 } | { error: string };

export interface FakeSlackOptions {
  botToken?: string;
  appToken?: string;
  groups?: Record<string, string[]>;
  /** users.conversations: the channels each user is in. */
  memberships?: Record<string, string[]>;
  /** Clock for response_url expiry (tests move it past 30 min). */
  now?: () => number;
}

const RESPONSE_URL_MAX_USES = 5;
const RESPONSE_URL_TTL_MS = 30 * 60_000;
export const ACK_LIMIT_MS = 3000;

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly messages: StoredMessage[] = [];
  readonly ephemerals: Array<{ channel: string; user: string; text?: string; blocks?: unknown[] }> = [];
  readonly responses: ResponsePost[] = [];
  readonly files: UploadedFile[] = [];
  readonly violations: string[] = [];
  readonly acks: number[] = [];
  /** views.publish: each user's App Home, newest. */
  readonly homes = new Map<string, { type?: string; blocks?: Array<Record<string, unknown>> }>();
  /** views.open: modals opened, in order. */
  readonly modals: Array<{ trigger_id: string; view: Record<string, unknown> }> = [];
  groups: Record<string, string[]>;
  private readonly faults = new Map<string, Fault[]>();
  private readonly responseUrls = new Map<string, { created: number; uses: number }>();
  private server?: Server;
  private wss?: WebSocketServer;
  private socketUrl?: string;
  readonly sockets = new Set<WebSocket>();
  private tsCounter = 0;
  private readonly now: () => number;
  port = 0;

  constructor(private readonly options: FakeSlackOptions = {}) {
    this.groups = options.groups ?? {};
    this.now = options.now ?? (() => Date.now());
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What web-api joins method names onto. */
  get apiUrl(): string {
    return `${this.base}/api/`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** A Socket Mode endpoint; apps.connections.open hands out its ws:// URL. */
  async startSocketMode(): Promise<WebSocketServer> {
    this.wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => this.wss!.once('listening', () => resolve()));
    this.socketUrl = `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/link`;
    this.wss.on('connection', (ws) => {
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'fake-slack', build_number: 1, approximate_connection_time: 18060 }, connection_info: { app_id: 'A0TEST' } }));
    });
    return this.wss;
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  /** The next `times` calls of `method` fail this way. */
  failNext(method: string, fault: Fault, times = 1): void {
    const list = this.faults.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push(fault);
    this.faults.set(method, list);
  }

  /** A fresh response_url, as Slack puts in every slash command and interaction. */
  responseUrl(): string {
    const id = randomUUID();
    this.responseUrls.set(id, { created: this.now(), uses: 0 });
    return `${this.base}/respond/${id}`;
  }

  recordAck(ms: number, what: string): void {
    this.acks.push(ms);
    if (ms > ACK_LIMIT_MS) this.violations.push(`${what}: acked after ${ms.toFixed(0)} ms (limit ${ACK_LIMIT_MS} ms)`);
  }

  callsOf(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  threadOf(ts: string): StoredMessage[] {
    return this.messages.filter((m) => m.thread_ts === ts);
  }

  waitFor<T>(probe: () => T | undefined | null | false, what: string, timeoutMs = 15_000): Promise<T> {
    return eventually(probe, `fake Slack: ${what}`, timeoutMs) as Promise<T>;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', this.base);
    if (url.pathname.startsWith('/respond/')) return this.handleResponseUrl(url.pathname.slice('/respond/'.length), raw, res);
    if (url.pathname.startsWith('/upload/')) return this.handleUpload(url.pathname.slice('/upload/'.length), raw, res);
    if (!url.pathname.startsWith('/api/')) return send(res, 404, { ok: false, error: 'not_found' });
    const method = url.pathname.slice('/api/'.length);
    const args = parseArgs(req.headers['content-type'] ?? '', raw);
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '') || (args.token as string | undefined);
    const call: SlackCall = { method, args, at: Date.now(), status: 200, ...(token ? { token } : {}) };
    this.calls.push(call);

    const fault = this.faults.get(method)?.shift();
    if (fault) {
      if ('status' in fault && fault.status === 429) {
        call.status = 429;
        res.writeHead(429, { 'retry-after': String(fault.retryAfter), 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
      }
      if ('status' in fault) {
        call.status = fault.status;
        return send(res, fault.status, { ok: false, error: 'internal_error' });
      }
      return send(res, 200, { ok: false, error: fault.error });
    }
    const expected = method === 'apps.connections.open' ? this.options.appToken : this.options.botToken;
    if (expected && token !== expected) return send(res, 200, { ok: false, error: 'invalid_auth' });
    return send(res, 200, this.answer(method, args));
  }

  private answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://fake.slack.test/', team: 'Fake', user: 'triage', team_id: 'T0TEST', user_id: 'U0BOT', bot_id: 'B0BOT' };
      case 'apps.connections.open':
        return this.socketUrl ? { ok: true, url: this.socketUrl } : { ok: false, error: 'socket_mode_not_enabled' };
      case 'chat.postMessage': {
        const problem = this.checkMessage(method, args);
        if (problem) return { ok: false, error: problem };
        const ts = this.nextTs();
        const message: StoredMessage = { channel: String(args.channel), ts, updates: 0, ...pickMessage(args) };
        this.messages.push(message);
        return { ok: true, channel: message.channel, ts, message: { ts, text: message.text } };
      }
      case 'chat.update': {
        const problem = this.checkMessage(method, args);
        if (problem) return { ok: false, error: problem };
        const message = this.messages.find((m) => m.channel === args.channel && m.ts === args.ts);
        if (!message) return { ok: false, error: 'message_not_found' };
        Object.assign(message, pickMessage(args), { updates: message.updates + 1 });
        return { ok: true, channel: message.channel, ts: message.ts };
      }
      case 'chat.postEphemeral': {
        const problem = this.checkMessage(method, args);
        if (problem) return { ok: false, error: problem };
        this.ephemerals.push({ channel: String(args.channel), user: String(args.user), text: args.text as string | undefined, blocks: args.blocks as unknown[] | undefined });
        return { ok: true, message_ts: this.nextTs() };
      }
      case 'files.getUploadURLExternal': {
        const id = `F${randomUUID().slice(0, 8).toUpperCase()}`;
        this.files.push({ id, filename: String(args.filename), length: Number(args.length), content: '' });
        return { ok: true, upload_url: `${this.base}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        const list = (args.files as Array<{ id: string; title?: string }>) ?? [];
        for (const f of list) {
          const file = this.files.find((x) => x.id === f.id);
          if (!file) return { ok: false, error: 'file_not_found' };
          Object.assign(file, { channel: args.channel_id as string | undefined, thread_ts: args.thread_ts as string | undefined, title: f.title });
        }
        return { ok: true, files: list.map((f) => ({ id: f.id, title: f.title })) };
      }
      case 'chat.getPermalink': {
        const message = this.messages.find((m) => m.channel === args.channel && m.ts === args.message_ts);
        return message ? { ok: true, channel: message.channel, permalink: `https://fake.slack.test/archives/${message.channel}/p${message.ts.replace('.', '')}` } : { ok: false, error: 'message_not_found' };
      }
      case 'views.open': {
        const view = args.view as Record<string, unknown> | undefined;
        const problems = blockProblems(view?.blocks, 100);
        if (!args.trigger_id || !view || problems.length) {
          this.violations.push(`views.open: ${problems.join('; ') || 'no trigger_id or view'}`);
          return { ok: false, error: 'invalid_arguments' };
        }
        this.modals.push({ trigger_id: String(args.trigger_id), view });
        return { ok: true, view: { id: `V${this.modals.length}` } };
      }
      case 'views.publish': {
        const view = args.view as { type?: string; blocks?: Array<Record<string, unknown>> } | undefined;
        const problems = blockProblems(view?.blocks, 100);
        if (!args.user_id || view?.type !== 'home' || problems.length) {
          this.violations.push(`views.publish: ${problems.join('; ') || 'no user_id or not a home view'}`);
          return { ok: false, error: 'invalid_arguments' };
        }
        this.homes.set(String(args.user_id), view);
        return { ok: true, view: { id: 'VHOME' } };
      }
      case 'users.conversations': {
        const channels = this.options.memberships?.[String(args.user)] ?? [];
        return { ok: true, channels: channels.map((id) => ({ id })), response_metadata: { next_cursor: '' } };
      }
      case 'usergroups.users.list': {
        const users = this.groups[String(args.usergroup)];
        return users ? { ok: true, users } : { ok: false, error: 'no_such_subteam' };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  /** Block Kit limits Slack enforces with `invalid_blocks` / `msg_too_long`. */
  private checkMessage(method: string, args: Record<string, unknown>): string | null {
    const problems = blockProblems(args.blocks);
    if (!args.text && !args.blocks) problems.push('no text or blocks');
    if (!problems.length) return null;
    this.violations.push(`${method}: ${problems.join('; ')}`);
    return 'invalid_blocks';
  }

  private handleResponseUrl(id: string, raw: Buffer, res: ServerResponse): void {
    const entry = this.responseUrls.get(id);
    const url = `${this.base}/respond/${id}`;
    if (!entry) return send(res, 404, { ok: false, error: 'invalid_url' });
    entry.uses++;
    if (entry.uses > RESPONSE_URL_MAX_USES) {
      this.violations.push(`response_url used ${entry.uses} times (limit ${RESPONSE_URL_MAX_USES})`);
      return send(res, 404, { ok: false, error: 'used_url' });
    }
    if (this.now() - entry.created > RESPONSE_URL_TTL_MS) {
      this.violations.push('response_url used after 30 minutes');
      return send(res, 404, { ok: false, error: 'expired_url' });
    }
    const body = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
    const problems = blockProblems(body.blocks);
    if (problems.length) {
      this.violations.push(`response_url: ${problems.join('; ')}`);
      return send(res, 400, { ok: false, error: 'invalid_blocks' });
    }
    this.responses.push({ url, body, at: Date.now() });
    return send(res, 200, { ok: true });
  }

  private handleUpload(id: string, raw: Buffer, res: ServerResponse): void {
    const file = this.files.find((f) => f.id === id);
    if (!file) return send(res, 404, { ok: false, error: 'file_not_found' });
    file.content = raw.toString('utf8');
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`OK - ${raw.length}`);
  }

  private nextTs(): string {
    this.tsCounter++;
    return `1700000000.${String(this.tsCounter).padStart(6, '0')}`;
  }
}

/** Messages take 50 blocks; modals and App Home views take 100. */
export function blockProblems(blocks: unknown, maxBlocks = 50): string[] {
  if (blocks === undefined) return [];
  if (!Array.isArray(blocks)) return ['blocks is not an array'];
  const problems: string[] = [];
  if (blocks.length > maxBlocks) problems.push(`${blocks.length} blocks (limit ${maxBlocks})`);
  for (const [i, block] of blocks.entries()) {
    const b = block as { type?: string; text?: { text?: string }; elements?: Array<{ text?: unknown }> };
    if (b.type === 'section' && (b.text?.text?.length ?? 0) > 3000) problems.push(`block ${i}: section text ${b.text?.text?.length} chars (limit 3000)`);
    if (b.type === 'header' && (b.text?.text?.length ?? 0) > 150) problems.push(`block ${i}: header text ${b.text?.text?.length} chars (limit 150)`);
    if (b.type === 'context' && (b.elements?.length ?? 0) > 10) problems.push(`block ${i}: ${b.elements?.length} context elements (limit 10)`);
    if (b.type === 'actions' && (b.elements?.length ?? 0) > 25) problems.push(`block ${i}: ${b.elements?.length} actions (limit 25)`);
    for (const el of (b.type === 'actions' ? b.elements : undefined) ?? []) {
      const e = el as { value?: string; confirm?: { title?: { text?: string }; text?: { text?: string }; confirm?: { text?: string }; deny?: { text?: string } } };
      if ((e.value?.length ?? 0) > 2000) problems.push(`block ${i}: button value ${e.value?.length} chars (limit 2000)`);
      const c = e.confirm;
      if (c && ((c.title?.text?.length ?? 0) > 100 || (c.text?.text?.length ?? 0) > 300 || (c.confirm?.text?.length ?? 0) > 30 || (c.deny?.text?.length ?? 0) > 30)) problems.push(`block ${i}: confirm dialog over its limits (title 100, text 300, buttons 30)`);
    }
  }
  return problems;
}

function pickMessage(args: Record<string, unknown>): Partial<StoredMessage> {
  return {
    ...(args.text !== undefined ? { text: String(args.text) } : {}),
    ...(args.blocks !== undefined ? { blocks: args.blocks as StoredMessage['blocks'] } : {}),
    ...(args.thread_ts !== undefined ? { thread_ts: String(args.thread_ts) } : {}),
  };
}

/** web-api posts form-encoded bodies with JSON-encoded arrays/objects; some clients post JSON. */
function parseArgs(contentType: string, raw: Buffer): Record<string, unknown> {
  const text = raw.toString('utf8');
  if (contentType.includes('application/json')) return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    out[k] = /^[[{]/.test(v) ? safeJson(v) : v;
  }
  return out;
}

function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
