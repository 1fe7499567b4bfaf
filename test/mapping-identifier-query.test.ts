import { describe, expect, it } from 'vitest';
import { identifierQuery, identifierSearchToken } from '../src/deliveries/mapping/identifier-query.ts';

describe('conditional identifier queries', () => {
  it('keeps an ordinary system and value readable', () => {
    expect(identifierQuery('https://api.avarasoftware.com/fhir/sid/study-id', 'stu_6dd9')).toBe('identifier=https://api.avarasoftware.com/fhir/sid/study-id|stu_6dd9');
  });

  it('percent-encodes characters that would cut the query, so no other identifier can match', () => {
    expect(identifierQuery('urn:avara-fhir-sync:mrn', 'A&B=1#2 3+4')).toBe('identifier=urn:avara-fhir-sync:mrn|A%26B%3D1%232%203%2B4');
  });

  it('escapes FHIR search separators inside a value', () => {
    expect(identifierQuery('urn:x', 'a|b,c$d\\e')).toBe('identifier=urn:x|a%5C%7Cb%5C%2Cc%5C%24d%5C%5Ce');
  });
});

describe('identifier search tokens for clients that percent-encode themselves', () => {
  it('escapes FHIR search separators and leaves percent-encoding to the client', () => {
    expect(identifierSearchToken('urn:avara-fhir-sync:mrn', 'A,B&C')).toBe('urn:avara-fhir-sync:mrn|A\\,B&C');
  });
});
