/**
 * The regression and wrong-output pipelines with real parts: a real git repository with a good and a bad
 * revision, the bisect harness run by real `git bisect run` against the SGLang emulator it starts, and a
 * clean target whose greedy answers drift from the recorded outputs.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/pipelines/index.js';
import { emulatorLaunch, freePort, pipelineDeps, portAnswers, registryYaml, triggerRequests, writeDump } from '../helpers/closed-loop.js';
import { startEmulator, type Emulator } from '../helpers/sglang-emulator.js';
import { REPO_ROOT, withTempDir } from '../helpers/tmp.js';

let servers: Emulator[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

describe('regression pipeline', () => {
  it('writes a harness that git bisect runs: good revisions answer the trigger, the bad one hangs on it; the first bad commit is named', async () => {
    await withTempDir(async (dir) => {
      const prod = await startEmulator({ scenario: 'healthy' });
      servers.push(prod);
      const port = await freePort();
      // A repository whose revisions decide how the emulator is started: the bad one hangs on the trigger.
      const repo = path.join(dir, 'sglang');
      await mkdir(repo);
      const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: repo, encoding: 'utf8' }).trim();
      const commit = async (file: string, content: string, message: string) => {
        await writeFile(path.join(repo, file), content);
        git('add', '.');
        git('commit', '-qm', message);
        return git('rev-parse', 'HEAD');
      };
      git('init', '-q');
      const good = await commit('flags', '', 'good 1');
      await commit('README', 'docs', 'good 2');
      const culprit = await commit('flags', '--hang-prompt-tokens 769', 'the regression');
      const bad = await commit('CHANGES', 'more', 'after');

      const incidentDir = path.join(dir, 'incidents', 'inc-regression');
      writeDump(path.join(incidentDir, 'dumps', 'crash_dump_1.pkl'), 'crash', triggerRequests());
      // The launch reads the checked-out revision's flags: git bisect checks out, the harness starts it.
      const launch = emulatorLaunch(port, `$(cat ${path.join(repo, 'flags')})`);
      const yaml = registryYaml({ prodUrl: prod.url, targetPort: port, launch });
      const deps = pipelineDeps(yaml);
      {
        const result = await runPipeline(
          { pipeline: 'regression', server: { ...deps.registry.servers['prod-a']!, name: 'prod-a' }, incidentDir, timeoutS: 3, regression: { good, bad, run: true, repo } },
          { ...deps, selfCommand: [process.execPath, path.join(REPO_ROOT, 'bin', 'triage.js')] },
          new AbortController().signal,
          () => undefined,
        );
        expect(result.report?.problemClass).toBe('regression');
        expect(result.report?.nextStep.skill).toBe('git-bisect');
        expect(result.report?.facts.firstBadCommit).toBe(culprit);
        const harness = await readFile(path.join(incidentDir, 'bisect', 'harness.sh'), 'utf8');
        expect(harness).toMatch(/exit 125/);
      }
      expect(await portAnswers(port)).toBe(false);
    });
  }, 180_000);

  it('without --run it prints the bisect commands and diffs server_info with the previous baseline', async () => {
    await withTempDir(async (dir) => {
      const prod = await startEmulator({ scenario: 'healthy' });
      servers.push(prod);
      const port = await freePort();
      const deps = pipelineDeps(registryYaml({ prodUrl: prod.url, targetPort: port, launch: emulatorLaunch(port, '') }));
      const server = { ...deps.registry.servers['prod-a']!, name: 'prod-a' };
      await runPipeline({ pipeline: 'capture', server, incidentDir: path.join(dir, 'inc-20261101-0000-prod-a-0001') }, deps, new AbortController().signal, () => undefined);
      const incidentDir = path.join(dir, 'inc-20261201-0000-prod-a-0002');
      const result = await runPipeline({ pipeline: 'regression', server, incidentDir, regression: { good: 'v0.5.14', bad: 'v0.5.15' } }, deps, new AbortController().signal, () => undefined);
      expect(result.report?.problemClass).toBe('regression');
      expect(result.report?.nextStep.commands).toEqual(expect.arrayContaining(['git bisect start v0.5.15 v0.5.14', `git bisect run ${path.join(incidentDir, 'bisect', 'harness.sh')}`]));
      const diff = JSON.parse(await readFile(path.join(incidentDir, 'bisect', 'version-diff.json'), 'utf8'));
      expect(diff.goodBaseline).toBe(path.join(dir, 'inc-20261101-0000-prod-a-0001', 'baseline'));
    });
  }, 60_000);
});

describe('wrong-output pipeline', () => {
  it('identity unchanged, greedy replay differs from the recorded outputs → kl-consistency-test; production gets no traffic', async () => {
    await withTempDir(async (dir) => {
      const prod = await startEmulator({ scenario: 'healthy' });
      servers.push(prod);
      const port = await freePort();
      const now = Date.now() / 1000;
      const reqDir = path.join(dir, 'req');
      writeDump(path.join(reqDir, 'req_dump_1.pkl'), 'request', [
        { rid: 'a', text: 'what is two plus two', output: 'tok tok tok tok tok tok tok tok ', created: now - 10, finished: now - 9, temperature: 0 },
        { rid: 'b', text: 'name a colour', output: 'tok tok tok tok tok tok tok tok ', created: now - 8, finished: now - 7, temperature: 0 },
      ]);
      const deps = pipelineDeps(registryYaml({ prodUrl: prod.url, targetPort: port, launch: emulatorLaunch(port, '--drift-answers'), requestDumpDir: reqDir }));
      const server = { ...deps.registry.servers['prod-a']!, name: 'prod-a' };
      await runPipeline({ pipeline: 'capture', server, incidentDir: path.join(dir, 'inc-20261101-0000-prod-a-0001') }, deps, new AbortController().signal, () => undefined);
      const incidentDir = path.join(dir, 'inc-20261201-0000-prod-a-0002');
      const result = await runPipeline({ pipeline: 'wrong-output', server, incidentDir, timeoutS: 10 }, deps, new AbortController().signal, () => undefined);
      expect(result.report?.problemClass).toBe('wrong-output');
      expect(result.report?.nextStep.skill).toBe('kl-consistency-test');
      const outputs = JSON.parse(await readFile(path.join(incidentDir, 'compare', 'outputs.json'), 'utf8'));
      expect(outputs).toMatchObject({ compared: 2, differing: 2, differingGreedy: 2, comparedProduction: false });
      expect(outputs.identity).toMatchObject({ compared: true, changed: [] });
      expect(prod.hits.filter((h) => h.startsWith('/generate'))).toEqual([]);
      expect(await portAnswers(port)).toBe(false);
    });
  }, 60_000);
});
