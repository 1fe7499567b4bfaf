import { describe, expect, it } from 'vitest';
import { patientLabel } from '../src/deliveries/patient-label.ts';

describe('patientLabel', () => {
  it('shows initials and at most the last four characters of the MRN', () => {
    expect(patientLabel('Ada Okafor', 'H-12342913')).toBe('A.O. \u00b7\u00b7\u00b72913');
  });

  it('takes given then family initials from "Family, Given Middle"', () => {
    expect(patientLabel('Okafor, Ada Ngozi', 'H-1')).toBe('A.O. \u00b7\u00b7\u00b71');
  });

  it('never shows more than half of a short identifier', () => {
    expect(patientLabel(undefined, '123')).toBe('\u00b7\u00b7\u00b73');
    expect(patientLabel(undefined, 'X')).toBe('\u00b7\u00b7\u00b7');
  });

  it('uses up to three initials when the name does not split, and capitalizes non-Latin letters', () => {
    expect(patientLabel('élodie de la cruz', undefined)).toBe('É.D.L.');
  });

  it('is null when neither name nor identifier is known', () => {
    expect(patientLabel(undefined, undefined)).toBeNull();
    expect(patientLabel('  ', '')).toBeNull();
  });
});
