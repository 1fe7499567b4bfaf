import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDatabase } from '../src/doctor/check-database.ts';
import { openStoreFromConfig } from '../src/store/open-store-from-config.ts';
import { createTestDatabase, TEST_SERVER_URL, type TestDatabase } from './support/pg-test-database.ts';

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
    const before = await checkDatabase(settings);
    expect(before.map((line) => line.level)).toEqual(['FAIL', 'WARN']);
    expect(JSON.stringify(before)).not.toContain('not-needed-under-trust');
    await (await openStoreFromConfig(settings)).close();
    const after = await checkDatabase(settings);
    expect(after.map((line) => [line.level, line.detail])).toEqual([['OK', expect.stringContaining(`${database.name} is writable`)], ['OK', 'all migrations applied']]);
  });

  it('a server that is not there fails the line, naming DATABASE_URL', async () => {
    const gone = new URL(TEST_SERVER_URL);
    gone.port = '1';
    const [line] = await checkDatabase({ sqlitePath: '/nonexistent/ignored.db', databaseUrl: gone.toString() });
    expect(line).toMatchObject({ level: 'FAIL', detail: expect.stringContaining('cannot open postgres://') });
    expect(JSON.stringify(line)).toContain('DATABASE_URL');
  });
});
