import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryYaml, startHarness, type Harness } from '../helpers/bot-harness.js';
import { postButton, postSlashCommand } from '../helpers/slack-requests.js';
import { eventually } from '../helpers/eventually.js';
import { ACTIONS } from '../../templates/blocks.js';
import { RUNNABLE_PIPELINES } from '../../src/pipelines/catalog.js';
import { firstButton } from './lifecycle-requests.js';

const ACCESS = `access:
  channels: [C0OPS, C0OPS2]
  intrusiveUsers: [U0ROOT]
  intrusiveGroups: [S0ONCALL]
`;

describe('/triage through the real Bolt HTTP receiver', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      registry: registryYaml({ 'prod-a': { url: 'http://127.0.0.1:9', host: 'gpu-1' }, 'prod-b': { url: 'http://127.0.0.1:9', host: 'gpu-2' } }, ACCESS),
      fake: { groups: { S0ONCALL: ['U0BOB'] } },
    });
  });
  afterAll(async () => {
    expect(h.fake.violations).toEqual([]);
    await h?.stop();
  });

  const slash = (text: string, more: Partial<{ user_id: string; channel_id: string }> = {}, options = {}) => postSlashCommand(h.botUrl, h.fake, { text, ...more }, options);
  const lastAudit = async () => (await h.deps.audit.recent(1))[0];

  it('help is answered in the ack itself, ephemerally', async () => {
    const res = await slash('help');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ response_type: 'ephemeral' });
    for (const sub of ['capture <server>', `run <${RUNNABLE_PIPELINES.join('|')}> <server>`, 'replay [incident] [--target <server>]', 'route [incident]', 'status [incident]', 'own [incident]', 'severity <sev1|sev2|sev3|sev4> [incident]', 'state <investigating|mitigated>', 'resolve [incident] <reason…>', 'handoff [--since 12h]']) expect(JSON.stringify(res.json?.blocks)).toContain(`/triage ${sub}`);
    expect(await lastAudit()).toMatchObject({ command: 'help', user: 'U0ALICE', channel: 'C0OPS', outcome: 'ok' });
  });

  it.each([
    ['capture', 'Which server?'],
    ['capture prod-a prod-b', 'Name one server.'],
    ['capture prod-a --force', 'Unknown option --force.'],
    ['frobnicate now', 'Unknown subcommand `frobnicate`'],
    ['capture http://10.0.0.9:30000', 'not a URL'],
    ['handoff everything', 'Handoff takes no arguments.'],
    ['replay --target', '--target needs a registered server name.'],
  ])('malformed "/triage %s" gets an ephemeral usage message', async (text, expected) => {
    const res = await slash(text);
    expect(res.status).toBe(200);
    expect(res.json?.response_type).toBe('ephemeral');
    expect(String(res.json?.text)).toContain(expected);
    expect(await lastAudit()).toMatchObject({ args: text, outcome: 'usage' });
  });

  it('an unknown server is answered with the registered ones', async () => {
    const res = await slash('capture prod-z');
    expect(String(res.json?.text)).toContain('Unknown server `prod-z`. Registered servers: `prod-a`, `prod-b`');
    expect(await lastAudit()).toMatchObject({ outcome: 'unknown-server', detail: 'prod-z' });
    const target = await slash('replay --target nowhere');
    expect(String(target.json?.text)).toContain('Unknown server `nowhere`');
  });

  it('a channel that is not allowed is refused ephemerally and audited; nothing starts', async () => {
    const before = h.fake.callsOf('chat.postMessage').length;
    const res = await slash('capture prod-a', { channel_id: 'C0RANDOM', user_id: 'U0MALLORY' });
    expect(res.json?.response_type).toBe('ephemeral');
    expect(String(res.json?.text)).toContain('not enabled in this channel');
    expect(await lastAudit()).toMatchObject({ command: 'capture', user: 'U0MALLORY', channel: 'C0RANDOM', outcome: 'forbidden', detail: 'channel not allowed' });
    expect(h.fake.callsOf('chat.postMessage').length).toBe(before);
    expect(await h.store.newestInChannel('C0RANDOM')).toBeNull();
  });

  it('a duplicate capture and a Slack retry join the same incident, with one job', async () => {
    const first = await slash('capture prod-b', { channel_id: 'C0OPS2' });
    const started = await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === first.responseUrl), 'first answer');
    expect(String(started.body.text)).toMatch(/^Started `inc-/);
    const incident = (await h.store.newestInChannel('C0OPS2'))!;

    const second = await slash('capture prod-b', { channel_id: 'C0OPS2', user_id: 'U0BOB' });
    const joined = await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === second.responseUrl), 'second answer');
    expect(String(joined.body.text)).toContain(`Joined open incident \`${incident.id}\``);

    const retry = await slash('capture prod-b', { channel_id: 'C0OPS2' }, { retryNum: 1 });
    expect(retry.status).toBe(200);
    // Wait until the retry is audited, then check it answered nobody a second time.
    await eventually(async () => (await lastAudit())?.retryNum === 1, 'the retry to be audited');
    expect(await lastAudit()).toMatchObject({ outcome: 'joined', incidentId: incident.id, retryNum: 1 });
    expect(h.fake.responses.filter((r) => r.url === retry.responseUrl)).toEqual([]);

    const roots = h.fake.messages.filter((m) => m.channel === 'C0OPS2' && !m.thread_ts);
    expect(roots).toHaveLength(1);
    const counts = await h.deps.producer.queue('gpu-2').getJobCounts('waiting', 'active', 'delayed');
    expect((counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0)).toBe(1);
    const record = await h.store.require(incident.id);
    expect(record.timeline.filter((t) => t.kind === 'joined')).toHaveLength(2);
  });

  it('status shows the newest incident of the channel, or the one named', async () => {
    const newest = (await h.store.newestInChannel('C0OPS2'))!;
    const res = await slash('status', { channel_id: 'C0OPS2' });
    const answer = await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === res.responseUrl), 'status answer');
    expect(answer.body.response_type).toBe('ephemeral');
    expect(JSON.stringify(answer.body.blocks)).toContain(newest.id);
    expect(JSON.stringify(answer.body.blocks)).toContain('capture queued on gpu-2');

    const missing = await slash('status inc-nope');
    const none = await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === missing.responseUrl), 'missing answer');
    expect(String(none.body.text)).toContain('No incident `inc-nope` in this channel');
  });

  it('handoff lists every open incident of this channel, and none of another', async () => {
    const open = await h.store.listActive();
    const here = open.filter((i) => i.channel === 'C0OPS2');
    expect(here.length).toBeGreaterThan(0);
    await slash('capture prod-a', { channel_id: 'C0OPS' });
    const elsewhere = await eventually(async () => (await h.store.newestInChannel('C0OPS')) ?? undefined, 'an incident in C0OPS');
    const res = await slash('handoff', { channel_id: 'C0OPS2' });
    const answer = await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === res.responseUrl), 'handoff answer');
    expect(answer.body.response_type).toBe('in_channel');
    for (const incident of here) expect(JSON.stringify(answer.body.blocks)).toContain(incident.id);
    expect(JSON.stringify(answer.body.blocks)).not.toContain(elsewhere.id);
  });

  it('replay is intrusive: refused for others, allowed for listed users and group members (group looked up once)', async () => {
    const refused = await slash('replay', { channel_id: 'C0OPS2', user_id: 'U0ALICE' });
    const no = await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === refused.responseUrl), 'refusal');
    expect(String(no.body.text)).toContain('Replay is intrusive');
    // Other commands' audit entries may land in between: find this one among the newest.
    await eventually(async () => (await h.deps.audit.recent(5)).find((a) => a.command === 'replay' && a.user === 'U0ALICE' && a.outcome === 'forbidden'), 'the refusal audited');

    expect(String(no.body.text)).toContain('Who may: <@U0ROOT>, members of <!subteam^S0ONCALL>');

    const lookups = h.fake.callsOf('usergroups.users.list').length;
    const bob = await slash('replay', { channel_id: 'C0OPS2', user_id: 'U0BOB' });
    const prompt = await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === bob.responseUrl), 'replay confirm prompt');
    const confirm = firstButton(prompt.body);
    expect(confirm?.action_id).toBe(ACTIONS.confirmRun);
    expect(confirm?.confirm).toMatchObject({ title: { text: 'Start replay?' } });
    const incident = (await h.store.newestInChannel('C0OPS2'))!;
    expect((await h.store.require(incident.id)).pipeline).not.toBe('replay');

    const pressed = await postButton(h.botUrl, h.fake, { actionId: ACTIONS.confirmRun, value: confirm!.value, user: 'U0BOB', channel: 'C0OPS2' });
    const yes = await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === pressed.responseUrl), 'replay queued');
    expect(String(yes.body.text)).toMatch(/Queued replay of `inc-/);
    const again = await postButton(h.botUrl, h.fake, { actionId: ACTIONS.confirmRun, value: confirm!.value, user: 'U0BOB', channel: 'C0OPS2' });
    const joined = await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === again.responseUrl), 'replay joined');
    expect(String(joined.body.text)).toContain('already running');
    expect(h.fake.callsOf('usergroups.users.list').length - lookups).toBeLessThanOrEqual(1);

    const stolen = await postButton(h.botUrl, h.fake, { actionId: ACTIONS.confirmRun, value: confirm!.value, user: 'U0ALICE', channel: 'C0OPS2' });
    const refusedPress = await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === stolen.responseUrl), 'confirm pressed by someone else');
    expect(String(refusedPress.body.text)).toMatch(/replay is intrusive and you may not/i);

    const root = await slash('route', { channel_id: 'C0OPS2', user_id: 'U0ROOT' });
    const routed = await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === root.responseUrl), 'route queued');
    expect(String(routed.body.text)).toMatch(/Queued route of `inc-/);
  });

  it('every ack arrived well inside 3 s', () => {
    expect(h.fake.acks.length).toBeGreaterThan(10);
    expect(Math.max(...h.fake.acks)).toBeLessThan(3000);
  });
});
