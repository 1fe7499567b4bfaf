import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type * as schema from './schema.ts';

/** drizzle over the PostgreSQL tables: on the pool (reads) or one transaction's connection. */
export type PgDb = NodePgDatabase<typeof schema>;
