import { eq } from 'drizzle-orm';
import type { DbOrTx } from './open-store.ts';
import { settings } from './schema.ts';

/** Small durable facts (a sweep's cursor, when it last completed) kept across restarts. */
export function readSetting(db: DbOrTx, key: string): string | undefined {
  return db.select({ value: settings.value }).from(settings).where(eq(settings.key, key)).get()?.value;
}

export function writeSetting(db: DbOrTx, key: string, value: string | undefined, now: number): void {
  if (value === undefined) {
    db.delete(settings).where(eq(settings.key, key)).run();
    return;
  }
  db.insert(settings).values({ key, value, updatedAt: now }).onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: now } }).run();
}
