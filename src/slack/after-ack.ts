/**
 * Work that follows an ack (the subcommand itself, its answer, the audit record) runs here, at
 * most `concurrency` at a time, in arrival order. Under a burst the event loop then holds a few
 * command bodies' worth of Redis and Slack callbacks, not one per request in flight, so a new
 * request is read, verified and acked without waiting behind all of them.
 */
export class AfterAck {
  private readonly waiting: Array<() => Promise<void>> = [];
  private running = 0;
  private readonly idle: Array<() => void> = [];

  constructor(private readonly options: { concurrency: number; onError: (err: unknown) => void }) {}

  /** Queues `work`; never throws (failures go to onError). */
  run(work: () => Promise<void>): void {
    this.waiting.push(work);
    this.pump();
  }

  get pending(): number {
    return this.waiting.length + this.running;
  }

  /** Resolves when nothing is queued or running (shutdown, tests). */
  drain(): Promise<void> {
    if (!this.pending) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.running < this.options.concurrency && this.waiting.length) {
      const work = this.waiting.shift()!;
      this.running++;
      // setImmediate: the ack's own write and the next request's parsing go first.
      setImmediate(() => {
        work()
          .catch(this.options.onError)
          .finally(() => {
            this.running--;
            this.pump();
            if (!this.pending) for (const resolve of this.idle.splice(0)) resolve();
          });
      });
    }
  }
}
