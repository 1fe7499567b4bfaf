import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/config-error.ts';
import { loadBackfillConfig, loadStoreConfig } from '../src/config/load-config.ts';

describe('DATABASE_URL', () => {
  it('selects PostgreSQL for every command that opens the database; SQLITE_PATH stays as parsed but unused', () => {
    expect(loadStoreConfig({ DATABASE_URL: 'postgres://afs:pw@db.example:5432/afs', SQLITE_PATH: '/var/lib/x.db' })).toEqual({ sqlitePath: '/var/lib/x.db', databaseUrl: 'postgres://afs:pw@db.example:5432/afs' });
    expect(loadBackfillConfig({ AVARA_API_KEY: `sk_live_${'0'.repeat(32)}`, DATABASE_URL: 'postgresql://db.example/afs' }).store).toMatchObject({ databaseUrl: 'postgresql://db.example/afs' });
    expect(loadStoreConfig({})).toEqual({ sqlitePath: './data/avara-fhir-sync.db' });
    expect(loadStoreConfig({ DATABASE_URL: '' })).toEqual({ sqlitePath: './data/avara-fhir-sync.db' });
  });

  it('refuses anything but a postgres URL, naming the variable and never the value', () => {
    for (const value of ['mysql://u:secret-pw@h/db', 'not a url secret-pw']) {
      let error: unknown;
      try {
        loadStoreConfig({ DATABASE_URL: value });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe('DATABASE_URL: must be a postgres:// or postgresql:// URL');
    }
  });
});
