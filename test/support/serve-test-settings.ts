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

/**
 * For tests of what the main thread does (intake, API, pages, auth), not of deliveries: the worker
 * runs beside the server instead of in its own thread. Each thread start loads the module graph
 * and indexes the FHIR R4 definitions again, at a lower priority, about 2 s of CPU and on a busy
 * machine ten seconds or more per app. The thread itself is tested by delivery-thread.test.ts and
 * by every test that runs `serve` or crash-child as a child process (the default there).
 */
export const WORKER_IN_MAIN_THREAD: Readonly<Record<string, string>> = { WORKER_THREAD: 'false' };
