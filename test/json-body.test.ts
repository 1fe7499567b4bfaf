import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { jsonBody } from '../src/fhir/json-body.ts';

const same = (value: unknown) => expect(jsonBody(value).equals(Buffer.from(JSON.stringify(value), 'utf8'))).toBe(true);
const long = (char: string) => `${randomBytes(30_000).toString('base64').slice(0, 20_000)}${char}${'A'.repeat(20_000)}`;

describe('jsonBody: the bytes of JSON.stringify, long strings spliced in', () => {
  it('writes a bundle carrying one PDF twice (the same string) exactly as JSON.stringify would', () => {
    const pdf = randomBytes(200_000).toString('base64');
    same({ resourceType: 'Bundle', entry: [{ resource: { content: [{ attachment: { data: pdf, title: 'Report – PDF' } }] } }, { resource: { presentedForm: [{ data: pdf }] } }] });
  });

  it('writes long strings that JSON must escape, or that are not ASCII, as JSON.stringify does', () => {
    for (const char of ['"', '\\', '\n', '\u0000', '\u00e9', '\u2014', '\ud83d\ude00', '\ud800']) same({ text: long(char), after: 1 });
  });

  it('writes short strings, numbers, nulls, nesting and arrays as JSON.stringify does', () => {
    same({ a: 'short "quoted" — text', b: [1, null, true, { c: 'x'.repeat(16 * 1024) }], d: undefined, e: 2.5 });
    same('x'.repeat(50_000));
    same([randomBytes(20_000).toString('base64'), randomBytes(20_000).toString('base64')]);
  });

  it('is not fooled by a value that looks like its marker', () => {
    same({ data: randomBytes(20_000).toString('base64'), note: 'splice-00000000-0000-0000-0000-000000000000-0' });
  });
});
