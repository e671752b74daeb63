import { describe, expect, it } from 'vitest';
import { AccessControl } from '../../src/slack/access.js';
import { parseInvocation, unknownFlags } from '../../src/slack/parse.js';
import type { SlackResult } from '../../src/slack/poster.js';

function control(access: { channels?: string[]; intrusiveUsers?: string[]; intrusiveGroups?: string[]; incidentScope?: 'channel' | 'workspace' }, groups: Record<string, string[] | 'error'> = {}) {
  let now = 0;
  const lookups: string[] = [];
  const ac = new AccessControl({
    access: { channels: [], intrusiveUsers: [], intrusiveGroups: [], incidentScope: 'channel', ...access },
    groupMembers: async (g): Promise<SlackResult<string[]>> => {
      lookups.push(g);
      await new Promise((r) => setTimeout(r, 5));
      const members = groups[g];
      return members === 'error' ? { ok: false, error: 'missing_scope' } : { ok: true, value: members ?? [] };
    },
    cacheMs: 1000,
    now: () => now,
  });
  return { ac, lookups, tick: (ms: number) => (now += ms) };
}

describe('access control', () => {
  it('an empty channel list allows every channel; a list allows only its channels', () => {
    expect(control({}).ac.channelAllowed('C1')).toBe(true);
    const { ac } = control({ channels: ['C1'] });
    expect([ac.channelAllowed('C1'), ac.channelAllowed('C2')]).toEqual([true, false]);
  });

  it('intrusive steps: listed users, members of listed groups, nobody else', async () => {
    const { ac } = control({ intrusiveUsers: ['U1'], intrusiveGroups: ['S1'] }, { S1: ['U2'] });
    expect(await ac.mayRunIntrusive('U1')).toEqual({ allowed: true, via: 'user list' });
    expect(await ac.mayRunIntrusive('U2')).toEqual({ allowed: true, via: 'group S1' });
    expect(await ac.mayRunIntrusive('U3')).toMatchObject({ allowed: false, reason: expect.stringContaining('not in access.intrusiveUsers') });
  });

  it('nobody may when both lists are empty', async () => {
    expect(await control({}).ac.mayRunIntrusive('U1')).toMatchObject({ allowed: false, reason: expect.stringContaining('are empty') });
  });

  it('caches group members, shares concurrent look-ups, and asks again after the cache time', async () => {
    const { ac, lookups, tick } = control({ intrusiveGroups: ['S1'] }, { S1: ['U2'] });
    await Promise.all([ac.mayRunIntrusive('U2'), ac.mayRunIntrusive('U3'), ac.mayRunIntrusive('U2')]);
    await ac.mayRunIntrusive('U2');
    expect(lookups).toEqual(['S1']);
    tick(1001);
    await ac.mayRunIntrusive('U2');
    expect(lookups).toEqual(['S1', 'S1']);
  });

  it('denies, saying why, when membership cannot be checked', async () => {
    const { ac } = control({ intrusiveGroups: ['S1'] }, { S1: 'error' });
    expect(await ac.mayRunIntrusive('U2')).toEqual({ allowed: false, reason: 'group membership could not be checked (S1: missing_scope)' });
  });
});

describe('slash text parsing', () => {
  it('splits subcommand, args and flags', () => {
    const inv = parseInvocation('  Replay inc-1 --target prod-b --ignore-eos --speed=2 extra ', { user: 'U1', channel: 'C1', retryNum: 1 });
    expect(inv).toMatchObject({ sub: 'replay', args: ['inc-1', 'extra'], flags: { target: 'prod-b', 'ignore-eos': true, speed: '2' }, retryNum: 1 });
    expect(unknownFlags(inv, ['target'])).toEqual(['ignore-eos', 'speed']);
  });

  it('empty text is help', () => {
    expect(parseInvocation('', { user: 'U1', channel: 'C1' })).toMatchObject({ sub: 'help', args: [], flags: {} });
  });
});
