import type { Config } from '../config/load-config.ts';
import { fail, ok, warn, type CheckResult } from './doctor-check.ts';
import { fhirGet } from './fhir-get.ts';

export interface PatientSettings {
  mrnSystem: Config['delivery']['mapping']['mrnSystem'];
  patientMode: Config['delivery']['patientMode'];
}

const NAME = 'EHR patients by MRN_SYSTEM';

/**
 * An MRN system no Patient carries is almost always invented: in `match` mode no report finds its
 * chart, in `create` mode every patient is created again. FHIR token search `system|` matches
 * any value of that system; one hit is enough, and nothing of it is read or printed.
 */
export async function probeMrnSystem(baseUrl: string, headers: Record<string, string>, settings: PatientSettings): Promise<CheckResult> {
  const query = encodeURIComponent(`${settings.mrnSystem}|`);
  const answer = await fhirGet(`${baseUrl}/Patient?identifier=${query}&_count=1`, headers);
  if ('error' in answer) return warn(NAME, `the Patient search did not answer (${answer.error})`, 'run doctor again; delivery searches patients by MRN');
  if (answer.status === 401 || answer.status === 403) {
    return fail(NAME, `a Patient search answered ${answer.status}`, 'grant this client Patient search (system/Patient.read): every delivery looks its patient up by MRN');
  }
  if (answer.status !== 200) return warn(NAME, `a Patient search by identifier system answered ${answer.status}`, 'check that the EHR supports Patient?identifier=<system>|');
  if (anyMatch(answer.json)) return ok(NAME, 'the EHR has Patients with identifiers of MRN_SYSTEM');
  const consequence = settings.patientMode === 'create'
    ? 'with PATIENT_MODE=create every patient would be created again'
    : 'with PATIENT_MODE=match no report would find its chart';
  return warn(NAME, `no Patient in the EHR has an identifier of MRN_SYSTEM; ${consequence}`, "set MRN_SYSTEM to the system of the EHR's MRNs (ask the EHR team; often urn:oid:...)");
}

function anyMatch(json: unknown): boolean {
  const bundle = json as { total?: number; entry?: unknown[] } | undefined;
  return (bundle?.entry?.length ?? 0) > 0 || (bundle?.total ?? 0) > 0;
}
