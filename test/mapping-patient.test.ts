import { describe, expect, it } from 'vitest';
import { comparePatientDemographics } from '../src/deliveries/mapping/compare-patient-demographics.ts';
import { mapPatient } from '../src/deliveries/mapping/map-patient.ts';
import { patientKey } from '../src/deliveries/mapping/patient-key.ts';
import { splitPatientName } from '../src/deliveries/mapping/split-patient-name.ts';
import { fullStudy, mappingOptions } from './fixtures/mapping-fixtures.ts';

describe('splitting the patient name', () => {
  it('reads "Family, Given Middle" as family and two given names', () => {
    expect(splitPatientName('Okafor, Adaeze Chioma')).toEqual({ text: 'Okafor, Adaeze Chioma', family: 'Okafor', given: ['Adaeze', 'Chioma'] });
  });

  it('keeps a multi-word family name before the comma whole', () => {
    expect(splitPatientName('García Márquez, Gabriel José')).toEqual({
      text: 'García Márquez, Gabriel José', family: 'García Márquez', given: ['Gabriel', 'José'],
    });
  });

  it('reads one word as the family name only', () => {
    expect(splitPatientName('Cher')).toEqual({ text: 'Cher', family: 'Cher' });
  });

  it('reads two words as "Given Family"', () => {
    expect(splitPatientName('Adaeze Okafor')).toEqual({ text: 'Adaeze Okafor', family: 'Okafor', given: ['Adaeze'] });
  });

  it('reads three words without a comma as two given names and the family', () => {
    expect(splitPatientName('Mary Ann Smith')).toEqual({ text: 'Mary Ann Smith', family: 'Smith', given: ['Mary', 'Ann'] });
  });

  it('reads four words without a comma as three given names and the family', () => {
    expect(splitPatientName('Anna Maria Louise Berg')).toEqual({ text: 'Anna Maria Louise Berg', family: 'Berg', given: ['Anna', 'Maria', 'Louise'] });
  });

  it('splits unicode words the same way', () => {
    expect(splitPatientName('Zoë Ñúñez-Åberg')).toEqual({ text: 'Zoë Ñúñez-Åberg', family: 'Ñúñez-Åberg', given: ['Zoë'] });
  });

  it('takes the family from before the first comma when there are several', () => {
    expect(splitPatientName('Smith, John, Jr.')).toEqual({ text: 'Smith, John, Jr.', family: 'Smith', given: ['John', 'Jr.'] });
  });

  it('keeps whichever side of the comma has words', () => {
    expect(splitPatientName(', John')).toEqual({ text: ', John', given: ['John'] });
    expect(splitPatientName('Smith,')).toEqual({ text: 'Smith,', family: 'Smith' });
  });

  it('ignores surrounding and repeated blanks when splitting, keeping the trimmed text', () => {
    expect(splitPatientName('  Adaeze   Okafor ')).toEqual({ text: 'Adaeze   Okafor', family: 'Okafor', given: ['Adaeze'] });
  });

  it('gives no name for a blank string or one without a word', () => {
    expect(splitPatientName('   ')).toBeUndefined();
    expect(splitPatientName(' , ')).toBeUndefined();
  });
});

