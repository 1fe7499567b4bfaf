import { eq, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from './open-store.ts';
import { polledStudies } from './schema.ts';

export type PolledStudy = typeof polledStudies.$inferSelect;

export function getPolledStudy(db: DbOrTx, studyId: string): PolledStudy | undefined {
  return db.select().from(polledStudies).where(eq(polledStudies.studyId, studyId)).get();
}

export function savePolledStudy(db: DbOrTx, row: PolledStudy): void {
  const { studyId, ...rest } = row;
  db.insert(polledStudies).values(row).onConflictDoUpdate({ target: polledStudies.studyId, set: rest }).run();
}

export function countPolledStudies(db: Db): number {
  return db.select({ n: sql<number>`count(*)` }).from(polledStudies).get()?.n ?? 0;
}

export function countStudiesCancelledAfterDelivery(db: Db): number {
  return db.select({ n: sql<number>`count(*)` }).from(polledStudies).where(eq(polledStudies.cancelledFlagged, true)).get()?.n ?? 0;
}
