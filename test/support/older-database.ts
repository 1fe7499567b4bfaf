import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SHIPPED = fileURLToPath(new URL('../../drizzle', import.meta.url));

/**
 * A database as an older release left it: the shipped migrations up to and including `lastTag`
 * applied, nothing after. `seed` writes rows in that old shape; opening it with openStore then
 * runs the newer migrations on real data, as an upgrade does.
 */
export function createOlderDatabase(path: string, lastTag: string, seed: (sqlite: Database.Database) => void): void {
  const folder = mkdtempSync(join(tmpdir(), 'afs-migrations-'));
  try {
    cpSync(SHIPPED, folder, { recursive: true });
    const journalPath = join(folder, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
    const last = journal.entries.findIndex((entry) => entry.tag === lastTag);
    if (last < 0) throw new Error(`no migration ${lastTag}`);
    writeFileSync(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, last + 1) }));
    const sqlite = new Database(path);
    migrate(drizzle(sqlite), { migrationsFolder: folder });
    seed(sqlite);
    sqlite.close();
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
