import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codesWithHints, hintFor } from '../src/http/page/error-hints.ts';

// The codes the service can record, collected from its source rather than listed by hand: the
// ErrorCode union, every literal thrown as a SyncError or written as a last error, and every
// reason an attempt is given back for (shown in the attempts table).
const PATTERNS = [
  /SyncError\.(?:permanent|retryable)\(\s*'([a-z0-9_]+)'/g,
  /lastErrorCode: '([a-z0-9_]+)'/g,
  /kind: 'busy', reason: [`']([a-z0-9_]+)/g,
  /release\([^)]*?'([a-z0-9_]+)'/g,
  /action: 'release';[^}]*reason: ((?:'[a-z_]+'(?: \| )?)+)/g,
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

function collectCodes(): Set<string> {
  const codes = new Set<string>();
  // The union's members, one `| 'code'` a line (its comments may hold any punctuation).
  for (const m of readFileSync('src/errors.ts', 'utf8').matchAll(/^\s*\| '([a-z0-9_]+)'/gm)) codes.add(m[1]!);
  for (const file of sourceFiles('src')) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of PATTERNS) {
      for (const m of text.matchAll(pattern)) for (const code of m[1]!.matchAll(/[a-z][a-z0-9_]+/g)) codes.add(code[0]);
    }
  }
  return codes;
}

describe('error hints', () => {
  it('has a hint for every code the source can record', () => {
    const codes = collectCodes();
    // The collection itself must work: these are known to be produced.
    for (const known of ['patient_mismatch', 'pdf_host_not_allowed', 'hl7_rejected', 'lease_expired_repeatedly', 'study_or_patient_locked', 'hl7_unreachable', 'shutdown', 'credentials_refused']) {
      expect(codes, known).toContain(known);
    }
    const missing = [...codes].filter((code) => hintFor(code) === undefined);
    expect(missing).toEqual([]);
  });

  it('keeps no hint for a code nothing produces any more', () => {
    const codes = collectCodes();
    expect(codesWithHints().filter((code) => !codes.has(code))).toEqual([]);
  });

  it('finds the hint of a wait reason that names its cause, and none for an unknown code', () => {
    expect(hintFor('hl7_unreachable ECONNREFUSED')).toMatch(/HL7 receiver could not be reached/);
    expect(hintFor('no_such_code')).toBeUndefined();
    expect(hintFor(null)).toBeUndefined();
  });
});
