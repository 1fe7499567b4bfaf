import { describe, expect, it } from 'vitest';
import { hl7Date, hl7DateTime, hl7Instant } from '../src/hl7/hl7-time.ts';
import { studyStarted } from '../src/deliveries/mapping/study-started.ts';

describe('hl7Instant', () => {
  it('writes an Avara instant in UTC with +0000, to the second', () => {
    expect(hl7Instant('2026-08-21T15:31:40Z')).toBe('20260821153140+0000');
    expect(hl7Instant('2026-01-15T20:11:09.120Z')).toBe('20260115201109+0000');
  });

  it('converts an instant given with another offset to UTC', () => {
    expect(hl7Instant('2026-08-21T23:30:00-04:00')).toBe('20260822033000+0000');
    expect(hl7Instant('2026-08-21T01:00:00+0200')).toBe('20260820230000+0000');
  });

  it('writes a Date (the clock for MSH-7) in UTC', () => {
    expect(hl7Instant(new Date(Date.UTC(2026, 11, 31, 23, 59, 59, 999)))).toBe('20261231235959+0000');
  });

  it('refuses a time without a zone, which would be read in the host zone', () => {
    expect(() => hl7Instant('2026-08-21T15:31:40')).toThrow(RangeError);
    expect(() => hl7Instant('not a time')).toThrow(RangeError);
    expect(() => hl7Instant('')).toThrow(RangeError);
  });
});

describe('hl7Date', () => {
  it('writes an ISO date as YYYYMMDD', () => {
    expect(hl7Date('1971-11-03')).toBe('19711103');
  });

  it('refuses anything but YYYY-MM-DD', () => {
    expect(() => hl7Date('03/11/1971')).toThrow(RangeError);
  });
});

describe('hl7DateTime', () => {
  it('keeps the wall-clock digits and the offset of a FHIR dateTime', () => {
    expect(hl7DateTime('2026-08-21T11:48:00-04:00')).toBe('20260821114800-0400');
    expect(hl7DateTime('2026-01-15T14:05:30.5+05:30')).toBe('20260115140530+0530');
    expect(hl7DateTime('2026-01-15T14:05Z')).toBe('20260115140500+0000');
  });

  it('writes a date alone as YYYYMMDD', () => {
    expect(hl7DateTime('2026-02-03')).toBe('20260203');
  });

  it('writes a study time read in STUDY_TIME_ZONE with the offset in force that day, DST included', () => {
    expect(hl7DateTime(studyStarted('2026-08-21', '11:48', 'America/New_York')!)).toBe('20260821114800-0400');
    expect(hl7DateTime(studyStarted('2026-01-15', '14:05:30', 'America/New_York')!)).toBe('20260115140530-0500');
    expect(hl7DateTime(studyStarted('2026-01-15', '14:05:30', 'UTC')!)).toBe('20260115140530+0000');
  });

  it('refuses a date-time without an offset', () => {
    expect(() => hl7DateTime('2026-08-21T11:48:00')).toThrow(RangeError);
  });
});
