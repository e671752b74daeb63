import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryYaml, startHarness, type Harness } from '../helpers/bot-harness.js';

const TOKEN = 'alert-token-socket-0123456789';

/** In Socket Mode Slack needs no HTTP port, but Alertmanager does: the ops server takes the webhook. */
describe('Alertmanager webhook in Socket Mode (ops port)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      registry: registryYaml({ 'prod-a': { url: 'http://127.0.0.1:9', host: 'gpu-1' } }, 'alerts:\n  channel: C0ALERTS\n'),
      socketMode: true,
      config: { alertToken: TOKEN },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('refuses without the token and opens an incident with it', async () => {
    const body = JSON.stringify({
      version: '4', groupKey: 'k', status: 'firing', receiver: 'triage', groupLabels: {}, commonLabels: {}, commonAnnotations: {},
      alerts: [{ status: 'firing', labels: { alertname: 'SGLangHealthProbeFailing', server: 'prod-a' }, annotations: {}, startsAt: '2026-12-01T10:00:00Z', fingerprint: '0123456789abcdef' }],
    });
    const url = `http://127.0.0.1:${h.bot.port}/alerts/alertmanager`;
    expect((await fetch(url, { method: 'POST', body })).status).toBe(401);
    const res = await fetch(url, { method: 'POST', body, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ opened: 1 });
    // serverLabel defaults to `server`.
    expect(await h.store.newestInChannel('C0ALERTS')).toMatchObject({ server: 'prod-a', createdBy: 'alertmanager' });
    // Only POST reaches the receiver.
    expect((await fetch(url)).status).toBe(404);
  });
});
