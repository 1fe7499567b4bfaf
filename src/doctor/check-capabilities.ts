import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { fail, ok, warn, type CheckResult } from './doctor-check.ts';

// What a delivery Bundle does (fhir-mapping.md): conditional creates of Patient, Practitioner and
// ImagingStudy, conditional updates of DiagnosticReport and DocumentReference, identifier searches.
const CONDITIONAL_CREATE = ['Patient', 'Practitioner', 'ImagingStudy'];
const CONDITIONAL_UPDATE = ['DiagnosticReport', 'DocumentReference'];
const IDENTIFIER_SEARCH = ['Patient', 'ImagingStudy', 'DiagnosticReport', 'DocumentReference'];
const VENDOR_FIX = 'ask the EHR vendor to enable it for this client, or run doctor against the right FHIR_BASE_URL';

/** One line per capability delivery relies on, from the server's own CapabilityStatement. */
export function checkCapabilities(statement: CapabilityStatement): CheckResult[] {
  const rest = statement.rest?.find((r) => r.mode === 'server') ?? statement.rest?.[0];
  const resources = new Map((rest?.resource ?? []).map((r) => [r.type, r]));
  const results: CheckResult[] = [
    statement.fhirVersion?.startsWith('4.0')
      ? ok('FHIR version', statement.fhirVersion)
      : warn('FHIR version', `server says ${statement.fhirVersion ?? 'nothing'}`, 'this service writes FHIR R4 (4.0.x)'),
    rest?.interaction?.some((i) => i.code === 'transaction')
      ? ok('FHIR transactions', 'transaction Bundles supported')
      : fail('FHIR transactions', 'the CapabilityStatement does not list the transaction interaction', VENDOR_FIX),
  ];
  results.push(flagCheck('conditional create', CONDITIONAL_CREATE, resources, (r) => r.conditionalCreate));
  results.push(flagCheck('conditional update', CONDITIONAL_UPDATE, resources, (r) => r.conditionalUpdate));
  results.push(searchCheck('search by identifier', IDENTIFIER_SEARCH, resources, 'identifier', 'FAIL'));
  results.push(searchCheck('search by _tag', ['DiagnosticReport'], resources, '_tag', 'WARN'));
  return results;
}

type Resources = Map<string, CapabilityStatementRestResource>;

function flagCheck(what: string, types: string[], resources: Resources, flag: (r: CapabilityStatementRestResource) => boolean | undefined): CheckResult {
  const refused = types.filter((t) => resources.get(t) && flag(resources.get(t)!) === false);
  const missing = types.filter((t) => !resources.get(t));
  const unstated = types.filter((t) => resources.get(t) && flag(resources.get(t)!) === undefined);
  if (refused.length || missing.length) return fail(`FHIR ${what}`, `not supported for ${[...refused, ...missing.map((t) => `${t} (resource not offered)`)].join(', ')}`, VENDOR_FIX);
  if (unstated.length) return warn(`FHIR ${what}`, `not stated for ${unstated.join(', ')}`, 'confirm with the EHR vendor; the first delivery will prove it');
  return ok(`FHIR ${what}`, types.join(', '));
}

function searchCheck(what: string, types: string[], resources: Resources, param: string, level: 'FAIL' | 'WARN'): CheckResult {
  // Servers often leave common parameters (_tag) out of the statement although they support them.
  const lacking = types.filter((t) => !resources.get(t)?.searchParam?.some((p) => p.name === param));
  if (lacking.length === 0) return ok(`FHIR ${what}`, types.join(', '));
  const detail = `not listed for ${lacking.join(', ')}`;
  return level === 'FAIL' ? fail(`FHIR ${what}`, detail, VENDOR_FIX) : warn(`FHIR ${what}`, detail, 'confirm with the EHR vendor that _tag searches work');
}
