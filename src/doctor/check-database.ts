import { isMigrated, openStore } from '../store/open-store.ts';
import { probeWritable } from '../store/probe-writable.ts';
import { fail, ok, warn, type CheckResult } from './doctor-check.ts';

/** Opens SQLITE_PATH without migrating (doctor applies nothing) and proves it takes writes. */
export function checkDatabase(sqlitePath: string): CheckResult[] {
  const name = 'database';
  let store;
  try {
    store = openStore({ sqlitePath, migrate: false });
  } catch (error) {
    return [fail(name, `cannot open ${sqlitePath} (${(error as { code?: string }).code ?? 'error'})`, 'check SQLITE_PATH and that its directory exists and is writable by this user')];
  }
  try {
    const writable = probeWritable(store);
    return [
      writable === 'writable' ? ok(name, `${sqlitePath} is writable`) : fail(name, `${sqlitePath} refuses writes`, 'check file and directory permissions and free disk space'),
      isMigrated(store) ? ok('database schema', 'all migrations applied') : warn('database schema', 'migrations pending', 'run avara-fhir-sync migrate (serve also migrates at start)'),
    ];
  } finally {
    store.close();
  }
}
