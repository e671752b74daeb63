import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryYaml, startHarness, type Harness } from '../helpers/bot-harness.js';

describe('Socket Mode: envelopes over a local WebSocket', () => {
  let h: Harness;
  let socket: WebSocket;

  beforeAll(async () => {
    h = await startHarness({ registry: registryYaml({ 'prod-a': { url: 'http://127.0.0.1:9', host: 'gpu-1' } }), socketMode: true });
    socket = await h.fake.waitFor(() => [...h.fake.sockets][0], 'the bot to connect');
  });
  afterAll(async () => {
    await h?.stop();
  });

  function envelope(text: string): { id: string; ack: Promise<{ ms: number; payload?: Record<string, unknown> }> } {
    const id = randomUUID();
    const started = performance.now();
    const ack = new Promise<{ ms: number; payload?: Record<string, unknown> }>((resolve) => {
      const onMessage = (raw: Buffer) => {
        const msg = JSON.parse(raw.toString()) as { envelope_id?: string; payload?: Record<string, unknown> };
        if (msg.envelope_id !== id) return;
        socket.off('message', onMessage);
        resolve({ ms: performance.now() - started, ...(msg.payload ? { payload: msg.payload } : {}) });
      };
      socket.on('message', onMessage);
    });
    socket.send(
      JSON.stringify({
        envelope_id: id,
        type: 'slash_commands',
        accepts_response_payload: true,
        payload: { token: 't', team_id: 'T0TEST', channel_id: 'C0OPS', user_id: 'U0ALICE', command: '/triage', text, api_app_id: 'A0TEST', response_url: h.fake.responseUrl(), trigger_id: '1.2.3' },
      }),
    );
    return { id, ack };
  }

  it('opened the connection through apps.connections.open with the app token', () => {
    const open = h.fake.callsOf('apps.connections.open');
    expect(open.length).toBeGreaterThanOrEqual(1);
    expect(open[0]!.token).toBe('xapp-test-app-token');
  });

  it('acks a slash_commands envelope with the answer as its payload', async () => {
    const { ack } = envelope('capture');
    const { ms, payload } = await ack;
    expect(ms).toBeLessThan(3000);
    expect(payload).toMatchObject({ response_type: 'ephemeral' });
    expect(String(payload?.text)).toContain('Which server?');
  });

  it('acks a capture at once, then opens the incident', async () => {
    const { ack } = envelope('capture prod-a');
    const { ms } = await ack;
    expect(ms).toBeLessThan(3000);
    await h.fake.waitFor(() => h.fake.messages.find((m) => m.text?.includes('capture on prod-a')), 'opening message');
    expect((await h.store.newestInChannel('C0OPS'))?.server).toBe('prod-a');
  });

  it('serves /healthz and /metrics on its own port in Socket Mode', async () => {
    const res = await fetch(`http://127.0.0.1:${h.bot.port}/healthz`);
    expect(res.status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${h.bot.port}/metrics`)).text()).toContain('triage_slack_commands_total');
  });
});
