import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The store's seam (issue 19): outside src/store, code sees the Store interface and its factory
// only, never drizzle, better-sqlite3 or a module of one implementation.
const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const STORE = join(SRC, 'store');
const ALLOWED = new Set([join(STORE, 'store.ts'), join(STORE, 'open-store-from-config.ts')]);
const DATABASE_PACKAGES = /^(drizzle-orm|drizzle-kit|better-sqlite3|pg|postgres)(\/|$)/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path === STORE ? [] : sourceFiles(path);
    return /\.(ts|mts|mjs|js)$/.test(entry.name) ? [path] : [];
  });
}

/** Every module specifier a file names: static imports and exports, and dynamic import(). */
function specifiers(text: string): string[] {
  const found = [...text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g), ...text.matchAll(/(?:^|[\s;])import\s*['"]([^'"]+)['"]/g), ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)];
  return found.map((match) => match[1]!);
}

/** `file: specifier` for every import that crosses the seam. */
function crossings(files: { file: string; text: string }[]): string[] {
  return files.flatMap(({ file, text }) => specifiers(text).flatMap((specifier) => {
    const intoStore = specifier.startsWith('.') && resolve(dirname(file), specifier).startsWith(`${STORE}/`) && !ALLOWED.has(resolve(dirname(file), specifier));
    return DATABASE_PACKAGES.test(specifier) || intoStore ? [`${relative(SRC, file)}: ${specifier}`] : [];
  }));
}

describe('the store seam', () => {
  it('no module outside src/store imports a database package or a store module other than store.ts and its factory', () => {
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(100);
    expect(crossings(files.map((file) => ({ file, text: readFileSync(file, 'utf8') })))).toEqual([]);
  });

  it('the check names every kind of crossing: a store module, a database package, a dynamic import', () => {
    const file = join(SRC, 'deliveries', 'intake.ts');
    const text = "import { recordWebhook } from '../store/inbox.ts';\nimport type { Store } from '../store/store.ts';\nimport { sql } from 'drizzle-orm';\nconst pg = await import('pg');";
    expect(crossings([{ file, text }])).toEqual(['deliveries/intake.ts: ../store/inbox.ts', 'deliveries/intake.ts: drizzle-orm', 'deliveries/intake.ts: pg']);
  });
});
