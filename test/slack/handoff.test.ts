import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEVERITIES } from '../../src/incident/types.js';
import { registryYaml, startHarness, type Harness } from '../helpers/bot-harness.js';
import { postSlashCommand } from '../helpers/slack-requests.js';
import { eventually } from '../helpers/eventually.js';
import { postAppHomeOpened } from './lifecycle-requests.js';

const ACCESS = `access:
  channels: [C0OPS, C0OTHER]
  intrusiveUsers: [U0ROOT]
`;

const HERE = 900;
const THERE = 20;
const RESOLVED = 5;

describe('handoff over more than 200 incidents in real Redis, and the App Home tab', () => {
  let h: Harness;
  const ids: string[] = [];
  const otherIds: string[] = [];

  beforeAll(async () => {
    h = await startHarness({
      registry: registryYaml({ 'prod-a': { url: 'http://127.0.0.1:9', host: 'gpu-1' } }, ACCESS),
      fake: { memberships: { U0ALICE: ['C0OPS', 'C0RANDOM'] } },
    });
    // Incidents as the bot's own store writes them; each its own dedupe scope (one per alert, say).
    for (let i = 0; i < HERE + THERE; i++) {
      const channel = i < HERE ? 'C0OPS' : 'C0OTHER';
      const { incident } = await h.store.open({ server: 'prod-a', host: 'gpu-1', channel, createdBy: 'alertmanager', pipeline: 'capture' }, { scope: `alert-${i}`, windowMs: 600_000 });
      (i < HERE ? ids : otherIds).push(incident.id);
      if (i % 3 === 0) await h.store.update(incident.id, { severity: SEVERITIES[i % 4]!, owner: `U0OWNER${i % 5}`, permalink: `https://fake.slack.test/archives/${channel}/p17000000000${String(i).padStart(5, '0')}` });
    }
    for (const id of ids.slice(0, RESOLVED)) await h.store.transition(id, 'resolved', ['open'], { resolvedBy: 'U0ROOT', resolvedAt: new Date().toISOString(), resolveReason: `fixed ${id}` });
  });
  afterAll(async () => {
    expect(h.fake.violations).toEqual([]);
    await h?.stop();
  });

  it('the store pages through every open incident: no 200 cap, any page size', async () => {
    expect(await h.store.countActive()).toBe(HERE + THERE - RESOLVED);
    expect((await h.store.listActive()).length).toBe(HERE + THERE - RESOLVED);
    expect((await h.store.listActive(Infinity, 7)).map((i) => i.id)).toEqual((await h.store.listActive()).map((i) => i.id));
    expect((await h.store.listActive(10)).length).toBe(10);
    expect((await h.store.listResolvedSince(new Date(Date.now() - 3600_000))).map((i) => i.id).sort()).toEqual(ids.slice(0, RESOLVED).sort());
  });

  it('/triage handoff counts every open incident of the channel, lists what the shift resolved, and attaches the full list', async () => {
    const res = await postSlashCommand(h.botUrl, h.fake, { text: 'handoff --since 8h' });
    const answer = await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === res.responseUrl), 'handoff answer');
    expect(answer.body.response_type).toBe('in_channel');
    expect(String(answer.body.text)).toBe(`Handoff in #C0OPS: ${HERE - RESOLVED} open, ${RESOLVED} resolved since ${new Date(Date.now() - 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ')}Z`);
    const blocks = JSON.stringify(answer.body.blocks);
    expect(blocks).toContain('fixed ');
    expect(blocks).toContain('more open incidents not shown here');
    for (const id of otherIds) expect(blocks).not.toContain(id);
    // Most urgent first.
    expect(blocks.indexOf('*SEV1*')).toBeLessThan(blocks.indexOf('*SEV4*'));

    const file = await h.fake.waitFor(() => h.fake.files.find((f) => f.filename.startsWith('handoff-') && f.channel === 'C0OPS'), 'the handoff file');
    for (const id of ids.slice(RESOLVED)) expect(file.content).toContain(`- ${id} |`);
    for (const id of ids.slice(0, RESOLVED)) expect(file.content).toContain(`fixed ${id}`);
    for (const id of otherIds) expect(file.content).not.toContain(id);
    expect(file.content).toContain('owner U0OWNER');
    expect(file.content).toContain('https://fake.slack.test/archives/C0OPS/');
  });

  it('the App Home tab shows the incidents of the channels the user is in', async () => {
    const res = await postAppHomeOpened(h.botUrl, h.fake, 'U0ALICE');
    expect(res.status).toBe(200);
    const home = await h.fake.waitFor(() => h.fake.homes.get('U0ALICE'), 'views.publish');
    expect(home.type).toBe('home');
    const text = JSON.stringify(home.blocks);
    expect(text).toContain(`Handoff: ${HERE - RESOLVED} open`);
    expect(text).toContain('in your channels');
    expect(text).toContain(ids.at(-1));
    for (const id of otherIds) expect(text).not.toContain(id);
    await eventually(async () => (await h.deps.metrics.registry.getSingleMetricAsString('triage_slack_commands_total')).includes('command="event:app_home_opened",outcome="ok"'), 'home counted');
  });

  it('someone in none of the incidents\' channels sees none of them', async () => {
    await postAppHomeOpened(h.botUrl, h.fake, 'U0STRANGER');
    const home = await h.fake.waitFor(() => h.fake.homes.get('U0STRANGER'), 'views.publish');
    expect(JSON.stringify(home.blocks)).toContain('Handoff: 0 open');
  });
});
