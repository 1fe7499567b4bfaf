import { describeDatabaseServer, openStoreFromConfig, storeLocation, type StoreSettings } from '../store/open-store-from-config.ts';
import type { Store, StoreHealth } from '../store/store.ts';
import { judgeDatabaseServer } from './check-database-server.ts';
import { fail, ok, warn, type CheckResult } from './doctor-check.ts';

/**
 * Opens the database without migrating (doctor applies nothing) and proves it takes writes; for
 * PostgreSQL also its version and this host's clock against the server's (`leaseMs` judges it).
 */
export async function checkDatabase(settings: StoreSettings, leaseMs: number): Promise<CheckResult[]> {
  const name = 'database';
  const where = storeLocation(settings);
  let store: Store;
  try {
    store = await openStoreFromConfig(settings, { migrate: false });
  } catch (error) {
    return [fail(name, `cannot open ${where} (${(error as { code?: string }).code ?? 'error'})`, settings.databaseUrl === undefined ? 'check SQLITE_PATH and that its directory exists and is writable by this user' : 'check DATABASE_URL, that the server is up and that this user may connect')];
  }
  try {
    const health = await store.health();
    // A database that stopped answering is not asked about its version or clock.
    const server = health.writable === 'unreachable' ? undefined : await describeDatabaseServer(settings);
    return [...healthLines(health, where, settings.databaseUrl !== undefined), ...(server ? judgeDatabaseServer(server, leaseMs) : [])];
  } finally {
    await store.close();
  }
}

/** What the store's own health says, as doctor lines. */
export function healthLines(health: StoreHealth, where: string, postgres: boolean): CheckResult[] {
  const name = 'database';
  // Opened, then lost (a restart, a frozen server): not a standby, and nothing more to ask it.
  if (health.writable === 'unreachable') return [fail(name, `${where} stopped answering (${health.error ?? 'error'})`, 'check that the database server is up and reachable from this host, then run doctor again')];
  return [
    health.writable === 'writable' ? ok(name, `${where} is writable`) : fail(name, `${where} refuses writes`, postgres ? 'a standby or read-only database: point DATABASE_URL at the primary' : 'check file and directory permissions and free disk space'),
    health.migrated ? ok('database schema', 'all migrations applied') : warn('database schema', 'migrations pending', 'run avara-fhir-sync migrate (serve also migrates at start)'),
  ];
}