describe('the Patient we create', () => {
  const options = mappingOptions();

  it('writes gender unknown when Avara has no sex, and no birthDate without a date of birth', () => {
    const patient = mapPatient(fullStudy(), { patientName: 'Adaeze Okafor', mrn: 'H-1' }, options);
    expect(patient.gender).toBe('unknown');
    expect(patient).not.toHaveProperty('birthDate');
  });

  it('does not guess a gender from an unknown Avara sex value', () => {
    expect(mapPatient(fullStudy(), { patientName: 'Adaeze Okafor', sex: 'F', mrn: 'H-1' }, options).gender).toBe('unknown');
  });

  it('refuses, as a permanent patient_name_missing, to create a Patient without a name', () => {
    const error = { code: 'patient_name_missing', retryable: false };
    expect(() => mapPatient(fullStudy(), { mrn: 'H-1' }, options)).toThrow(expect.objectContaining(error));
    expect(() => mapPatient(fullStudy(), { patientName: '  ', mrn: 'H-1' }, options)).toThrow(expect.objectContaining(error));
  });

  it('keeps the name text beside its family and given parts', () => {
    expect(mapPatient(fullStudy(), { patientName: 'Okafor, Adaeze', mrn: 'H-1' }, options).name).toEqual([
      { text: 'Okafor, Adaeze', family: 'Okafor', given: ['Adaeze'] },
    ]);
  });

  it('carries no height, weight or age', () => {
    const patient = mapPatient(fullStudy(), fullStudy().reportMetadata, options);
    expect(Object.keys(patient).sort()).toEqual(['birthDate', 'gender', 'identifier', 'meta', 'name', 'resourceType']);
  });
});

describe('the patient key', () => {
  const options = mappingOptions();

  it('is the MRN when the study has one', () => {
    expect(patientKey(fullStudy(), undefined, options)).toEqual({ system: 'urn:avara-fhir-sync:mrn', value: 'H-00482913', type: 'MR' });
  });

  it('falls back to the MRN of the latest snapshot when the study has none', () => {
    const study = fullStudy({ reportMetadata: { patientName: 'Adaeze Okafor' } });
    expect(patientKey(study, { mrn: 'H-77' }, options)).toMatchObject({ value: 'H-77', type: 'MR' });
  });

  it('prefers the study MRN over the snapshot MRN, since corrections made after sign-off count', () => {
    expect(patientKey(fullStudy(), { mrn: 'OLD-1' }, options)).toMatchObject({ value: 'H-00482913' });
  });

  it('is the external patient id when no MRN exists anywhere', () => {
    const study = fullStudy({ reportMetadata: { mrn: '  ' } });
    expect(patientKey(study, {}, options)).toEqual({
      system: 'https://api.avarasoftware.com/fhir/sid/external-patient-id',
      value: 'PT-7731904',
      type: 'PI',
    });
  });

  it('is absent when there is neither an MRN nor an external patient id', () => {
    expect(patientKey(fullStudy({ reportMetadata: {}, externalPatientId: null }), {}, options)).toBeUndefined();
  });
});

describe('comparing the EHR patient with Avara demographics', () => {
  it('accepts equal birth dates and genders', () => {
    expect(comparePatientDemographics({ birthDate: '1971-11-03', gender: 'female' }, { dateOfBirth: '1971-11-03', sex: 'female' })).toEqual({ ok: true });
  });

  it('names birthDate when the birth dates differ', () => {
    expect(comparePatientDemographics({ birthDate: '1971-11-04' }, { dateOfBirth: '1971-11-03' })).toEqual({ ok: false, field: 'birthDate' });
  });

  it('names gender when the genders differ', () => {
    expect(comparePatientDemographics({ gender: 'male' }, { sex: 'female' })).toEqual({ ok: false, field: 'gender' });
  });

  it('matches Avara other with FHIR other or unknown', () => {
    expect(comparePatientDemographics({ gender: 'other' }, { sex: 'other' })).toEqual({ ok: true });
    expect(comparePatientDemographics({ gender: 'unknown' }, { sex: 'other' })).toEqual({ ok: true });
  });

  it('does not match Avara male with FHIR unknown', () => {
    expect(comparePatientDemographics({ gender: 'unknown' }, { sex: 'male' })).toEqual({ ok: false, field: 'gender' });
  });

  it('compares nothing that only one side has', () => {
    expect(comparePatientDemographics({}, { dateOfBirth: '1971-11-03', sex: 'female' })).toEqual({ ok: true });
    expect(comparePatientDemographics({ birthDate: '1971-11-03', gender: 'female' }, {})).toEqual({ ok: true });
  });
});
