import { is, SQL, type Table } from 'drizzle-orm';
import { getTableConfig as pgConfig, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';

/** A table as both dialects can state it: what the two schema files must agree on. */
export interface TableShape {
  name: string;
  columns: Record<string, ColumnShape>;
  /** index name -> "unique? (col, col)" */
  indexes: Record<string, string>;
}

interface ColumnShape {
  type: 'text' | 'int' | 'bigint' | 'json' | 'boolean';
  notNull: boolean;
  primary: boolean;
  /** A plain default as JSON, "sql" for an expression (dialect-specific text), absent for none. */
  default?: string;
  enum?: string;
}

const TYPES: Record<string, ColumnShape['type']> = {
  SQLiteText: 'text', SQLiteTextJson: 'json', SQLiteInteger: 'int', SQLiteBoolean: 'boolean',
  PgText: 'text', PgJsonb: 'json', PgJson: 'json', PgInteger: 'int', PgBigInt53: 'bigint', PgBoolean: 'boolean',
};

export function shapeOf(table: Table): TableShape {
  const config = is(table, PgTable) ? pgConfig(table) : is(table, SQLiteTable) ? sqliteConfig(table) : undefined;
  if (!config) throw new Error('neither a PostgreSQL nor a SQLite table');
  const columns: Record<string, ColumnShape> = {};
  for (const column of config.columns) {
    const type = TYPES[column.columnType];
    if (!type) throw new Error(`${config.name}.${column.name}: column type ${column.columnType} has no mapping here`);
    const enumValues = (column as { enumValues?: string[] }).enumValues;
    columns[column.name] = {
      type,
      notNull: column.notNull,
      primary: column.primary,
      ...(column.default !== undefined ? { default: is(column.default, SQL) ? 'sql' : JSON.stringify(column.default) } : {}),
      ...(enumValues?.length ? { enum: enumValues.join('|') } : {}),
    };
  }
  const indexes: Record<string, string> = {};
  for (const index of config.indexes) {
    const names = index.config.columns.map((c) => (c as { name?: string }).name ?? '<expression>');
    indexes[index.config.name!] = `${index.config.unique ? 'unique ' : ''}(${names.join(', ')})`;
  }
  for (const unique of config.uniqueConstraints) indexes[unique.getName() ?? '<unnamed unique>'] = `unique (${unique.columns.map((c) => c.name).join(', ')})`;
  return { name: config.name, columns, indexes };
}

/**
 * Every difference between the SQLite and the PostgreSQL statement of one table, as readable
 * lines; empty when they agree. SQLite integers may be PostgreSQL integer or bigint, but times
 * (`*_at`) and the audit `seq` must be bigint: unix milliseconds overflow an int4.
 */
export function schemaDrift(sqlite: Table, pg: Table): string[] {
  const a = shapeOf(sqlite);
  const b = shapeOf(pg);
  const drift: string[] = [];
  if (a.name !== b.name) drift.push(`table name: sqlite ${a.name}, postgres ${b.name}`);
  for (const name of new Set([...Object.keys(a.columns), ...Object.keys(b.columns)])) {
    const s = a.columns[name];
    const p = b.columns[name];
    if (!s || !p) {
      drift.push(`${a.name}.${name}: only in ${s ? 'sqlite' : 'postgres'}`);
      continue;
    }
    const wantsBigint = name.endsWith('_at') || name === 'seq';
    const typeOk = s.type === p.type || (s.type === 'int' && (p.type === 'bigint' || p.type === 'int') && (!wantsBigint || p.type === 'bigint'));
    if (!typeOk || (wantsBigint && p.type !== 'bigint')) drift.push(`${a.name}.${name}: type sqlite ${s.type}, postgres ${p.type}${wantsBigint ? ' (times are bigint)' : ''}`);
    for (const key of ['notNull', 'primary', 'default', 'enum'] as const) {
      if (s[key] !== p[key]) drift.push(`${a.name}.${name}: ${key} sqlite ${String(s[key])}, postgres ${String(p[key])}`);
    }
  }
  for (const name of new Set([...Object.keys(a.indexes), ...Object.keys(b.indexes)])) {
    if (a.indexes[name] !== b.indexes[name]) drift.push(`${a.name} index ${name}: sqlite ${a.indexes[name] ?? 'missing'}, postgres ${b.indexes[name] ?? 'missing'}`);
  }
  return drift;
}
