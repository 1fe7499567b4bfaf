import { randomBytes } from 'node:crypto';
import { hashMrn } from './mrn-hash-function.ts';
import { eq } from 'drizzle-orm';
import type { DbOrTx } from './open-store.ts';
import { settings } from './schema.ts';

const KEY = 'mrn_hash_key';

// Per database, so a hash means nothing next to another site's table or a precomputed list of
// MRNs. It is no protection against someone holding this whole file (key included), who could
// still try every MRN: the point is that the MRN itself is never written anywhere.
const cache = new WeakMap<object, Buffer>();

/** The key, created on first use (by a delivery or a search; concurrent creators agree: the first insert wins). */
export function mrnHashKey(db: DbOrTx): Buffer {
  const cached = cache.get(db);
  if (cached) return cached;
  db.insert(settings).values({ key: KEY, value: randomBytes(32).toString('base64'), updatedAt: Date.now() }).onConflictDoNothing().run();
  const value = db.select({ value: settings.value }).from(settings).where(eq(settings.key, KEY)).get()!.value;
  const key = Buffer.from(value, 'base64');
  cache.set(db, key);
  return key;
}

export { hashMrn };
