import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../templates/blocks.js';
import { registryYaml, startHarness, type Harness } from '../helpers/bot-harness.js';
import { postButton, postSlashCommand } from '../helpers/slack-requests.js';
import { eventually } from '../helpers/eventually.js';
import { postRaw } from './lifecycle-requests.js';

const ACCESS = (scope: string) => `access:
  channels: [C0OPS, C0OTHER]
  intrusiveUsers: [U0ROOT]
  incidentScope: ${scope}
`;
const SERVERS = { 'prod-a': { url: 'http://127.0.0.1:9', host: 'gpu-1' } };

describe('Slack edges (issue 12.8): clock skew, hostile bodies, huge arguments, channel scope', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ registry: registryYaml(SERVERS, ACCESS('channel')) });
  });
  afterAll(async () => {
    expect(h.fake.violations).toEqual([]);
    await h?.stop();
  });

  it('refuses a correctly signed request dated more than 5 minutes away, in the future as in the past', async () => {
    const now = Math.floor(Date.now() / 1000);
    const statuses = [];
    for (const skew of [400, -400, 330, -330]) statuses.push((await postSlashCommand(h.botUrl, h.fake, { text: 'help' }, { timestamp: now + skew })).status);
    expect(statuses).toEqual([401, 401, 401, 401]);
    expect((await postSlashCommand(h.botUrl, h.fake, { text: 'help' }, { timestamp: now + 200 })).status).toBe(200);
    expect((await postSlashCommand(h.botUrl, h.fake, { text: 'help' }, { timestamp: now - 200 })).status).toBe(200);
  });

  it('a signed garbage body, an unknown button or an unknown modal is answered 400 at once, not 404 after 3 s', async () => {
    const cases = [
      ['garbage', 'this is not a slack payload \u0000\u00ff'],
      ['payload not JSON', new URLSearchParams({ payload: '{not json' }).toString()],
      ['empty', ''],
      ['unknown interaction', new URLSearchParams({ payload: JSON.stringify({ type: 'shortcut', callback_id: 'x' }) }).toString()],
      ['unknown view', new URLSearchParams({ payload: JSON.stringify({ type: 'view_submission', view: { callback_id: 'someone.else' }, user: { id: 'U0ALICE' } }) }).toString()],
    ] as const;
    for (const [what, body] of cases) {
      const res = await postRaw(h.botUrl, body, { what });
      expect(res.status, what).toBe(400);
      expect(res.ms, what).toBeLessThan(1000);
    }
    const json = await postRaw(h.botUrl, '{"type": ', { contentType: 'application/json', what: 'broken JSON' });
    expect(json.status).toBe(400);

    const unknown = await postButton(h.botUrl, h.fake, { actionId: 'someone.elses_button', value: 'inc-x' });
    expect(unknown.status).toBe(400);
    expect(unknown.ms).toBeLessThan(1000);
    const known = await postButton(h.botUrl, h.fake, { actionId: ACTIONS.route, value: 'inc-x' });
    expect(known.status).toBe(200);
  });

  it('a 1 MiB argument is cut when echoed and when audited', async () => {
    const huge = `${'A'.repeat(1024 * 1024)}`;
    const unknownSub = await postSlashCommand(h.botUrl, h.fake, { text: huge });
    expect(unknownSub.status).toBe(200);
    expect(unknownSub.body.length).toBeLessThan(2000);
    expect(String(unknownSub.json?.text)).toContain('more characters');

    const server = await postSlashCommand(h.botUrl, h.fake, { text: `capture ${huge.toLowerCase()}` });
    expect(server.body.length).toBeLessThan(2000);
    expect(String(server.json?.text)).toMatch(/Unknown server `a{80}… \(\d+ more characters\)`/);

    const status = await postSlashCommand(h.botUrl, h.fake, { text: `status inc-${'9'.repeat(200_000)}` });
    const answer = await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === status.responseUrl), 'status answer');
    expect(JSON.stringify(answer.body).length).toBeLessThan(2000);

    await eventually(async () => (await h.deps.audit.recent(1))[0]?.command === 'status', 'audited');
    for (const entry of await h.deps.audit.recent(3)) expect(entry.args.length).toBeLessThan(2100);
  });

  it('an incident is scoped to its channel: another allowed channel can neither see nor resolve it by id', async () => {
    await postSlashCommand(h.botUrl, h.fake, { text: 'capture prod-a', channel_id: 'C0OPS' });
    const incident = await eventually(async () => (await h.store.newestInChannel('C0OPS')) ?? undefined, 'incident');
    const asked = async (text: string, user = 'U0ROOT') => {
      const res = await postSlashCommand(h.botUrl, h.fake, { text, user_id: user, channel_id: 'C0OTHER' });
      return String((await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === res.responseUrl), text)).body.text);
    };
    for (const text of [`status ${incident.id}`, `resolve ${incident.id} not mine to close`, `own ${incident.id}`, `severity sev1 ${incident.id}`, `route ${incident.id}`, `replay ${incident.id}`]) {
      expect(await asked(text), text).toBe(`No incident \`${incident.id}\` in this channel.`);
    }
    const press = await postButton(h.botUrl, h.fake, { actionId: ACTIONS.resolve, value: incident.id, user: 'U0ROOT', channel: 'C0OTHER' });
    expect(String((await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === press.responseUrl), 'press')).body.text)).toContain('in this channel');
    expect((await h.store.require(incident.id)).status).toBe('open');
    expect(h.fake.modals).toHaveLength(0);
  });
});

describe('access.incidentScope: workspace', () => {
  it('lets every allowed channel act on any incident', async () => {
    const h = await startHarness({ registry: registryYaml(SERVERS, ACCESS('workspace')) });
    try {
      await postSlashCommand(h.botUrl, h.fake, { text: 'capture prod-a', channel_id: 'C0OPS' });
      const incident = await eventually(async () => (await h.store.newestInChannel('C0OPS')) ?? undefined, 'incident');
      const res = await postSlashCommand(h.botUrl, h.fake, { text: `status ${incident.id}`, channel_id: 'C0OTHER' });
      const answer = await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === res.responseUrl), 'status');
      expect(JSON.stringify(answer.body.blocks)).toContain(incident.id);
    } finally {
      await h.stop();
    }
  });
});
