import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { threadedRunner } from '../../src/queue/thread-runner.js';
import { startHarness, type Harness } from '../helpers/bot-harness.js';
import { postSlashCommand } from '../helpers/slack-requests.js';

const RUNNERS = new URL('../helpers/poisoned-runners.ts', import.meta.url);

/** Largest gap between 50 ms ticks of this process's event loop while `during` runs. */
async function loopLag<T>(during: Promise<T>): Promise<{ value: T; maxLagMs: number }> {
  let last = performance.now();
  let maxLagMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxLagMs = Math.max(maxLagMs, now - last - 50);
    last = now;
  }, 50);
  try {
    return { value: await during, maxLagMs };
  } finally {
    clearInterval(timer);
  }
}

/**
 * A poisoned incident must not block its host (issue 12.6): the pipeline runs in a worker thread,
 * so the worker's event loop keeps renewing BullMQ locks (here 1 s, checked every 300 ms) and
 * runs the host's other jobs, and a thread that never yields is killed at the attempt's deadline.
 */
describe('poisoned jobs run in a pipeline thread (real Bolt app, real worker, real Redis)', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  async function setup(exportName: string, jobTimeoutMs: number) {
    const registry = `servers:
  prod-a:
    url: http://127.0.0.1:9
    host: gpu-1
    logFile: LOGFILE
  prod-b:
    url: http://127.0.0.1:9
    host: gpu-1
`;
    // The log file path is only known once the harness has its folder; write it, then patch the registry.
    h = await startHarness({ registry: registry.replace('LOGFILE', '/nonexistent'), config: { jobAttempts: 2, jobBackoffMs: 100 } });
    const logFile = path.join(h.dataDir, 'server.log');
    // One 512 KiB line of hex, the poisoned input of issue 12.6.
    await writeFile(logFile, `[2026-12-01 10:00:00] INFO server started\n${randomBytes(256 * 1024).toString('hex')}\n`);
    h.registry.servers['prod-a']!.logFile = logFile;
    const runner = threadedRunner({ entry: RUNNERS, exportName, abortGraceMs: 300 });
    h.startWorker({ host: 'gpu-1', runPipeline: runner, lockDurationMs: 1000, stalledIntervalMs: 300, jobTimeoutMs, concurrency: 2 });
    return { h, runner };
  }

  const threadOf = async (harness: Harness, server: string) => {
    const root = await harness.fake.waitFor(() => harness.fake.messages.find((m) => !m.thread_ts && m.text?.includes(`capture on ${server}`)), `${server} opening message`);
    return root;
  };

  it('a parse that never yields is killed at the deadline; the failure is posted with its reason; the other server is not delayed', { timeout: 60_000 }, async () => {
    const { h, runner } = await setup('poisonedLogRunner', 6000);
    try {
      await postSlashCommand(h.botUrl, h.fake, { text: 'capture prod-a' });
      const rootA = await threadOf(h, 'prod-a');
      const started = Date.now();
      await postSlashCommand(h.botUrl, h.fake, { text: 'capture prod-b' });
      const rootB = await threadOf(h, 'prod-b');

      const { value: summaryB, maxLagMs } = await loopLag(h.fake.waitFor(() => h.fake.threadOf(rootB.ts).find((m) => m.text?.includes('slow on prod-b')), 'prod-b summary', 20_000));
      expect(summaryB).toBeTruthy();
      // prod-b finished while prod-a's thread was still spinning, and this process stayed responsive.
      expect(Date.now() - started).toBeLessThan(6000);
      expect((await h.store.listActive()).find((i) => i.server === 'prod-a')).toMatchObject({ jobState: 'running' });
      expect(maxLagMs).toBeLessThan(500);

      const notice = await h.fake.waitFor(() => h.fake.threadOf(rootA.ts).find((m) => m.text?.includes('capture failed on prod-a')), 'prod-a failure notice', 30_000);
      const text = JSON.stringify(notice.blocks);
      expect(text).toMatch(/deadline \[timeout\]/);
      expect(text).toContain('after 2 attempts');
      const a = await h.store.require((await h.store.listActive()).find((i) => i.server === 'prod-a')!.id);
      expect(a).toMatchObject({ status: 'failed', jobState: 'failed' });
      // The lock held throughout: no attempt was lost to a stall.
      expect(a.timeline.some((t) => /stalled/.test(t.text))).toBe(false);
    } finally {
      await runner.close();
    }
  });

  it('three seconds of CPU in the parser: the lock is kept, the result posted after one attempt', { timeout: 60_000 }, async () => {
    const { h, runner } = await setup('cpuBurnRunner', 30_000);
    try {
      await postSlashCommand(h.botUrl, h.fake, { text: 'capture prod-a' });
      const root = await threadOf(h, 'prod-a');
      const { maxLagMs } = await loopLag(h.fake.waitFor(() => h.fake.threadOf(root.ts).find((m) => m.text?.includes('slow on prod-a')), 'summary', 30_000));
      expect(maxLagMs).toBeLessThan(500);
      const incident = (await h.store.listActive()).find((i) => i.server === 'prod-a')!;
      expect(incident).toMatchObject({ jobState: 'done', attempt: 1 });
      const record = await h.store.require(incident.id);
      expect(record.timeline.some((t) => t.kind === 'retry')).toBe(false);
    } finally {
      await runner.close();
    }
  });
});
