import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/contracts/report.js';
import type { PipelineRunner } from '../../src/queue/jobs.js';
import { ACTIONS, RESOLVE_MODAL } from '../../templates/blocks.js';
import { registryYaml, startHarness, type Harness } from '../helpers/bot-harness.js';
import type { StoredMessage } from '../helpers/fake-slack.js';
import { reportRunner } from '../helpers/runners.js';
import { postButton, postSlashCommand } from '../helpers/slack-requests.js';
import { SLOW_REPORT } from '../templates/fixtures.js';
import { eventually } from '../helpers/eventually.js';
import { postViewSubmission } from './lifecycle-requests.js';

const ACCESS = `access:
  channels: [C0OPS, C0OTHER]
  intrusiveUsers: [U0ROOT]
  intrusiveGroups: [S0ONCALL]
`;

const HANG_REPORT: Report = {
  ...SLOW_REPORT,
  problemClass: 'hang',
  strongestSignal: 'rank 3 stuck in ncclDevKernel_AllReduce_RING_LL for 600 s',
  bestGuess: 'a collective mismatch across ranks',
  nextStep: { skill: 'debug-distributed-hang', why: 'stacks of every rank show where it waits', commands: [] },
  evidence: [{ file: 'stacks/rank3.txt', fact: 'ncclDevKernel_AllReduce_RING_LL' }],
};

/** The capture and re-routes see the slow verdict; a replay shows the hang behind it. */
function byPipeline(reports: Partial<Record<string, Report>>): PipelineRunner {
  const runners = new Map<string, PipelineRunner>();
  return (req, ...rest) => {
    const report = reports[req.pipeline] ?? SLOW_REPORT;
    let runner = runners.get(req.pipeline);
    if (!runner) runners.set(req.pipeline, (runner = reportRunner({ report })));
    return runner(req, ...rest);
  };
}

type Btn = { action_id: string; value: string; text: { text: string }; confirm?: unknown };
const buttonsOf = (m: StoredMessage | undefined): Btn[] => ((m?.blocks ?? []).find((b) => b.type === 'actions') as { elements?: Btn[] } | undefined)?.elements ?? [];

