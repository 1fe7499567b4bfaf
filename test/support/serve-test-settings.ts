/**
 * What `serve` needs but will not default, for tests on the embedded parts: the embedded FHIR store
 * starts empty and is its own patient index (create); the tests' EHR patients carry this MRN
 * system; the sandbox writes studyDate/studyTime in UTC. Tests of PATIENT_MODE=match say so.
 */
export const TEST_MRN_SYSTEM = 'urn:avara-fhir-sync:mrn';
export const SERVE_TEST_SETTINGS: Readonly<Record<string, string>> = {
  PATIENT_MODE: 'create',
  MRN_SYSTEM: TEST_MRN_SYSTEM,
  STUDY_TIME_ZONE: 'UTC',
};
