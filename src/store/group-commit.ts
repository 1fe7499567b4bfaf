import type { Db } from './open-store.ts';

/** Schedules one flush; `setImmediate` by default: after the event loop has read what has arrived. */
export type ScheduleFlush = (flush: () => void) => void;

export interface GroupCommit {
  /**
   * Runs `write` in the next shared transaction and settles once that transaction is committed
   * (durable, synchronous=FULL). A write that throws is rolled back alone (its own savepoint) and
   * rejects with its error; a commit that fails rejects every write of the group.
   */
  run<T>(write: () => T): Promise<T>;
}

interface Waiting {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for writes that arrive together, such as webhooks on concurrent connections. With
 * synchronous=FULL each commit waits for an fsync while better-sqlite3 holds the event loop; ten
 * webhooks committed one by one cost ten fsyncs, committed together one. Nobody is answered
 * before the commit that holds their write, so the promise of a 2xx is unchanged.
 */
export function createGroupCommit(db: Db, schedule: ScheduleFlush = (flush) => void setImmediate(flush)): GroupCommit {
  let waiting: Waiting[] = [];

  function flush(): void {
    const group = waiting;
    waiting = [];
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      db.transaction(
        () => {
          for (const item of group) {
            try {
              // Nested: a savepoint, so a failing write leaves the others of the group intact.
              outcomes.push({ ok: true, value: db.transaction(() => item.write()) });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
          }
        },
        { behavior: 'immediate' },
      );
    } catch (error) {
      // Busy, full, read-only or gone: nothing of the group is kept.
      for (const item of group) item.reject(error);
      return;
    }
    group.forEach((item, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }

  return {
    run<T>(write: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        if (waiting.length === 0) schedule(flush);
        waiting.push({ write, resolve: resolve as (value: unknown) => void, reject });
      });
    },
  };
}
