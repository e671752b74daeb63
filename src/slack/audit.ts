import type { Redis } from 'ioredis';
import type { Logger } from '../pipelines/types.js';

export interface AuditRecord {
  at: string;
  /** Slash subcommand or button action, e.g. "capture", "action:resolve". */
  command: string;
  user: string;
  channel: string;
  args: string;
  outcome: string;
  incidentId?: string;
  /** x-slack-retry-num of a redelivered request. */
  retryNum?: number;
  detail?: string;
}

/**
 * Every command and button press, refused ones included: a JSON log line and an entry in a
 * capped Redis stream (`<prefix>:@audit`). Auditing never fails the command it records.
 */
export class AuditLog {
  constructor(
    private readonly options: { redis: Redis; key: string; logger: Logger; maxLen?: number },
  ) {}

  async record(entry: AuditRecord): Promise<void> {
    this.options.logger.info('audit', { audit: entry });
    try {
      await this.options.redis.xadd(this.options.key, 'MAXLEN', '~', String(this.options.maxLen ?? 100_000), '*', 'entry', JSON.stringify(entry));
    } catch (err) {
      this.options.logger.error('audit entry not stored in Redis', { err, audit: entry });
    }
  }

  /** Newest first. */
  async recent(count: number): Promise<AuditRecord[]> {
    const rows = await this.options.redis.xrevrange(this.options.key, '+', '-', 'COUNT', count);
    return rows.flatMap(([, fields]) => {
      const json = fields[fields.indexOf('entry') + 1];
      try {
        return json ? [JSON.parse(json) as AuditRecord] : [];
      } catch {
        return [];
      }
    });
  }
}
