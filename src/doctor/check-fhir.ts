import type { CapabilityStatement } from '@medplum/fhirtypes';
import type { Config } from '../config/load-config.ts';
import { checkCapabilities } from './check-capabilities.ts';
import { probeMrnSystem, type PatientSettings } from './check-mrn-system.ts';
import { fail, networkReason, ok, warn, type CheckResult } from './doctor-check.ts';
import { fhirAuthHeaders, fhirGet } from './fhir-get.ts';
import { checkSmartAuth } from './check-smart-auth.ts';
import { checkDocumentsTarget, type DocumentCheckSettings } from './check-documents.ts';

/** Which FHIR targets are configured: the full-server checks fail against a documents-only EHR by design. */
export interface FhirTargets {
  fhir: boolean;
  documents: DocumentCheckSettings | undefined;
}

const AUTH_FIX = 'check FHIR_AUTH and its credentials (FHIR_BEARER_TOKEN, FHIR_USERNAME/FHIR_PASSWORD, FHIR_CLIENT_ID/SECRET/TOKEN_URL or FHIR_PRIVATE_KEY_FILE/KEY_ID)';

/**
 * Reads /metadata, checks what delivery relies on, proves our credentials on a real search, then
 * asks whether the EHR's patients carry MRN_SYSTEM at all.
 */
export async function checkFhirServer(fhir: Config['fhir'], patients: PatientSettings, targets: FhirTargets = { fhir: true, documents: undefined }): Promise<CheckResult[]> {
  const fullServer = targets.fhir || !targets.documents;
  let headers: Record<string, string>;
  const results: CheckResult[] = [];
  if (fhir.auth.kind === 'private_key_jwt') {
    const smart = await checkSmartAuth(fhir.baseUrl, fhir.auth);
    results.push(...smart.results);
    if (!smart.headers) return results;
    headers = smart.headers;
  } else {
    try {
      headers = await fhirAuthHeaders(fhir);
    } catch (error) {
      return [fail('FHIR auth', `no token from FHIR_TOKEN_URL (${(error as { code?: string }).code ?? networkReason(error)})`, AUTH_FIX)];
    }
  }
  const metadata = await fhirGet(`${fhir.baseUrl}/metadata`, headers);
  if ('error' in metadata) return [...results, fail('FHIR server', `${fhir.baseUrl}/metadata did not answer (${metadata.error})`, 'check FHIR_BASE_URL and network access')];
  if (metadata.status === 401 || metadata.status === 403) return [...results, fail('FHIR auth', `/metadata answered ${metadata.status}`, AUTH_FIX)];
  const answered = metadata.json as CapabilityStatement | undefined;
  const statement = metadata.status === 200 && answered?.resourceType === 'CapabilityStatement' ? answered : undefined;
  if (!statement) {
    results.push(warn('FHIR capabilities', `/metadata answered ${metadata.status} without a CapabilityStatement; capabilities not checked`, 'ask the EHR vendor which R4 features are enabled'));
  } else if (fullServer) {
    results.push(...checkCapabilities(statement));
  }
  if (fullServer) results.push(await probeSearch(fhir.baseUrl, headers));
  if (targets.documents) results.push(...(await checkDocumentsTarget(fhir.baseUrl, headers, statement, targets.documents)));
  results.push(await probeMrnSystem(fhir.baseUrl, headers, patients));
  return results;
}

async function probeSearch(baseUrl: string, headers: Record<string, string>): Promise<CheckResult> {
  const probe = await fhirGet(`${baseUrl}/DiagnosticReport?identifier=${encodeURIComponent('urn:avara-fhir-sync:doctor|probe')}&_count=1`, headers);
  if ('error' in probe) return fail('FHIR auth', `search did not answer (${probe.error})`, 'check FHIR_BASE_URL and network access');
  if (probe.status === 401 || probe.status === 403) return fail('FHIR auth', `a DiagnosticReport search answered ${probe.status}`, AUTH_FIX);
  if (probe.status !== 200) return warn('FHIR auth', `a DiagnosticReport search answered ${probe.status}`, 'check the server log; search by identifier must work');
  return ok('FHIR auth', 'credentials accepted for a DiagnosticReport search by identifier');
}
