import { existsSync } from 'node:fs';
import { ConfigError } from '../config/config-error.ts';
import { openStoreFromConfig, type StoreSettings } from '../store/open-store-from-config.ts';
import type { Store } from '../store/store.ts';

/**
 * The database of a command that reads or changes what serve recorded: it must exist. Opening a
 * missing path would create an empty database and report zeros as if all were well.
 */
export async function openExistingStore(settings: StoreSettings): Promise<Store> {
  const { sqlitePath } = settings;
  if (settings.databaseUrl === undefined && sqlitePath !== ':memory:' && !existsSync(sqlitePath)) {
    throw new ConfigError(`no database at ${sqlitePath} (SQLITE_PATH); nothing was created. Point SQLITE_PATH at the file serve uses, or run migrate to create one`, ['SQLITE_PATH']);
  }
  return openStoreFromConfig(settings);
}
