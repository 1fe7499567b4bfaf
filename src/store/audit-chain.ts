import { createHash } from 'node:crypto';

// The hash chain of the audit trail, apart from where the rows come from: the database
// (`audit verify`) and an NDJSON export (`audit verify --file`) are walked the same way.

/** The prevHash of the very first row. */
export const GENESIS = '0'.repeat(64);

/** Shortest hash prefix an expected head may give: 48 bits, what the metric carries exactly. */
export const MIN_HEAD_PREFIX_HEX = 12;

/** `seq` is not hashed: each row's link to the hash before it fixes the order. */
export function chainHash(prevHash: string, at: number, reportId: string | null, event: string, detail: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([prevHash, at, reportId, event, detail]))
    .digest('hex');
}

export interface ChainRow {
  seq: number;
  at: number;
  reportId: string | null;
  event: string;
  detail: unknown;
  prevHash: string;
  hash: string;
}

/** The end of a chain: how many rows lead up to it from the first one, and its hash. */
export interface ChainHead {
  rows: number;
  hash: string;
}

/** A head recorded elsewhere (yesterday's `audit verify`, the metric): `hash` may be a prefix. */
export interface ExpectedHead {
  rows: number;
  hash: string;
}

export type HeadCheck =
  | { outcome: 'found'; rowsSince: number }
  /** The chain ends before the expected row: its newest rows were deleted. */
  | { outcome: 'missing_rows' }
  /** Another row stands where the expected one was: rows were deleted and others appended. */
  | { outcome: 'differs'; found: string }
  /** An export that starts after the expected row cannot say anything about it. */
  | { outcome: 'before_start'; firstRow: number };

export interface ChainVerdict {
  /** Intact, and holding the expected head when one was given. */
  ok: boolean;
  /** Rows that verified, up to the first broken one. */
  rows: number;
  /** Position of the first row walked: 1 from the start of the chain, later for a partial export. */
  firstRow: number;
  head: ChainHead | undefined;
  brokenAtSeq?: number;
  expected?: HeadCheck;
}

export interface ChainWalk {
  /** False once a row does not match its link or its hash; the walk stops there. */
  add(row: ChainRow): boolean;
  /** A row that matches its hash but not its own copy of it (an export's summary columns): broken there. */
  reject(seq: number): void;
  verdict(): ChainVerdict;
}

/**
 * `start: 'genesis'`: the rows must begin at the first row of the chain (the database).
 * `start: 'anywhere'`: an export since a later day begins with a link into the middle; its
 * positions are counted from that first row's seq, which SQLite numbers without gaps.
 */
export function walkAuditChain(options: { start: 'genesis' | 'anywhere'; expect?: ExpectedHead }): ChainWalk {
  let prevHash: string | undefined = options.start === 'genesis' ? GENESIS : undefined;
  let firstRow = 1;
  let rows = 0;
  let brokenAtSeq: number | undefined;
  let hashAtExpected: string | undefined;
  return {
    add(row) {
      if (brokenAtSeq !== undefined) return false;
      if (prevHash === undefined) {
        // Only the first row of the chain may link to GENESIS, and it must.
        if (row.prevHash !== GENESIS && row.seq > 1) firstRow = row.seq;
        prevHash = row.seq <= 1 ? GENESIS : row.prevHash;
      }
      if (row.prevHash !== prevHash || row.hash !== chainHash(prevHash, row.at, row.reportId, row.event, row.detail ?? null)) {
        brokenAtSeq = row.seq;
        return false;
      }
      if (firstRow + rows === options.expect?.rows) hashAtExpected = row.hash;
      prevHash = row.hash;
      rows += 1;
      return true;
    },
    reject(seq) {
      brokenAtSeq ??= seq;
    },
    verdict() {
      const head = rows > 0 ? { rows: firstRow + rows - 1, hash: prevHash! } : undefined;
      const expected = options.expect && brokenAtSeq === undefined ? checkHead(options.expect, firstRow, head, hashAtExpected) : undefined;
      const ok = brokenAtSeq === undefined && (expected === undefined || expected.outcome === 'found');
      return { ok, rows, firstRow, head, ...(brokenAtSeq === undefined ? {} : { brokenAtSeq }), ...(expected ? { expected } : {}) };
    },
  };
}

function checkHead(expect: ExpectedHead, firstRow: number, head: ChainHead | undefined, hashAtExpected: string | undefined): HeadCheck {
  // An empty chain holds only the empty head (0 rows, GENESIS).
  if (expect.rows === 0) return GENESIS.startsWith(expect.hash) ? { outcome: 'found', rowsSince: head?.rows ?? 0 } : { outcome: 'differs', found: GENESIS };
  if (expect.rows < firstRow) return { outcome: 'before_start', firstRow };
  if (!head || head.rows < expect.rows) return { outcome: 'missing_rows' };
  return hashAtExpected!.startsWith(expect.hash) ? { outcome: 'found', rowsSince: head.rows - expect.rows } : { outcome: 'differs', found: hashAtExpected! };
}

/** `<rows>:<hash>`, the hash whole or its first 12+ hex digits; undefined when malformed. */
export function parseExpectedHead(value: string): ExpectedHead | undefined {
  const match = /^(\d+):([0-9a-fA-F]+)$/.exec(value.trim());
  if (!match || match[2]!.length < MIN_HEAD_PREFIX_HEX || match[2]!.length > 64) return undefined;
  return { rows: Number(match[1]), hash: match[2]!.toLowerCase() };
}
