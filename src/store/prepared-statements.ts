import { sql, type Placeholder, type SQL } from 'drizzle-orm';
import type { DbOrTx } from './open-store.ts';

const cache = new WeakMap<object, Map<string, unknown>>();

/**
 * A drizzle query prepared once per connection and reused. Drizzle builds the SQL and asks SQLite
 * to prepare it on every call, which costs more than the write itself on the paths every webhook
 * and every delivery take. A transaction handle shares its database's session (same connection),
 * so a statement prepared from either serves both.
 *
 * `build` must use only `sql.placeholder(...)` for values: what it captures is fixed forever.
 */
export function preparedOnce<T>(tx: DbOrTx, name: string, build: (tx: DbOrTx) => T): T {
  const session = (tx as unknown as { session: object }).session;
  let statements = cache.get(session);
  if (!statements) cache.set(session, (statements = new Map()));
  let statement = statements.get(name) as T | undefined;
  if (statement === undefined) {
    statement = build(tx);
    statements.set(name, statement);
  }
  return statement;
}

/** `{ column: sql.placeholder('column') }` for each column: the values of a prepared insert. */
export function placeholdersFor<K extends string>(columns: readonly K[]): Record<K, Placeholder<K>> {
  return Object.fromEntries(columns.map((column) => [column, sql.placeholder(column)])) as Record<K, Placeholder<K>>;
}

/**
 * A placeholder for `update().set()`. Drizzle binds it there like any value, through the column's
 * encoder (JSON columns stay JSON), but its types only list values, columns and SQL.
 */
export function setPlaceholder(name: string): SQL {
  return sql.placeholder(name) as unknown as SQL;
}

/** `setPlaceholder(column)` for each column: the `set` of a prepared update. */
export function setPlaceholdersFor<K extends string>(columns: readonly K[]): Record<K, SQL> {
  return Object.fromEntries(columns.map((column) => [column, setPlaceholder(column)])) as Record<K, SQL>;
}
