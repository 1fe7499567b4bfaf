import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isStrictBase64 } from '../src/fhir/check-base64.ts';

// The reference: whole groups of the standard alphabet, padding only to end the last group.
const STRICT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

describe('isStrictBase64', () => {
  it('accepts what Buffer encodes, with none, one or two padding characters', () => {
    for (let length = 0; length <= 12; length++) {
      const encoded = randomBytes(length).toString('base64');
      expect(isStrictBase64(encoded), encoded).toBe(true);
    }
    expect(isStrictBase64(randomBytes(205_000).toString('base64'))).toBe(true);
  });

  it.each([
    ['a length that is not whole groups', 'QUJDRA'],
    ['padding in the middle', 'QQ==QUJD'],
    ['three padding characters', 'Q==='],
    ['padding only', '===='],
    ['a line break', 'QUJD\nREVG'],
    ['a space', 'QUJD REVG'],
    ['base64url characters', 'QU-_REVG'],
    ['a character outside ASCII', 'QUJDRA\u00e9='],
    ['a character whose low byte is an alphabet letter (U+0141, low byte "A")', 'QUJ\u0141'],
    ['junk', '!!!!'],
  ])('refuses %s', (_what, value) => {
    expect(isStrictBase64(value)).toBe(false);
  });

  it('agrees with the strict regex on strings mutated at random', () => {
    const alphabet = 'ABCxyz09+/=-_ \n!\u00e9\u0141';
    const valid = randomBytes(30).toString('base64');
    for (let trial = 0; trial < 2000; trial++) {
      const chars = [...valid];
      const at = trial % chars.length;
      chars[at] = alphabet[(trial * 7) % alphabet.length]!;
      const mutated = trial % 3 === 0 ? chars.join('').slice(0, chars.length - (trial % 4)) : chars.join('');
      expect(isStrictBase64(mutated), mutated).toBe(STRICT.test(mutated));
    }
  });
});
