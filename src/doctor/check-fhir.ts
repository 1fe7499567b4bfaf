import type { CapabilityStatement } from '@medplum/fhirtypes';
import type { Config } from '../config/load-config.ts';
import { createTokenSource } from '../fhir/client-credentials.ts';
import { checkCapabilities } from './check-capabilities.ts';
import { fail, networkReason, ok, warn, type CheckResult } from './doctor-check.ts';

const TIMEOUT_MS = 15_000;
const AUTH_FIX = 'check FHIR_AUTH and its credentials (FHIR_BEARER_TOKEN, FHIR_USERNAME/FHIR_PASSWORD or FHIR_CLIENT_ID/SECRET/TOKEN_URL)';

/** Reads /metadata, checks what delivery relies on, then proves our credentials on a real search. */
export async function checkFhirServer(fhir: Config['fhir']): Promise<CheckResult[]> {
  let headers: Record<string, string>;
  try {
    headers = await authHeaders(fhir.auth);
  } catch (error) {
    return [fail('FHIR auth', `no token from FHIR_TOKEN_URL (${(error as { code?: string }).code ?? networkReason(error)})`, AUTH_FIX)];
  }
  const metadata = await get(`${fhir.baseUrl}/metadata`, headers);
  if ('error' in metadata) return [fail('FHIR server', `${fhir.baseUrl}/metadata did not answer (${metadata.error})`, 'check FHIR_BASE_URL and network access')];
  if (metadata.status === 401 || metadata.status === 403) return [fail('FHIR auth', `/metadata answered ${metadata.status}`, AUTH_FIX)];
  const statement = metadata.json as CapabilityStatement | undefined;
  const results: CheckResult[] = [];
  if (metadata.status !== 200 || statement?.resourceType !== 'CapabilityStatement') {
    results.push(warn('FHIR capabilities', `/metadata answered ${metadata.status} without a CapabilityStatement; capabilities not checked`, 'ask the EHR vendor which R4 features are enabled'));
  } else {
    results.push(...checkCapabilities(statement));
  }
  results.push(await probeSearch(fhir.baseUrl, headers));
  return results;
}

async function probeSearch(baseUrl: string, headers: Record<string, string>): Promise<CheckResult> {
  const probe = await get(`${baseUrl}/DiagnosticReport?identifier=${encodeURIComponent('urn:avara-fhir-sync:doctor|probe')}&_count=1`, headers);
  if ('error' in probe) return fail('FHIR auth', `search did not answer (${probe.error})`, 'check FHIR_BASE_URL and network access');
  if (probe.status === 401 || probe.status === 403) return fail('FHIR auth', `a DiagnosticReport search answered ${probe.status}`, AUTH_FIX);
  if (probe.status !== 200) return warn('FHIR auth', `a DiagnosticReport search answered ${probe.status}`, 'check the server log; search by identifier must work');
  return ok('FHIR auth', 'credentials accepted for a DiagnosticReport search by identifier');
}

async function get(url: string, headers: Record<string, string>): Promise<{ status: number; json: unknown } | { error: string }> {
  try {
    const response = await fetch(url, { headers: { accept: 'application/fhir+json', ...headers }, signal: AbortSignal.timeout(TIMEOUT_MS) });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json };
  } catch (error) {
    return { error: networkReason(error) };
  }
}

async function authHeaders(auth: Config['fhir']['auth']): Promise<Record<string, string>> {
  switch (auth.kind) {
    case 'none':
      return {};
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
    case 'bearer':
      return { authorization: `Bearer ${auth.token}` };
    case 'client_credentials':
      return { authorization: `Bearer ${await createTokenSource(auth, TIMEOUT_MS).get()}` };
  }
}
