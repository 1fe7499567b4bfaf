import { getTableColumns } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { JobKind } from '../job-kind.ts';
import * as sqlite from '../schema.ts';
import { deliveries, orders } from './schema.ts';

export type PgJobTable = typeof deliveries | typeof orders;

/**
 * A JobKind (deliveries of one target, orders) on the PostgreSQL tables. Derived from the SQLite
 * kind, so a kind's events, its audit subject and the states a person may claim from are stated
 * once for both stores; only the table and columns are swapped for their twins by SQL name.
 */
export interface PgJobKind extends Omit<JobKind, 'table' | 'key' | 'partition'> {
  table: PgJobTable;
  key: PgColumn;
  partition?: { column: PgColumn; value: string };
  /** What a NOTIFY names to wake this job's loops: "deliveries.<target>" or "orders". */
  wakeName(key: string): string;
}

export function pgJobKind(kind: JobKind): PgJobKind {
  const table: PgJobTable = kind.table === sqlite.deliveries ? deliveries : orders;
  const { partition, ...shared } = kind;
  return {
    ...shared,
    table,
    key: columnNamed(table, kind.key.name),
    ...(partition ? { partition: { column: columnNamed(table, partition.column.name), value: partition.value } } : {}),
    wakeName: (key) => {
      const target = kind.subject(key).detail.target;
      return typeof target === 'string' ? `deliveries.${target}` : kind.name;
    },
  };
}

export function columnNamed(table: PgJobTable, sqlName: string): PgColumn {
  const column = Object.values(getTableColumns(table) as Record<string, PgColumn>).find((c) => c.name === sqlName);
  if (!column) throw new Error(`no column ${sqlName} in the PostgreSQL twin of ${kindTableName(table)}`);
  return column;
}

function kindTableName(table: PgJobTable): string {
  return table === deliveries ? 'deliveries' : 'orders';
}
