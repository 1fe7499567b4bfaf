import { Hl7Message } from '@medplum/core';
import { describe, expect, it } from 'vitest';
import { escapeHl7 } from '../src/hl7/escape-hl7.ts';
import { pythonComponents, readHl7WithPython } from './support/read-hl7-with-python.ts';

// Pieces as messy as report text: HL7 delimiters, every line ending, accents, astral characters,
// tabs, MLLP's frame bytes, and text that looks like an escape sequence already.
const PIECES = ['a', 'Z', ' ', '7', '.', '|', '^', '~', '\\', '&', '\r', '\n', '\r\n', '\t', 'ễ', 'Ø', '🙂', '\x0B', '\x1C', '\\F\\', '.br', '\\.br\\', '\\X0D\\'];

// mulberry32: a seeded generator, so a failure names a value that can be reproduced.
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomValues(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const length = Math.floor(random() * 24);
    return Array.from({ length }, () => PIECES[Math.floor(random() * PIECES.length)]).join('');
  });
}

const VALUES = ['', ...PIECES, ...randomValues(400, 20260822)];

// One OBX per value, the value in OBX-5 and a marker after it, so a value that leaked a delimiter
// would move or split the marker.
function messageOf(values: readonly string[]): string {
  const obx = values.map((value, i) => `OBX|${i + 1}|FT|||${escapeHl7(value)}|END`);
  return ['MSH|^~\\&|AVARA||||20260822101500+0000||ORU^R01^ORU_R01|escape-test|P|2.5.1', ...obx].join('\r');
}

describe('escapeHl7 round trips', () => {
  it('keeps each value one component of one field for @medplum/core, which does not unescape', () => {
    const parsed = Hl7Message.parse(messageOf(VALUES));
    VALUES.forEach((value, i) => {
      const obx = parsed.getAllSegments('OBX')[i]!;
      expect(obx.getField(5).components, JSON.stringify(value)).toEqual([[escapeHl7(value)]]);
      expect(obx.getField(6).toString(), JSON.stringify(value)).toBe('END');
    });
  });

  it('reads back as the same value through python-hl7, line breaks as \\r (HL7 2.5.1 §2.7.6)', () => {
    const [segments] = readHl7WithPython([messageOf(VALUES)]);
    const observations = segments!.filter((s) => s.name === 'OBX');
    expect(observations).toHaveLength(VALUES.length);
    VALUES.forEach((value, i) => {
      const { fields } = observations[i]!;
      expect(fields[5], JSON.stringify(value)).toHaveLength(1);
      expect(pythonComponents(fields[5]), JSON.stringify(value)).toEqual([value.replace(/\r\n|\r|\n/g, '\r')]);
      expect(pythonComponents(fields[6])).toEqual(['END']);
    });
  });
});
