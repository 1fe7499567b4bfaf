import type { Config } from '../config/load-config.ts';
import { ok, warn, type CheckResult } from './doctor-check.ts';

// Systems under our own namespace were invented by earlier versions of this service (the old
// MRN_SYSTEM default was urn:avara-fhir-sync:mrn); no EHR issues MRNs under them.
const INVENTED_MRN_PREFIX = 'urn:avara-fhir-sync:';

/** Settings that load but look invented: the old defaults that duplicated patients or shifted times. */
export function checkMappingSettings(config: Pick<Config, 'delivery'>): CheckResult[] {
  const results: CheckResult[] = [];
  if (config.delivery.mapping.mrnSystem.startsWith(INVENTED_MRN_PREFIX)) {
    const detail = `${config.delivery.mapping.mrnSystem} is in this service's own namespace, where the old invented default lived; no EHR issues MRNs there`;
    results.push(warn('MRN_SYSTEM', detail, "set the system of the EHR's MRNs (ask the EHR team)"));
  }
  if (isUtc(config.delivery.mapping.studyTimeZone)) {
    results.push(warn(
      'STUDY_TIME_ZONE',
      `${config.delivery.mapping.studyTimeZone} was the old default; Avara's studyDate/studyTime are the modality's local time`,
      'set the IANA zone the scanners run in (e.g. America/New_York), unless they really keep UTC',
    ));
  }
  if (results.length > 0) return results;
  return [ok('mapping settings', `STUDY_TIME_ZONE ${config.delivery.mapping.studyTimeZone}, PATIENT_MODE=${config.delivery.patientMode}`)];
}

function isUtc(timeZone: string): boolean {
  // Resolves the aliases (Etc/UTC, GMT, Zulu, Etc/GMT+0, ...) to one name.
  const resolved = new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  return resolved === 'UTC' || resolved === 'Etc/UTC' || resolved === 'Etc/GMT';
}
