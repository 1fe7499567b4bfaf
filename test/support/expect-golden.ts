import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden');

/**
 * Compares `value` as pretty JSON (2 spaces, trailing newline) with `test/golden/<name>`.
 * `UPDATE_GOLDEN=1` rewrites the file instead; the diff is then reviewed like code.
 */
export function expectGolden(name: string, value: unknown): void {
  expectGoldenText(name, `${JSON.stringify(value, null, 2)}\n`);
}

/** The same for text that is already in its golden form. */
export function expectGoldenText(name: string, actual: string): void {
  const path = join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) {
    throw new Error(`golden file test/golden/${name} is missing; run with UPDATE_GOLDEN=1 to write it, then review it`);
  }
  expect(actual, `output differs from test/golden/${name} (UPDATE_GOLDEN=1 rewrites it)`).toBe(readFileSync(path, 'utf8'));
}
