import type { Bundle, CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { fail, ok, warn, type CheckResult } from './doctor-check.ts';
import { fhirGet } from './fhir-get.ts';

export interface DocumentCheckSettings {
  reportIdSystem: string;
  encounter: 'none' | 'search';
  identifierSearch: boolean;
}

const VENDOR_FIX = 'ask the EHR vendor to enable it for this client (and its scopes), or run doctor against the right FHIR_BASE_URL';
// CapabilityStatements of real EHRs are often incomplete; a line they leave out is not proof of absence.
const UNSTATED_FIX = 'confirm with the EHR vendor; the first delivery will prove it';

/**
 * What the fhir-documents target relies on: a DocumentReference create, and a DocumentReference
 * search by identifier (its only guard against writing a document twice), plus Encounter search
 * when FHIR_DOCUMENT_ENCOUNTER=search. The search is probed; the rest is read from /metadata.
 */
export async function checkDocumentsTarget(
  baseUrl: string, headers: Record<string, string>, statement: CapabilityStatement | undefined, settings: DocumentCheckSettings,
): Promise<CheckResult[]> {
  const resources = resourcesOf(statement);
  const probe = await probeDocumentSearch(baseUrl, headers, settings);
  const results = [probe.result];
  if (!statement) return results;
  results.push(interactionCheck('FHIR DocumentReference create', resources.get('DocumentReference'), 'create'));
  if (probe.worked) results.push(stated('FHIR DocumentReference search', resources.get('DocumentReference'), ['identifier', 'patient']));
  if (settings.encounter === 'search') results.push(stated('FHIR Encounter search', resources.get('Encounter'), ['patient'], 'FAIL'));
  return results;
}

type Resources = Map<string | undefined, CapabilityStatementRestResource>;

function resourcesOf(statement: CapabilityStatement | undefined): Resources {
  const rest = statement?.rest?.find((r) => r.mode === 'server') ?? statement?.rest?.[0];
  return new Map((rest?.resource ?? []).map((r) => [r.type, r]));
}

async function probeDocumentSearch(baseUrl: string, headers: Record<string, string>, settings: DocumentCheckSettings): Promise<{ worked: boolean; result: CheckResult }> {
  const name = 'FHIR DocumentReference search by identifier';
  const query = `identifier=${encodeURIComponent(`${settings.reportIdSystem}|doctor-probe`)}&_count=1`;
  const answer = await fhirGet(`${baseUrl}/DocumentReference?${query}`, headers);
  if ('error' in answer) return { worked: false, result: fail(name, `did not answer (${answer.error})`, 'check FHIR_BASE_URL and network access') };
  if (answer.status === 200 && (answer.json as Bundle | undefined)?.resourceType === 'Bundle') return { worked: true, result: ok(name, 'answered a Bundle') };
  const detail = answer.status === 401 || answer.status === 403 ? `answered ${answer.status} (credentials or scopes refused)` : `answered ${answer.status} without a Bundle`;
  // With the search off, an unknown outcome already dead-letters instead of risking a second document.
  if (!settings.identifierSearch) return { worked: false, result: warn(name, `${detail}; FHIR_DOCUMENT_IDENTIFIER_SEARCH=false, so it is not used`, 'expect write_outcome_unknown dead letters after timeouts') };
  return { worked: false, result: fail(name, `${detail}; without it a retried POST could file a document twice`, `${VENDOR_FIX}, or set FHIR_DOCUMENT_IDENTIFIER_SEARCH=false`) };
}

function interactionCheck(name: string, resource: CapabilityStatementRestResource | undefined, code: 'create' | 'search-type'): CheckResult {
  if (!resource) return warn(name, `the CapabilityStatement does not list ${nameOfType(name)}`, UNSTATED_FIX);
  if (!resource.interaction?.length) return warn(name, `no interactions stated for ${resource.type}`, UNSTATED_FIX);
  if (!resource.interaction.some((i) => i.code === code)) return fail(name, `${resource.type} lists no ${code} interaction`, VENDOR_FIX);
  return ok(name, `${resource.type} ${code} listed`);
}

/** search-type and the parameters we search by, as the statement lists them; WARN when unstated or the search was proven. */
function stated(name: string, resource: CapabilityStatementRestResource | undefined, params: string[], level: 'WARN' | 'FAIL' = 'WARN'): CheckResult {
  const interaction = interactionCheck(name, resource, 'search-type');
  if (interaction.level !== 'OK') return interaction.level === 'FAIL' && level === 'WARN' ? warn(name, interaction.detail, UNSTATED_FIX) : interaction;
  const lacking = params.filter((p) => !resource!.searchParam?.some((s) => s.name === p));
  if (lacking.length) return warn(name, `search parameter${lacking.length > 1 ? 's' : ''} ${lacking.join(', ')} not listed for ${resource!.type}`, UNSTATED_FIX);
  return ok(name, `${resource!.type} search-type by ${params.join(', ')} listed`);
}

function nameOfType(checkName: string): string {
  return checkName.split(' ')[1] ?? checkName;
}
