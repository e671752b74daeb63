import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../templates/blocks.js';
import { registryYaml, startHarness, type Harness } from '../helpers/bot-harness.js';
import type { StoredMessage } from '../helpers/fake-slack.js';
import { reportRunner } from '../helpers/runners.js';
import { postButton, postSlashCommand } from '../helpers/slack-requests.js';
import { SLOW_REPORT } from '../templates/fixtures.js';
import { eventually } from '../helpers/eventually.js';

const ACCESS = `access:
  channels: [C0OPS]
  intrusiveUsers: [U0ROOT]
  intrusiveGroups: [S0ONCALL]
`;

describe('summary buttons: Replay, Route, Run next step, Mark resolved', () => {
  let h: Harness;
  const slow = reportRunner();
  const bisect = reportRunner({ report: { ...SLOW_REPORT, problemClass: 'regression', nextStep: { skill: 'git-bisect', why: 'one build is good, one bad', commands: ['git bisect run ./harness.sh'] } } });

  beforeAll(async () => {
    h = await startHarness({
      registry: registryYaml({ 'prod-a': { url: 'http://127.0.0.1:9', host: 'gpu-1' }, 'prod-b': { url: 'http://127.0.0.1:9', host: 'gpu-2' } }, ACCESS),
      fake: { groups: { S0ONCALL: ['U0BOB'] } },
      workers: [
        { host: 'gpu-1', runPipeline: slow },
        { host: 'gpu-2', runPipeline: bisect },
      ],
    });
  });
  afterAll(async () => {
    expect(h.fake.violations).toEqual([]);
    await h?.stop();
  });

  const summariesIn = (threadTs: string) => h.fake.threadOf(threadTs).filter((m) => m.blocks?.some((b) => (b as { block_id?: string }).block_id === 'triage.summary'));
  const press = (actionId: string, value: string, user = 'U0ALICE', channel = 'C0OPS') => postButton(h.botUrl, h.fake, { actionId, value, user, channel });
  const answerTo = (responseUrl: string) => h.fake.waitFor(() => h.fake.responses.find((r) => r.url === responseUrl), `answer on ${responseUrl}`);

  async function captured(server: string): Promise<{ id: string; root: StoredMessage }> {
    await postSlashCommand(h.botUrl, h.fake, { text: `capture ${server}` });
    const root = await h.fake.waitFor(() => h.fake.messages.find((m) => !m.thread_ts && m.text?.includes(`capture on ${server}`)), 'opening message');
    await h.fake.waitFor(() => summariesIn(root.ts).length === 1, 'first summary');
    return { id: root.text!.split(':')[0]!, root };
  }

  it('Route again runs a route job and posts a second summary in the same thread', async () => {
    const { id, root } = await captured('prod-a');
    const res = await press(ACTIONS.route, id);
    expect(res.status).toBe(200);
    expect(String((await answerTo(res.responseUrl)).body.text)).toMatch(/Queued route of/);
    await h.fake.waitFor(() => summariesIn(root.ts).length === 2, 'second summary');
    const record = await h.store.require(id);
    expect(record).toMatchObject({ pipeline: 'route', jobState: 'done', jobId: `${id}.route.2` });
  });

  it('Run next step starts the routed pipeline, but only for people allowed to run intrusive steps', async () => {
    const id = (await h.store.newestInChannel('C0OPS'))!.id;
    const refused = await press(ACTIONS.nextStep, id, 'U0ALICE');
    expect(String((await answerTo(refused.responseUrl)).body.text)).toContain('slow is intrusive');
    expect((await h.deps.audit.recent(1))[0]).toMatchObject({ command: 'action:next-step', user: 'U0ALICE', outcome: 'forbidden', incidentId: id });

    const allowed = await press(ACTIONS.nextStep, id, 'U0ROOT');
    expect(String((await answerTo(allowed.responseUrl)).body.text)).toMatch(/Queued slow of/);
    await eventually(async () => (await h.store.require(id)).jobState === 'done', 'the job to finish');
    expect((await h.store.require(id)).jobId).toBe(`${id}.slow.3`);
  });

  it('Replay by a member of an allowed user group is queued', async () => {
    const id = (await h.store.newestInChannel('C0OPS'))!.id;
    const res = await press(ACTIONS.replay, id, 'U0BOB');
    expect(String((await answerTo(res.responseUrl)).body.text)).toMatch(/Queued replay of/);
    await eventually(async () => (await h.store.require(id)).jobState === 'done', 'the job to finish');
  });

  it('a skill a person must run (git-bisect) is answered with its commands, nothing queued', async () => {
    const { id } = await captured('prod-b');
    const res = await press(ACTIONS.nextStep, id, 'U0ROOT');
    const answer = await answerTo(res.responseUrl);
    expect(JSON.stringify(answer.body.blocks)).toContain('git bisect run ./harness.sh');
    expect((await h.store.require(id)).pipeline).toBe('capture');
  });

  it('Mark resolved closes the incident everywhere: Redis, the thread, the host incident.json', async () => {
    const incident = (await h.store.newestInChannel('C0OPS'))!;
    const res = await press(ACTIONS.resolve, incident.id, 'U0BOB');
    expect(String((await answerTo(res.responseUrl)).body.text)).toContain('resolved');
    await h.fake.waitFor(() => h.fake.threadOf(incident.threadTs!).find((m) => m.text?.includes('Marked resolved by <@U0BOB>')), 'resolved note');
    const record = await h.store.require(incident.id);
    expect(record).toMatchObject({ status: 'resolved', resolvedBy: 'U0BOB' });
    expect((await h.store.listActive()).map((i) => i.id)).not.toContain(incident.id);
    const file = path.join(h.dataDir, incident.id, 'incident.json');
    await eventually(async () => (JSON.parse(await readFile(file, 'utf8')) as { status: string }).status === 'resolved', 'incident.json resolved');

    const late = await press(ACTIONS.replay, incident.id, 'U0ROOT');
    expect(String((await answerTo(late.responseUrl)).body.text)).toContain('is resolved');
  });

  it('refuses unknown incidents and channels that are not allowed', async () => {
    const unknown = await press(ACTIONS.route, 'inc-nope');
    expect(String((await answerTo(unknown.responseUrl)).body.text)).toContain('No incident `inc-nope`');
    const elsewhere = await press(ACTIONS.route, 'inc-nope', 'U0ALICE', 'C0RANDOM');
    expect(String((await answerTo(elsewhere.responseUrl)).body.text)).toContain('not enabled in this channel');
    expect((await h.deps.audit.recent(1))[0]).toMatchObject({ channel: 'C0RANDOM', outcome: 'forbidden' });
  });
});
