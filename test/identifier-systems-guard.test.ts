import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApp } from '../src/app.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { createLogger } from '../src/create-logger.ts';
import { SERVE_TEST_SETTINGS, WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';

describe('identifier systems recorded in the database', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'afs-ids-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const config = (extra: Record<string, string> = {}) =>
    loadConfig({
      AVARA_BASE_URL: 'http://127.0.0.1:9',
      AVARA_API_KEY: 'sk_live_0123456789abcdef0123456789abcdef',
      AVARA_WEBHOOK_KEY: 'whsec_aOIOjHX2f9EZlBx83v4B6sCOuq9thgxS',
      FHIR_BASE_URL: 'http://127.0.0.1:9/fhir/R4',
      SQLITE_PATH: join(dir, 'state.db'),
      PORT: '0',
      ...SERVE_TEST_SETTINGS,
      ...WORKER_IN_MAIN_THREAD,
      ...extra,
    });
  const log = createLogger('silent');

  it('refuses to start when MRN_SYSTEM changed since the last start, naming the setting', async () => {
    await (await startApp(config(), log)).stop();
    await expect(startApp(config({ MRN_SYSTEM: 'urn:oid:1.2.3' }), log)).rejects.toThrow(/mrnSystem.*--accept-identifier-change/);
  });

  it('starts with the new systems when the change is accepted, and remembers them', async () => {
    await (await startApp(config(), log)).stop();
    await (await startApp(config({ MRN_SYSTEM: 'urn:oid:1.2.3' }), log, { acceptIdentifierChange: true })).stop();
    await (await startApp(config({ MRN_SYSTEM: 'urn:oid:1.2.3' }), log)).stop();
  });

  it('does not care about settings that do not make identifiers, such as the time zone', async () => {
    await (await startApp(config(), log)).stop();
    await (await startApp(config({ STUDY_TIME_ZONE: 'Europe/Berlin' }), log)).stop();
  });
});
