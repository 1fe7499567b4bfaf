import { getTableName, is } from 'drizzle-orm';
import { bigint, getTableConfig, index, integer, pgTable, PgTable, text } from 'drizzle-orm/pg-core';
import { integer as sqliteInteger, sqliteTable, SQLiteTable, text as sqliteText } from 'drizzle-orm/sqlite-core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgStore } from '../src/store/pg/open-pg-store.ts';
import * as pgSchema from '../src/store/pg/schema.ts';
import * as sqliteSchema from '../src/store/schema.ts';
import { createTestDatabase, type TestDatabase } from './support/pg-test-database.ts';
import { schemaDrift } from './support/schema-drift.ts';

const sqliteTables = Object.values(sqliteSchema).filter((value) => is(value, SQLiteTable));
const pgTables = Object.values(pgSchema).filter((value) => is(value, PgTable));
const pgTableNamed = (name: string) => pgTables.find((table) => getTableConfig(table).name === name);

describe('the SQLite and PostgreSQL schemas state the same tables', () => {
  it('table by table, column by column: names, types, nullability, defaults, keys, indexes', () => {
    expect(pgTables.map(getTableName).sort()).toEqual(sqliteTables.map(getTableName).sort());
    for (const table of sqliteTables) expect(schemaDrift(table, pgTableNamed(getTableName(table))!), getTableName(table)).toEqual([]);
  });

  it('names what drifted: a column missing, a nullability, a default, an index, a time as int4', () => {
    const lite = sqliteTable('jobs', { id: sqliteText('id').primaryKey(), tries: sqliteInteger('tries').notNull().default(0), seenAt: sqliteInteger('seen_at').notNull(), note: sqliteText('note') });
    const drifted = pgTable('jobs', { id: text('id').primaryKey(), tries: integer('tries').default(1), seenAt: integer('seen_at').notNull(), extra: text('extra') }, (t) => [index('jobs_tries').on(t.tries)]);
    expect(schemaDrift(lite, drifted).sort()).toEqual([
      'jobs index jobs_tries: sqlite missing, postgres (tries)',
      'jobs.extra: only in postgres',
      'jobs.note: only in sqlite',
      'jobs.seen_at: type sqlite int, postgres int (times are bigint)',
      'jobs.tries: default sqlite 0, postgres 1',
      'jobs.tries: notNull sqlite true, postgres false',
    ]);
    const fine = pgTable('jobs', { id: text('id').primaryKey(), tries: integer('tries').notNull().default(0), seenAt: bigint('seen_at', { mode: 'number' }).notNull(), note: text('note') });
    expect(schemaDrift(lite, fine)).toEqual([]);
  });
});

describe('the PostgreSQL migrations build what the PostgreSQL schema states', () => {
  let database: TestDatabase;
  let client: pg.Client;
  beforeAll(async () => {
    database = await createTestDatabase();
    const store = await openPgStore({ databaseUrl: database.url });
    await store.close();
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await database?.drop();
  });

  it('every column with its type and nullability, every index, nothing more (run `npm run db:generate:pg` after a schema change)', async () => {
    const { rows: columns } = await client.query<{ table_name: string; column_name: string; data_type: string; is_nullable: string; has_default: boolean }>(
      `select table_name, column_name, data_type, is_nullable, column_default is not null as has_default from information_schema.columns where table_schema = 'public'`,
    );
    const { rows: indexes } = await client.query<{ tablename: string; indexname: string }>(`select tablename, indexname from pg_indexes where schemaname = 'public' and indexname not like '%_pkey'`);
    const pgType: Record<string, string> = { PgText: 'text', PgBigInt53: 'bigint', PgInteger: 'integer', PgJsonb: 'jsonb', PgJson: 'json', PgBoolean: 'boolean' };
    const expected = pgTables.flatMap((table) => {
      const config = getTableConfig(table);
      return config.columns.map((c) => `${config.name}.${c.name} ${pgType[c.columnType]} ${c.notNull ? 'not null' : 'null'}${c.default !== undefined ? ' default' : ''}`);
    });
    const actual = columns.map((c) => `${c.table_name}.${c.column_name} ${c.data_type} ${c.is_nullable === 'NO' ? 'not null' : 'null'}${c.has_default ? ' default' : ''}`);
    expect(actual.sort()).toEqual(expected.sort());
    const expectedIndexes = pgTables.flatMap((table) => getTableConfig(table).indexes.map((index) => `${getTableConfig(table).name}.${index.config.name}`));
    expect(indexes.map((i) => `${i.tablename}.${i.indexname}`).sort()).toEqual(expectedIndexes.sort());
  });
});
