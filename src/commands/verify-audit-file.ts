import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { walkAuditChain, type ChainRow, type ChainVerdict, type ExpectedHead } from '../store/store.ts';
import { EXPORT_COLUMNS, toExportRecord } from './audit-export.ts';

const HASH = /^[0-9a-f]{64}$/;

/**
 * `audit verify --file`: the chain of an `audit export --format ndjson` file, recomputed row by
 * row without the database. Read as a stream: an export of years stays small in memory.
 */
export async function verifyAuditFile(path: string, expect?: ExpectedHead): Promise<ChainVerdict> {
  const walk = walkAuditChain({ start: 'anywhere', ...(expect ? { expect } : {}) });
  const input = createReadStream(path);
  try {
    let lineNumber = 0;
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      lineNumber += 1;
      if (line.trim() === '') continue;
      const record = parseObject(line);
      const row = toChainRow(record, lineNumber);
      // The summary columns repeat what the hash covers; a reader trusts them, so they must agree.
      if (!summaryAgrees(record!, row)) walk.reject(row.seq);
      if (!walk.add(row)) break;
    }
  } finally {
    input.destroy();
  }
  return walk.verdict();
}

function toChainRow(record: Record<string, unknown> | undefined, lineNumber: number): ChainRow {
  const at = typeof record?.at === 'string' ? Date.parse(record.at) : Number.NaN;
  const valid = record !== undefined && Number.isInteger(record.seq) && !Number.isNaN(at) && 'detail' in record
    && (record.reportId === null || typeof record.reportId === 'string') && typeof record.event === 'string'
    && typeof record.prevHash === 'string' && HASH.test(record.prevHash) && typeof record.hash === 'string' && HASH.test(record.hash);
  if (!valid) {
    // Never quote the line: its detail may hold an operator's free text.
    throw new Error(`line ${lineNumber} is not an audit record with its chain links (seq, at, reportId, event, detail, prevHash, hash); verify a file made by \`audit export --format ndjson\``);
  }
  return { seq: record.seq as number, at, reportId: record.reportId as string | null, event: record.event as string, detail: record.detail, prevHash: record.prevHash as string, hash: record.hash as string };
}

function summaryAgrees(record: Record<string, unknown>, row: ChainRow): boolean {
  const derived = toExportRecord({ ...row, detail: (row.detail ?? null) as Record<string, unknown> | null });
  return EXPORT_COLUMNS.every((column) => (record[column] ?? null) === derived[column]);
}

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
