/** routeStep: the report's commands are never half-redacted, and the invocation reaches them. */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMPTY_REGISTRY } from '../../src/config/servers.js';
import { routeStep } from '../../src/pipelines/route-step.js';

const signal = new AbortController().signal;

describe('routeStep commands', () => {
  it('a command naming a secret-looking value is withheld whole; the others keep the invocation and --servers', async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'triage-routestep-'));
    try {
      const dir = path.join(base, "inc api_key=sk-live-0123456789abcdef 'x'");
      await mkdir(dir);
      const { report } = await routeStep(dir, { registry: EMPTY_REGISTRY, signal, write: false, invocation: { triage: ['npx', '--no', 'triage'], serversFile: '/etc/servers.yaml' } });
      const cmds = report.nextStep.commands;
      expect(cmds.join('\n')).not.toContain('sk-live-0123456789abcdef');
      expect(cmds.some((c) => c.startsWith('# a command was withheld here'))).toBe(true);
      // Every line is either whole (balanced quotes, as built) or the fixed withheld comment.
      for (const c of cmds) expect(c.startsWith('#') || (c.match(/'/g) ?? []).length % 2 === 0).toBe(true);
      expect(cmds.find((c) => c.includes('/configure_logging'))).toMatch(/^curl -sS -X POST \S+\/configure_logging .*# production$/);

      const newline = path.join(base, 'inc\n$(pwned)\x1b[2J');
      await mkdir(newline);
      const controls = await routeStep(newline, { registry: EMPTY_REGISTRY, signal, write: false });
      expect(controls.report.nextStep.commands.every((c) => !/[\x00-\x1f]/.test(c))).toBe(true);
      expect(controls.report.nextStep.commands.some((c) => c.includes('control characters'))).toBe(true);

      const plain = path.join(base, 'inc-plain');
      await mkdir(plain);
      const again = await routeStep(plain, { registry: EMPTY_REGISTRY, signal, write: false, invocation: { triage: ['npx', '--no', 'triage'], serversFile: '/etc/servers.yaml' } });
      expect(again.report.nextStep.commands.find((c) => c.includes(' capture '))).toMatch(/^npx --no triage capture \S+ --out \S+ --servers \/etc\/servers\.yaml {2}# production$/);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});