describe('summary and root buttons: lifecycle, gating, stale summaries, no-change', () => {
  let h: Harness;
  let id = '';
  let root: StoredMessage;

  beforeAll(async () => {
    h = await startHarness({
      registry: registryYaml({ 'prod-a': { url: 'http://127.0.0.1:9', host: 'gpu-1' }, 'prod-b': { url: 'http://127.0.0.1:9', host: 'gpu-2' } }, ACCESS),
      fake: { groups: { S0ONCALL: ['U0BOB'] } },
      workers: [
        { host: 'gpu-1', runPipeline: byPipeline({ replay: HANG_REPORT }) },
        { host: 'gpu-2', runPipeline: reportRunner({ report: { ...SLOW_REPORT, problemClass: 'regression', nextStep: { skill: 'git-bisect', why: 'one build is good, one bad', commands: ['git bisect run ./harness.sh'] } } }) },
      ],
    });
  });
  afterAll(async () => {
    expect(h.fake.violations).toEqual([]);
    await h?.stop();
  });

  const summariesIn = (threadTs: string) => h.fake.threadOf(threadTs).filter((m) => m.blocks?.some((b) => (b as { block_id?: string }).block_id === 'triage.summary' || JSON.stringify(b).includes('Superseded by a newer result')));
  const liveSummaries = (threadTs: string) => h.fake.threadOf(threadTs).filter((m) => m.blocks?.some((b) => (b as { block_id?: string }).block_id === 'triage.summary'));
  const notes = (threadTs: string, text: string) => h.fake.threadOf(threadTs).filter((m) => m.text?.includes(text));
  const press = (actionId: string, value: string, user = 'U0ALICE', channel = 'C0OPS') => postButton(h.botUrl, h.fake, { actionId, value, user, channel });
  const answerTo = async (responseUrl: string) => String((await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === responseUrl), `answer on ${responseUrl}`)).body.text);
  const buttonOf = (m: StoredMessage | undefined, actionId: string) => buttonsOf(m).find((b) => b.action_id === actionId)!;
  const rootNow = () => h.fake.messages.find((m) => m.ts === root.ts)!;

  async function captured(server: string): Promise<{ id: string; root: StoredMessage }> {
    await postSlashCommand(h.botUrl, h.fake, { text: `capture ${server}` });
    const message = await h.fake.waitFor(() => h.fake.messages.find((m) => !m.thread_ts && m.text?.includes(`capture on ${server}`)), 'opening message');
    await h.fake.waitFor(() => liveSummaries(message.ts).length === 1, 'first summary');
    return { id: message.text!.split(':')[0]!, root: message };
  }

  it('the root message is redrawn in place with state, class, next skill and owner', async () => {
    ({ id, root } = await captured('prod-a'));
    await h.fake.waitFor(() => rootNow().updates > 0 && JSON.stringify(rootNow().blocks).includes('slow → next `llm-torch-profiler-analysis`'), 'root updated with the verdict');
    const text = JSON.stringify(rootNow().blocks);
    expect(text).toContain('*open*');
    expect(text).toContain('owner <@U0ALICE>');
    expect(h.fake.messages.filter((m) => !m.thread_ts && m.channel === 'C0OPS')).toHaveLength(1);
    expect(buttonsOf(rootNow()).map((b) => b.action_id)).toEqual([ACTIONS.own, ACTIONS.resolve]);
    expect((await h.store.require(id)).permalink).toMatch(/^https:\/\/fake\.slack\.test\/archives\/C0OPS\/p/);
  });

  it('Route again with the same verdict posts a one-line "no change", not a second summary and report.md', async () => {
    const files = h.fake.files.length;
    const res = await press(ACTIONS.route, buttonOf(liveSummaries(root.ts)[0], ACTIONS.route).value);
    expect(await answerTo(res.responseUrl)).toMatch(/Queued route of/);
    await h.fake.waitFor(() => notes(root.ts, 'finished: no change').length === 1, 'no-change line');
    expect(liveSummaries(root.ts)).toHaveLength(1);
    expect(h.fake.files.length).toBe(files);
    expect((await h.store.require(id)).jobId).toBe(`${id}.route.2`);
  });

  it('Run next step is gated (the refusal names who may act), runs once, then says it already ran on this evidence', async () => {
    const next = buttonOf(liveSummaries(root.ts)[0], ACTIONS.nextStep);
    expect(next.text.text).toBe('Run next step (slow)');
    expect(next.confirm).toBeDefined();
    const refused = await press(ACTIONS.nextStep, next.value, 'U0ALICE');
    const refusal = await answerTo(refused.responseUrl);
    expect(refusal).toContain('slow is intrusive');
    expect(refusal).toContain('Who may: <@U0ROOT>, members of <!subteam^S0ONCALL>');
    await eventually(async () => (await h.deps.audit.recent(1))[0]?.outcome === 'forbidden', 'the refusal audited');
    expect((await h.deps.audit.recent(1))[0]).toMatchObject({ command: 'action:next-step', user: 'U0ALICE', outcome: 'forbidden', incidentId: id });

    const allowed = await press(ACTIONS.nextStep, next.value, 'U0ROOT');
    expect(await answerTo(allowed.responseUrl)).toMatch(/Queued slow of/);
    await h.fake.waitFor(() => notes(root.ts, 'finished: no change').length === 2, 'the slow run came back with the same verdict');
    await h.fake.waitFor(() => buttonOf(liveSummaries(root.ts)[0], ACTIONS.nextStep).text.text === 'slow already ran on this evidence', 'the button says it already ran');

    const again = await press(ACTIONS.nextStep, next.value, 'U0ROOT');
    expect(await answerTo(again.responseUrl)).toContain('already ran on this evidence');
    expect((await h.store.require(id)).jobId).toBe(`${id}.slow.3`);
  });

  it('a newer verdict supersedes the older summary: its buttons go, and a press on them answers "superseded"', async () => {
    const first = liveSummaries(root.ts)[0]!;
    const oldValue = buttonOf(first, ACTIONS.route).value;
    const res = await press(ACTIONS.replay, buttonOf(first, ACTIONS.replay).value, 'U0BOB');
    expect(await answerTo(res.responseUrl)).toMatch(/Queued replay of/);
    await h.fake.waitFor(() => liveSummaries(root.ts).length === 1 && liveSummaries(root.ts)[0]!.ts !== first.ts, 'the hang summary, and the slow one without buttons');
    const old = h.fake.messages.find((m) => m.ts === first.ts)!;
    expect(old.blocks?.some((b) => b.type === 'actions')).toBe(false);
    expect(JSON.stringify(old.blocks)).toContain('Superseded by a newer result');
    expect(JSON.stringify(old.blocks)).toContain('prefill_forward 2.900 s');
    expect(summariesIn(root.ts)).toHaveLength(2);
    await h.fake.waitFor(() => JSON.stringify(rootNow().blocks).includes('hang → next `debug-distributed-hang`'), 'root shows the new verdict');

    const stale = await press(ACTIONS.route, oldValue, 'U0ROOT');
    expect(await answerTo(stale.responseUrl)).toContain('is superseded');
    await eventually(async () => (await h.deps.audit.recent(1))[0]?.outcome === 'superseded', 'the stale press audited as superseded');
    expect((await h.store.require(id)).jobId).toBe(`${id}.replay.4`);
  });

  it('a skill a person must run (git-bisect) is answered with its commands, nothing queued', async () => {
    const b = await captured('prod-b');
    const res = await press(ACTIONS.nextStep, buttonOf(liveSummaries(b.root.ts)[0], ACTIONS.nextStep).value, 'U0ROOT');
    expect(JSON.stringify((await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === res.responseUrl), 'answer')).body.blocks)).toContain('git bisect run ./harness.sh');
    expect((await h.store.require(b.id)).pipeline).toBe('capture');
  });

  it('Take ownership on the root moves the incident to investigating and redraws the root', async () => {
    const res = await press(ACTIONS.own, buttonOf(rootNow(), ACTIONS.own).value, 'U0BOB');
    expect(await answerTo(res.responseUrl)).toContain('You own');
    await h.fake.waitFor(() => JSON.stringify(rootNow().blocks).includes('*investigating*') && JSON.stringify(rootNow().blocks).includes('owner <@U0BOB>'), 'root shows the new owner');
    expect(await h.store.require(id)).toMatchObject({ owner: 'U0BOB', status: 'investigating' });
  });

  it('Mark resolved: refused outside access (naming who may), else a confirm dialog, then a reason modal, then resolved everywhere', async () => {
    const resolve = buttonOf(liveSummaries(root.ts)[0], ACTIONS.resolve);
    expect(resolve.confirm).toMatchObject({ title: { text: 'Resolve this incident?' } });
    const refused = await press(ACTIONS.resolve, resolve.value, 'U0ALICE');
    const refusal = await answerTo(refused.responseUrl);
    expect(refusal).toContain('Resolving an incident is restricted');
    expect(refusal).toContain('<@U0ROOT>');
    expect(h.fake.modals).toHaveLength(0);
    expect((await h.store.require(id)).status).toBe('investigating');

    await press(ACTIONS.resolve, resolve.value, 'U0ROOT');
    const modal = await h.fake.waitFor(() => h.fake.modals[0], 'the reason modal');
    expect(modal.view).toMatchObject({ type: 'modal', callback_id: RESOLVE_MODAL });
    const tooShort = await postViewSubmission(h.botUrl, h.fake, { user: 'U0ROOT', callbackId: RESOLVE_MODAL, privateMetadata: String(modal.view.private_metadata), reason: 'x' });
    expect(JSON.parse(tooShort.body)).toMatchObject({ response_action: 'errors' });
    expect((await h.store.require(id)).status).toBe('investigating');

    const sub = await postViewSubmission(h.botUrl, h.fake, { user: 'U0ROOT', callbackId: RESOLVE_MODAL, privateMetadata: String(modal.view.private_metadata), reason: 'rolled back the NCCL upgrade <!channel>' });
    expect(sub.status).toBe(200);
    await h.fake.waitFor(() => notes(root.ts, 'Marked resolved by <@U0ROOT>').length === 1, 'resolved note');
    expect(notes(root.ts, 'Marked resolved')[0]!.text).toContain('&lt;!channel&gt;');
    expect(await h.store.require(id)).toMatchObject({ status: 'resolved', resolvedBy: 'U0ROOT', resolveReason: 'rolled back the NCCL upgrade <!channel>' });
    expect((await h.store.listActive()).map((i) => i.id)).not.toContain(id);
    await h.fake.waitFor(() => JSON.stringify(rootNow().blocks).includes('*resolved*') && !rootNow().blocks?.some((b) => b.type === 'actions'), 'root resolved, without buttons');
    expect(JSON.stringify(rootNow().blocks)).toContain('rolled back the NCCL upgrade');
    const file = path.join(h.dataDir, id, 'incident.json');
    await eventually(async () => (JSON.parse(await readFile(file, 'utf8')) as { status: string }).status === 'resolved', 'incident.json resolved');

    // A second submission (a double click, a redelivery) resolves nothing twice.
    await postViewSubmission(h.botUrl, h.fake, { user: 'U0ROOT', callbackId: RESOLVE_MODAL, privateMetadata: String(modal.view.private_metadata), reason: 'again' });
    await h.fake.waitFor(() => h.fake.ephemerals.find((e) => e.user === 'U0ROOT' && e.text?.includes('already resolved')), 'already resolved');
    expect(notes(root.ts, 'Marked resolved')).toHaveLength(1);

    const late = await press(ACTIONS.replay, buttonOf(liveSummaries(root.ts)[0], ACTIONS.replay).value, 'U0ROOT');
    expect(await answerTo(late.responseUrl)).toContain('is resolved');
  });

  it('refuses unknown incidents, channels that are not allowed, and incidents of another channel', async () => {
    const unknown = await press(ACTIONS.route, 'inc-nope');
    expect(await answerTo(unknown.responseUrl)).toContain('No incident `inc-nope` in this channel');
    const elsewhere = await press(ACTIONS.route, 'inc-nope', 'U0ALICE', 'C0RANDOM');
    expect(await answerTo(elsewhere.responseUrl)).toContain('not enabled in this channel');
    await eventually(async () => (await h.deps.audit.recent(1))[0]?.channel === 'C0RANDOM', 'the refusal audited');
    expect((await h.deps.audit.recent(1))[0]).toMatchObject({ channel: 'C0RANDOM', outcome: 'forbidden' });

    const b = (await h.store.newestInChannel('C0OPS'))!;
    const other = await press(ACTIONS.resolve, JSON.stringify({ i: b.id }), 'U0ROOT', 'C0OTHER');
    expect(await answerTo(other.responseUrl)).toContain(`No incident \`${b.id}\` in this channel`);
    expect(h.fake.modals).toHaveLength(1);
  });
});
