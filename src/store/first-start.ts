import { sql } from 'drizzle-orm';
import type { DbOrTx } from './open-store.ts';
import { readSetting } from './settings-values.ts';
import { settings } from './schema.ts';

import { FIRST_STARTED_KEY } from './store.ts';

export { FIRST_STARTED_KEY };

/** The recorded first start, else what recordFirstStart would record now (doctor opens read-only). */
export function firstStartOf(db: DbOrTx, now: number): number {
  const recorded = Number(readSetting(db, FIRST_STARTED_KEY));
  return Number.isFinite(recorded) && recorded > 0 ? recorded : earliestActivity(db) ?? now;
}

/**
 * Written once, at the first open that migrates; never changed after (insert-or-ignore, so two
 * processes opening one new database agree on the first writer's value).
 */
export function recordFirstStart(db: DbOrTx, now: number): number {
  const value = firstStartOf(db, now);
  db.insert(settings).values({ key: FIRST_STARTED_KEY, value: String(value), updatedAt: now }).onConflictDoNothing().run();
  return firstStartOf(db, now);
}

/**
 * A database from a release before this one has no record. Its first row is when it started
 * working, and that is the cutoff it gets, not the upgrade's time: the older poller already put
 * every report it found since then in `deliveries`, so nothing old becomes new, while a report
 * signed during the upgrade's downtime whose webhook was lost is still found by the poller, as it
 * would have been before. (The upgrade's time would silently drop exactly those reports.)
 * audit_events counts too: it is never pruned, while the inbox keeps only two weeks.
 */
function earliestActivity(db: DbOrTx): number | undefined {
  const row = db.get<{ at: number | null }>(sql`SELECT min(at) AS at FROM (
    SELECT min(created_at) AS at FROM deliveries
    UNION ALL SELECT min(received_at) FROM inbox
    UNION ALL SELECT min(at) FROM audit_events)`);
  return row?.at ?? undefined;
}
