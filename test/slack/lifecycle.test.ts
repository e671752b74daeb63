import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelineJobSchema } from '../../src/queue/jobs.js';
import { ACTIONS } from '../../templates/blocks.js';
import { decodeButtonValue } from '../../templates/button-value.js';
import { registryYaml, startHarness, type Harness } from '../helpers/bot-harness.js';
import { reportRunner } from '../helpers/runners.js';
import { postButton, postSlashCommand } from '../helpers/slack-requests.js';
import { eventually } from '../helpers/eventually.js';
import { firstButton } from './lifecycle-requests.js';

const ACCESS = `access:
  channels: [C0OPS, C0OTHER]
  intrusiveUsers: [U0ROOT]
  intrusiveGroups: [S0ONCALL]
`;

describe('incident lifecycle and /triage run through the real Bolt app', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      registry: registryYaml({ 'prod-a': { url: 'http://127.0.0.1:9', host: 'gpu-1' }, 'prod-b': { url: 'http://127.0.0.1:9', host: 'gpu-2' }, 'prod-c': { url: 'http://127.0.0.1:9', host: 'gpu-3' } }, ACCESS),
      fake: { groups: { S0ONCALL: ['U0BOB'] } },
      // gpu-2 and gpu-3 have no worker: their jobs stay queued, so their data can be read back.
      workers: [{ host: 'gpu-1', runPipeline: reportRunner() }],
    });
  });
  afterAll(async () => {
    expect(h.fake.violations).toEqual([]);
    await h?.stop();
  });

  const slash = async (text: string, user = 'U0ALICE', channel = 'C0OPS') => {
    const res = await postSlashCommand(h.botUrl, h.fake, { text, user_id: user, channel_id: channel });
    expect(res.status).toBe(200);
    if (res.json?.text) return res.json as Record<string, unknown>;
    return (await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === res.responseUrl), `answer to ${text}`)).body;
  };
  const rootOf = async (id: string) => {
    const ts = (await h.store.require(id)).threadTs!;
    return () => h.fake.messages.find((m) => m.ts === ts)!;
  };
  /** The incident's current job as it sits in the host's queue (the store names it before BullMQ has it). */
  const queuedJob = async (host: string, incidentId: string, pipeline: string) => {
    const job = await eventually(async () => {
      const r = await h.store.require(incidentId);
      return r.jobId && r.pipeline === pipeline ? h.deps.producer.getJob(host, r.jobId) : undefined;
    }, `the ${pipeline} job in the queue`);
    return pipelineJobSchema.parse(job.data);
  };

  it('own, severity and state move the incident; every change redraws the root in place', async () => {
    await slash('capture prod-a');
    const incident = await eventually(async () => (await h.store.newestInChannel('C0OPS')) ?? undefined, 'incident');
    const root = await rootOf(incident.id);
    expect(incident.owner).toBe('U0ALICE');

    expect(String((await slash('own', 'U0BOB')).text)).toContain(`You own \`${incident.id}\` now (investigating)`);
    await h.fake.waitFor(() => JSON.stringify(root().blocks).includes('owner <@U0BOB>') && JSON.stringify(root().blocks).includes('*investigating*'), 'root: owner and state');

    expect(String((await slash(`severity sev2 ${incident.id}`, 'U0CAROL')).text)).toContain('*SEV2* now');
    await h.fake.waitFor(() => JSON.stringify(root().blocks).includes('*SEV2*'), 'root: severity');

    expect(String((await slash(`state mitigated ${incident.id} rolled back the router config`)).text)).toContain('investigating → *mitigated*');
    await h.fake.waitFor(() => JSON.stringify(root().blocks).includes('*mitigated*'), 'root: mitigated');
    const record = await h.store.require(incident.id);
    expect(record).toMatchObject({ status: 'mitigated', severity: 'sev2', owner: 'U0BOB' });
    expect(record.timeline.map((t) => t.kind)).toEqual(expect.arrayContaining(['owner', 'severity', 'state']));
    expect(record.timeline.find((t) => t.kind === 'state')?.text).toBe('investigating → mitigated: rolled back the router config');
    expect(h.fake.messages.filter((m) => !m.thread_ts && m.channel === 'C0OPS')).toHaveLength(1);

    expect(String((await slash('severity sev9')).text)).toContain('Name one of sev1, sev2, sev3, sev4');
    expect(String((await slash('state resolved')).text)).toContain('resolve with `/triage resolve`');
  });

  it('/triage resolve: a reason is required, access is checked (naming who may), and a confirm button resolves', async () => {
    const incident = (await h.store.newestInChannel('C0OPS'))!;
    expect(String((await slash(`resolve ${incident.id}`)).text)).toContain('Say why it is resolved');
    const refused = String((await slash(`resolve ${incident.id} fixed it myself`, 'U0ALICE')).text);
    expect(refused).toContain('Resolving an incident is restricted and you may not');
    expect(refused).toContain('Who may: <@U0ROOT>, members of <!subteam^S0ONCALL>');

    const prompt = await slash(`resolve ${incident.id} rolled back to v0.4.1; TTFT p99 back under 300 ms`, 'U0ROOT');
    const button = firstButton(prompt)!;
    expect(button.action_id).toBe(ACTIONS.confirmResolve);
    expect(button.confirm).toMatchObject({ title: { text: 'Resolve this incident?' } });
    expect((await h.store.require(incident.id)).status).toBe('mitigated');

    const pressed = await postButton(h.botUrl, h.fake, { actionId: ACTIONS.confirmResolve, value: button.value, user: 'U0ROOT' });
    const done = (await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === pressed.responseUrl), 'resolve answer')).body;
    expect(String(done.text)).toContain('Marked');
    // The answer replaces the ephemeral prompt: its button cannot be pressed a second time.
    expect(done.replace_original).toBe(true);
    const record = await h.store.require(incident.id);
    expect(record).toMatchObject({ status: 'resolved', resolvedBy: 'U0ROOT', resolveReason: 'rolled back to v0.4.1; TTFT p99 back under 300 ms' });
    const root = await rootOf(incident.id);
    await h.fake.waitFor(() => JSON.stringify(root().blocks).includes('rolled back to v0.4.1'), 'root shows the reason');
    expect(root().blocks?.some((b) => b.type === 'actions')).toBe(false);
  });

  it('/triage run of an intrusive pipeline is refused outside access and otherwise needs its confirm button', async () => {
    const refused = String((await slash('run hang prod-b', 'U0ALICE')).text);
    expect(refused).toContain('hang is intrusive and you may not');
    expect(refused).toContain('<@U0ROOT>');
    expect(await h.store.newestInChannel('C0OTHER')).toBeNull();

    const prompt = await slash('run hang prod-b', 'U0BOB', 'C0OTHER');
    const button = firstButton(prompt)!;
    expect(button.action_id).toBe(ACTIONS.confirmRun);
    expect(button.confirm).toMatchObject({ title: { text: 'Start hang?' } });
    expect(decodeButtonValue(button.value)).toEqual({ p: 'hang', s: 'prod-b' });
    expect(await h.store.newestInChannel('C0OTHER')).toBeNull();

    const pressed = await postButton(h.botUrl, h.fake, { actionId: ACTIONS.confirmRun, value: button.value, user: 'U0BOB', channel: 'C0OTHER' });
    expect(String((await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === pressed.responseUrl), 'run answer')).body.text)).toMatch(/^Started `inc-.*`: hang on \*prod-b\*/);
    const incident = (await h.store.newestInChannel('C0OTHER'))!;
    expect(await queuedJob('gpu-2', incident.id, 'hang')).toMatchObject({ pipeline: 'hang', server: 'prod-b', requestedBy: 'U0BOB' });
  });

  it('regression takes --good/--bad revisions into the job; wrong-output --compare-production says it touches production', async () => {
    const prompt = await slash('run regression prod-c --good v0.4.0 --bad v0.4.1 --bisect', 'U0ROOT', 'C0OTHER');
    const button = firstButton(prompt)!;
    expect(decodeButtonValue(button.value)).toEqual({ p: 'regression', s: 'prod-c', g: 'v0.4.0', b: 'v0.4.1', bi: 1 });
    await postButton(h.botUrl, h.fake, { actionId: ACTIONS.confirmRun, value: button.value, user: 'U0ROOT', channel: 'C0OTHER' });
    const regression = await eventually(async () => {
      const i = await h.store.newestInChannel('C0OTHER');
      return i?.server === 'prod-c' ? i : undefined;
    }, 'regression incident');
    expect(await queuedJob('gpu-3', regression.id, 'regression')).toMatchObject({ pipeline: 'regression', regression: { good: 'v0.4.0', bad: 'v0.4.1', run: true } });

    const wrong = await slash(`run wrong-output prod-c --compare-production --incident ${regression.id}`, 'U0ROOT', 'C0OTHER');
    expect(String(wrong.text)).toContain('*production*');
    const value = decodeButtonValue(firstButton(wrong)!.value);
    expect(value).toEqual({ p: 'wrong-output', s: 'prod-c', i: regression.id, cp: 1 });
    await postButton(h.botUrl, h.fake, { actionId: ACTIONS.confirmRun, value: firstButton(wrong)!.value, user: 'U0ROOT', channel: 'C0OTHER' });
    await eventually(async () => (await h.store.require(regression.id)).pipeline === 'wrong-output', 'wrong-output queued on the same incident');
    expect(await queuedJob('gpu-3', regression.id, 'wrong-output')).toMatchObject({ pipeline: 'wrong-output', compareProduction: true });
  });

  it('a read-only run (auto) starts at once for anyone; malformed runs get a usage answer in the ack', async () => {
    const started = String((await slash('run auto prod-a', 'U0ALICE')).text);
    expect(started).toMatch(/^Started `inc-.*`: auto on \*prod-a\*/);

    for (const [text, expected] of [
      ['run', 'Which pipeline, on which server?'],
      ['run hang', 'Which server?'],
      ['run capture prod-a', 'is not a runnable pipeline'],
      ['run hang prod-z', 'Unknown server `prod-z`'],
      ['run regression prod-a', 'regression needs `--good REF --bad REF`'],
      ['run regression prod-a --good v1;reboot --bad v2', 'is not a git revision'],
      ['run hang prod-a --good v1', '--good, --bad and --bisect belong to `regression`'],
      ['run slow prod-a --compare-production', '--compare-production belongs to `wrong-output`'],
      ['run hang prod-a --force', 'Unknown option --force'],
    ] as const) {
      const res = await postSlashCommand(h.botUrl, h.fake, { text, user_id: 'U0ROOT' });
      expect(String(res.json?.text), text).toContain(expected);
    }
  });

  it('a confirm button carrying a forged request is checked again', async () => {
    const forged = JSON.stringify({ p: 'regression', s: 'prod-a', g: '$(reboot)', b: 'v2' });
    const res = await postButton(h.botUrl, h.fake, { actionId: ACTIONS.confirmRun, value: forged, user: 'U0ROOT' });
    expect(String((await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === res.responseUrl), 'answer')).body.text)).toContain('invalid revision');
    const url = await postButton(h.botUrl, h.fake, { actionId: ACTIONS.confirmRun, value: JSON.stringify({ p: 'hang', s: 'http://10.0.0.9' }), user: 'U0ROOT' });
    expect(String((await h.fake.waitFor(() => h.fake.responses.find((r) => r.url === url.responseUrl), 'answer')).body.text)).toContain('Unknown server');
  });
});
