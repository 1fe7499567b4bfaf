import { describe, expect, it } from 'vitest';
import { studyStarted } from '../src/deliveries/mapping/study-started.ts';

describe('the study start time', () => {
  it('is written with +00:00 in UTC', () => {
    expect(studyStarted('2026-08-21', '11:48', 'UTC')).toBe('2026-08-21T11:48:00+00:00');
  });

  it('uses the daylight-saving offset for a summer time in New York', () => {
    expect(studyStarted('2026-08-21', '11:48', 'America/New_York')).toBe('2026-08-21T11:48:00-04:00');
  });

  it('uses the standard offset for a winter time in New York', () => {
    expect(studyStarted('2026-01-15', '14:05', 'America/New_York')).toBe('2026-01-15T14:05:00-05:00');
  });

  it('keeps seconds and fractions Avara gives', () => {
    expect(studyStarted('2026-08-21', '11:48:07.5', 'Asia/Kolkata')).toBe('2026-08-21T11:48:07.5+05:30');
  });

  it('takes the first occurrence of a time repeated when the clocks go back', () => {
    expect(studyStarted('2026-11-01', '01:30', 'America/New_York')).toBe('2026-11-01T01:30:00-04:00');
  });

  it('keeps the digits of a time skipped when the clocks go forward, with the offset before the jump', () => {
    expect(studyStarted('2026-03-08', '02:30', 'America/New_York')).toBe('2026-03-08T02:30:00-05:00');
  });

  it('is the date alone when there is no time', () => {
    expect(studyStarted('2026-02-03', undefined, 'America/New_York')).toBe('2026-02-03');
  });

  it('is absent when there is no date', () => {
    expect(studyStarted(undefined, '11:48', 'UTC')).toBeUndefined();
  });

  it('refuses a time zone that does not exist, without retrying', () => {
    expect(() => studyStarted('2026-02-03', '10:00', 'Mars/Olympus_Mons')).toThrow(expect.objectContaining({ code: 'internal', retryable: false }));
  });
});
