import { describe, expect, it } from 'vitest';
import { failureMessage, noChangeMessage, noteMessage, summaryMessage, ACTIONS } from '../../templates/blocks.js';
import { decodeButtonValue } from '../../templates/button-value.js';
import { rootMessage } from '../../templates/root-blocks.js';
import { blockProblems } from '../helpers/fake-slack.js';
import { hugeReport, incidentRecord, SLOW_REPORT } from './fixtures.js';

type Btn = { action_id: string; value: string; text: { text: string }; style?: string; confirm?: { title: { text: string }; text: { text: string } } };
const buttonsOf = (blocks: Array<{ type: string }>) => (blocks.find((b) => b.type === 'actions') as { elements: Btn[] } | undefined)?.elements ?? [];

const NEXT = { pipeline: 'slow', intrusive: true };
const INCIDENT = { id: 'inc-20261128-0116-prod-a-3f9c', server: 'prod-a', host: 'gpu-1', pipeline: 'capture', incidentDir: '/data/incidents/inc-20261128-0116-prod-a-3f9c' };

describe('summary blocks', () => {
  it('renders the TTFT-spike verdict in the method order', () => {
    expect(summaryMessage(SLOW_REPORT, INCIDENT, { next: NEXT })).toMatchSnapshot();
  });

  it('carries the four buttons, each naming the incident and the job whose summary it is', () => {
    const buttons = buttonsOf(summaryMessage(SLOW_REPORT, INCIDENT, { jobId: `${INCIDENT.id}.capture.1`, next: NEXT }).blocks);
    expect(buttons.map((e) => e.action_id)).toEqual([ACTIONS.replay, ACTIONS.route, ACTIONS.nextStep, ACTIONS.resolve]);
    for (const b of buttons) expect(decodeButtonValue(b.value)).toEqual({ i: INCIDENT.id, j: `${INCIDENT.id}.capture.1` });
  });

  it('puts a Block Kit confirm dialog on every intrusive button and on resolve, not on Route again', () => {
    const buttons = buttonsOf(summaryMessage(SLOW_REPORT, INCIDENT, { next: NEXT }).blocks);
    const confirmed = buttons.filter((b) => b.confirm).map((b) => b.action_id);
    expect(confirmed).toEqual([ACTIONS.replay, ACTIONS.nextStep, ACTIONS.resolve]);
    expect(buttons.find((b) => b.action_id === ACTIONS.nextStep)?.text.text).toBe('Run next step (slow)');
    expect(buttons.find((b) => b.action_id === ACTIONS.resolve)?.confirm?.text.text).toContain('asked for a reason');
  });

  it('says so on the next-step button when that pipeline already ran on this evidence', () => {
    const next = buttonsOf(summaryMessage(SLOW_REPORT, INCIDENT, { next: { ...NEXT, alreadyRan: true } }).blocks).find((b) => b.action_id === ACTIONS.nextStep);
    expect(next?.text.text).toBe('slow already ran on this evidence');
    expect(next?.confirm).toBeUndefined();
  });

  it('a superseded summary keeps its content and loses its buttons', () => {
    const message = summaryMessage(SLOW_REPORT, INCIDENT, { superseded: true });
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(JSON.stringify(message.blocks)).toContain('Superseded by a newer result');
    expect(JSON.stringify(message.blocks)).toContain('prefill_forward 2.900 s');
  });

  it('keeps a huge report inside Block Kit limits (≤ 50 blocks, section text ≤ 3000)', () => {
    const message = summaryMessage(hugeReport(), INCIDENT);
    expect(blockProblems(message.blocks)).toEqual([]);
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    expect(message.text.length).toBeLessThanOrEqual(300);
    expect(JSON.stringify(message.blocks)).toContain('more in the attached report');
    expect(message.blocks.at(-1)?.type).toBe('actions');
  });

  it('escapes Slack control characters coming from evidence', () => {
    const text = JSON.stringify(summaryMessage({ ...SLOW_REPORT, bestGuess: '<!channel> & <@U1>' }, INCIDENT).blocks);
    expect(text).toContain('&lt;!channel&gt; &amp; &lt;@U1&gt;');
    expect(text).not.toContain('<!channel>');
  });
});

describe('other thread messages', () => {
  it('root message of a fresh incident', () => {
    expect(rootMessage(incidentRecord({ status: 'open', jobState: 'queued', report: undefined, problemClass: undefined, nextSkill: undefined, steps: [], owner: 'U0ALICE' }))).toMatchSnapshot();
  });
  it('root message once routed, owned and with a severity', () => {
    expect(rootMessage(incidentRecord({ status: 'investigating', owner: 'U0BOB', severity: 'sev2' }))).toMatchSnapshot();
  });
  it('root message once resolved: who, when, why, and no buttons', () => {
    const message = rootMessage(incidentRecord({ status: 'resolved', owner: 'U0BOB', resolvedBy: 'U0ROOT', resolvedAt: '2026-11-28T02:00:00.000Z', resolveReason: 'rolled back to v0.4.1 <!channel>' }));
    expect(message).toMatchSnapshot();
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(JSON.stringify(message.blocks)).toContain('&lt;!channel&gt;');
  });
  it('root message of an alert-opened incident does not mention its non-user creator', () => {
    const text = JSON.stringify(rootMessage(incidentRecord({ createdBy: 'alertmanager', owner: undefined })).blocks);
    expect(text).not.toContain('<@alertmanager>');
    expect(text).toContain('no owner yet');
  });
  it('no-change line', () => {
    expect(noChangeMessage({ ...INCIDENT, pipeline: 'route' }, SLOW_REPORT)).toMatchSnapshot();
  });
  it('failure notice', () => {
    expect(failureMessage(INCIDENT, 'job passed its 1800 s deadline [timeout]', 3)).toMatchSnapshot();
  });
  it('note', () => {
    expect(noteMessage(':white_check_mark: Marked resolved by <@U0BOB>.')).toEqual({
      text: ':white_check_mark: Marked resolved by <@U0BOB>.',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: ':white_check_mark: Marked resolved by <@U0BOB>.' } }],
    });
  });
});
