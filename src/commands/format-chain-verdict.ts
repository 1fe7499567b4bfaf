import { GENESIS, type ChainVerdict, type ExpectedHead } from '../store/store.ts';

/** What `audit verify` prints: the verdict, the head to record elsewhere, and the comparison with one recorded before. */
export function formatChainVerdict(verdict: ChainVerdict, subject: 'audit chain' | 'audit export', expect?: ExpectedHead): string {
  if (verdict.brokenAtSeq !== undefined) return `${subject} BROKEN at seq ${verdict.brokenAtSeq} (${verdict.rows} rows intact before it)\n`;
  const lines = [`${subject} intact: ${verdict.rows} rows${verdict.firstRow > 1 ? ` (rows ${verdict.firstRow} to ${verdict.head!.rows} of the chain: the export starts after its beginning)` : ''}`];
  lines.push(`head ${verdict.head ? `${verdict.head.rows}:${verdict.head.hash}` : `0:${GENESIS} (no rows)`}`);
  const check = verdict.expected;
  if (expect && check) {
    const wanted = `expected head ${expect.rows}:${expect.hash}`;
    switch (check.outcome) {
      case 'found':
        lines.push(`${wanted} found (${check.rowsSince} rows after it)`);
        break;
      case 'missing_rows':
        lines.push(`${wanted} MISSING: the chain ends at row ${verdict.head?.rows ?? 0}; rows after it were deleted`);
        break;
      case 'differs':
        lines.push(`${wanted} DIFFERS: row ${expect.rows} has hash ${check.found}; rows were deleted or rewritten and the chain rebuilt after them`);
        break;
      case 'before_start':
        lines.push(`${wanted} cannot be checked: this export starts at row ${check.firstRow}; export from an earlier --since`);
        break;
    }
  }
  return `${lines.join('\n')}\n`;
}
