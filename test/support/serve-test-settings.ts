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
 * For tests that are not about which thread delivers (intake, API, pages, auth, and what a delivery
 * decides under faults, for which patient, from which sweep): the worker runs beside the server
 * instead of in its own thread. Each thread start loads the module graph and indexes the FHIR R4
 * definitions again, at a lower priority: about 2 s of CPU, and ten seconds or more per app on a
 * busy machine. The thread stays under test where it matters: delivery-thread, the lease tests of
 * fhir-faults, metrics, readyz, the log and PHI canaries, delivery-end-to-end, intake-under-load,
 * and every test that runs `serve` or crash-child as a child process (the default there).
 */
export const WORKER_IN_MAIN_THREAD: Readonly<Record<string, string>> = { WORKER_THREAD: 'false' };
