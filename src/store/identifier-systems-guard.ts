import { eq } from 'drizzle-orm';
import type { Db } from './open-store.ts';
import { settings } from './schema.ts';
import { IdentifierSystemsChangedError } from './store.ts';

const KEY = 'identifier_systems';

/**
 * Conditional writes match on identifier systems: changing one after deliveries exist would
 * create a second copy of everything (fhir-mapping.md "Identifier systems"). Refuse unless told.
 */
export function checkIdentifierSystems(db: Db, systems: Record<string, string>, acceptChange: boolean, now: number): void {
  const current = JSON.stringify(Object.entries(systems).sort(([a], [b]) => a.localeCompare(b)));
  const stored = db.select().from(settings).where(eq(settings.key, KEY)).get();
  if (stored && stored.value !== current && !acceptChange) {
    const before = new Map(JSON.parse(stored.value) as [string, string][]);
    const changed = Object.keys(systems).filter((k) => before.get(k) !== systems[k]);
    throw new IdentifierSystemsChangedError(
      `identifier settings changed since deliveries were recorded (${changed.join(', ')}); replays would duplicate FHIR resources. Restore them, or start with --accept-identifier-change`,
    );
  }
  db.insert(settings).values({ key: KEY, value: current, updatedAt: now }).onConflictDoUpdate({ target: settings.key, set: { value: current, updatedAt: now } }).run();
}
