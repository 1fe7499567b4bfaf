import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDatabase, healthLines } from '../src/doctor/check-database.ts';
import { judgeDatabaseServer } from '../src/doctor/check-database-server.ts';
import { openStoreFromConfig } from '../src/store/open-store-from-config.ts';
import { createTestDatabase, TEST_SERVER_URL, type TestDatabase } from './support/pg-test-database.ts';

const LEASE_MS = 60_000;

describe("doctor's database lines with DATABASE_URL", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  it('names the database without its password: migrations pending, then all applied and writable', async () => {
    const withPassword = new URL(database.url);
    withPassword.password = 'not-needed-under-trust';
    const settings = { sqlitePath: '/nonexistent/ignored.db', databaseUrl: withPassword.toString() };
    const before = await checkDatabase(settings, LEASE_MS);
    expect(before.map((line) => line.level)).toEqual(['FAIL', 'WARN', 'OK', 'OK']);
    expect(JSON.stringify(before)).not.toContain('not-needed-under-trust');
    await (await openStoreFromConfig(settings)).close();
    const after = await checkDatabase(settings, LEASE_MS);
    expect(after.map((line) => [line.level, line.name, line.detail])).toEqual([
      ['OK', 'database', expect.stringContaining(`${database.name} is writable`)],
      ['OK', 'database schema', 'all migrations applied'],
      // This machine's own server: version 15, and the same clock as ours.
      ['OK', 'PostgreSQL version', expect.stringMatching(/^1[5-9]\.|^[2-9]\d\./)],
      ['OK', 'clock', expect.stringMatching(/^this host's clock is \d+ ms (ahead of|behind) the database's \(round trip \d+ ms\)$/)],
    ]);
  });

  it('a server that is not there fails the line, naming DATABASE_URL', async () => {
    const gone = new URL(TEST_SERVER_URL);
    gone.port = '1';
    const lines = await checkDatabase({ sqlitePath: '/nonexistent/ignored.db', databaseUrl: gone.toString() }, LEASE_MS);
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(line).toMatchObject({ level: 'FAIL', detail: expect.stringContaining('cannot open postgres://') });
    expect(JSON.stringify(line)).toContain('DATABASE_URL');
  });
});

describe("doctor's judgement of the PostgreSQL server", () => {
  const facts = { version: '15.19 (Debian 15.19-0+deb12u1)', supported: true, clockAheadMs: 0, roundTripMs: 2 };
  const levels = (changes: Partial<typeof facts>) => judgeDatabaseServer({ ...facts, ...changes }, LEASE_MS).map((line) => `${line.name}:${line.level}`);

  it('a server older than 11 fails, naming its version and the fix', () => {
    const [version] = judgeDatabaseServer({ ...facts, version: '10.23', supported: false }, LEASE_MS);
    expect(version).toMatchObject({ level: 'FAIL', detail: '10.23 is older than 11', fix: expect.stringContaining('11 or later') });
  });

  it('clock: OK within a second, WARN up to a third of the lease, FAIL beyond, either way round', () => {
    expect(levels({ clockAheadMs: 900 })).toEqual(['PostgreSQL version:OK', 'clock:OK']);
    expect(levels({ clockAheadMs: -5_000 })).toEqual(['PostgreSQL version:OK', 'clock:WARN']);
    expect(levels({ clockAheadMs: 19_999 })).toEqual(['PostgreSQL version:OK', 'clock:WARN']);
    expect(levels({ clockAheadMs: 20_001 })).toEqual(['PostgreSQL version:OK', 'clock:FAIL']);
    expect(levels({ clockAheadMs: -45_000 })).toEqual(['PostgreSQL version:OK', 'clock:FAIL']);
    const [, behind] = judgeDatabaseServer({ ...facts, clockAheadMs: -45_000 }, LEASE_MS);
    expect(behind!.detail).toContain('45000 ms behind the database');
    expect(behind!.fix).toContain('NTP');
  });

  it('a slow round trip is not blamed on the clock: only what it cannot explain counts', () => {
    // 1.5 s apart with a 2 s round trip: the reading may be off by 1 s, so the clocks may agree.
    expect(levels({ clockAheadMs: 1_500, roundTripMs: 2_000 })).toEqual(['PostgreSQL version:OK', 'clock:OK']);
    expect(levels({ clockAheadMs: 2_500, roundTripMs: 2_000 })).toEqual(['PostgreSQL version:OK', 'clock:WARN']);
  });
});

describe("doctor's database lines from the store's health", () => {
  it('a database lost after it opened is said to have stopped answering, with its code, not to be a standby', () => {
    const lines = healthLines({ migrated: false, writable: 'unreachable', error: '57P01' }, 'postgres://u@db/x', true);
    expect(lines).toEqual([{ name: 'database', level: 'FAIL', detail: 'postgres://u@db/x stopped answering (57P01)', fix: expect.stringContaining('server is up and reachable') }]);
    expect(healthLines({ migrated: true, writable: 'not_writable' }, 'postgres://u@db/x', true)[0]!.fix).toContain('standby');
    expect(healthLines({ migrated: true, writable: 'not_writable' }, '/var/lib/x.db', false)[0]!.fix).toContain('permissions');
  });
});
