import { existsSync } from 'node:fs';
import { ConfigError } from '../config/config-error.ts';
import { openStore, type Store } from '../store/open-store.ts';

/**
 * The database of a command that reads or changes what serve recorded: it must exist. Opening a
 * missing path would create an empty database and report zeros as if all were well.
 */
export function openExistingStore(sqlitePath: string): Store {
  if (sqlitePath !== ':memory:' && !existsSync(sqlitePath)) {
    throw new ConfigError(`no database at ${sqlitePath} (SQLITE_PATH); nothing was created. Point SQLITE_PATH at the file serve uses, or run migrate to create one`, ['SQLITE_PATH']);
  }
  return openStore({ sqlitePath });
}
