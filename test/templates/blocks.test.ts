import { describe, expect, it } from 'vitest';
import { failureMessage, noteMessage, openedMessage, summaryMessage, ACTIONS } from '../../templates/blocks.js';
import { blockProblems } from '../helpers/fake-slack.js';
import { hugeReport, SLOW_REPORT } from './fixtures.js';

const INCIDENT = { id: 'inc-20261128-0116-prod-a-3f9c', server: 'prod-a', host: 'gpu-1', pipeline: 'capture', incidentDir: '/data/incidents/inc-20261128-0116-prod-a-3f9c' };

describe('summary blocks', () => {
  it('renders the TTFT-spike verdict in the method order', () => {
    expect(summaryMessage(SLOW_REPORT, INCIDENT)).toMatchSnapshot();
  });

  it('carries the four buttons with the incident id as their value', () => {
    const actions = summaryMessage(SLOW_REPORT, INCIDENT).blocks.find((b) => b.type === 'actions') as { elements: Array<{ action_id: string; value: string }> };
    expect(actions.elements.map((e) => e.action_id)).toEqual([ACTIONS.replay, ACTIONS.route, ACTIONS.nextStep, ACTIONS.resolve]);
    expect(new Set(actions.elements.map((e) => e.value))).toEqual(new Set([INCIDENT.id]));
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
  it('opening message', () => {
    expect(openedMessage({ ...INCIDENT, createdBy: 'U0ALICE' })).toMatchSnapshot();
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
