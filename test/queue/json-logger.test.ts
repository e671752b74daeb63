import { describe, expect, it } from 'vitest';
import { createJsonLogger } from '../../src/queue/json-logger.js';

function capture(level: 'debug' | 'info' | 'warn' | 'error' = 'info') {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createJsonLogger({ level, base: { proc: 'bot' }, now: () => new Date('2026-12-01T10:00:00.000Z'), write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

describe('the JSON logger (pino)', () => {
  it('writes one object per line with time, level name, msg, base fields and the fields; no pid or hostname', () => {
    const { logger, lines } = capture();
    logger.info('job started', { jobId: 'inc-1.capture.1', attempt: 1 });
    logger.child({ host: 'gpu-1' }).warn('worker error', { err: Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }) });
    expect(lines).toEqual([
      { time: '2026-12-01T10:00:00.000Z', level: 'info', proc: 'bot', msg: 'job started', jobId: 'inc-1.capture.1', attempt: 1 },
      { time: '2026-12-01T10:00:00.000Z', level: 'warn', proc: 'bot', host: 'gpu-1', msg: 'worker error', err: { name: 'Error', message: 'connection reset', code: 'ECONNRESET' } },
    ]);
  });

  it('drops lines below its level', () => {
    const { logger, lines } = capture('warn');
    logger.debug('noise');
    logger.info('noise');
    logger.error('kept');
    expect(lines.map((l) => l.msg)).toEqual(['kept']);
  });

  it('redacts secrets: in messages, under secret keys at any depth, inside strings and errors', () => {
    const { logger, lines } = capture();
    logger.info('posting with token xoxb-1234567890-abcdefghij and Authorization: Bearer sk-abcdefghijklmnopqrstuv', {
      headers: { authorization: 'Bearer abcdef123456', cookie: 'session=s3cr3t' },
      config: { botToken: 'xoxb-0987654321-zyxwvutsrq', redisUrl: 'redis://user:hunter2@redis:6379', nested: { api_key: 'k-123' } },
      err: new Error('connect to http://admin:pa55word@10.0.0.5:30000 failed'),
    });
    const text = JSON.stringify(lines);
    for (const secret of ['xoxb-1234567890', 'sk-abcdefghijkl', 'abcdef123456', 's3cr3t', 'xoxb-0987654321', 'hunter2', 'k-123', 'pa55word']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ headers: { authorization: '<redacted>' }, config: { botToken: '<redacted>', nested: { api_key: '<redacted>' } } });
    expect(String((lines[0]!.config as { redisUrl: string }).redisUrl)).toBe('redis://user:<redacted>@redis:6379');
  });
});
