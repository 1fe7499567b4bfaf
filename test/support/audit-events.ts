import type { TestEnv } from './test-env.ts';
import { sqliteOf } from './sqlite-of.ts';

export interface AuditRowView {
  seq: number;
  event: string;
  detail: Record<string, unknown> | null;
}

/** The audit rows of one event name, oldest first, read straight from the app's SQLite file. */
export function listAuditEventsByName(env: TestEnv, event: string): AuditRowView[] {
  const rows = sqliteOf(env.app).sqlite.prepare('SELECT seq, event, detail FROM audit_events WHERE event = ? ORDER BY seq').all(event) as { seq: number; event: string; detail: string | null }[];
  return rows.map((r) => ({ seq: r.seq, event: r.event, detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null }));
}
