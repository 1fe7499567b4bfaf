import { ConfigError } from '../config/config-error.ts';
import { loadConfig } from '../config/load-config.ts';
import { checkAvaraAccess, checkWebhookKeys } from './check-avara.ts';
import { checkDatabase } from './check-database.ts';
import { checkHistory } from './check-history.ts';
import { checkFhirServer } from './check-fhir.ts';
import { identifierSystems } from '../deliveries/mapping/identifier-systems.ts';
import { checkHl7Target } from './check-hl7.ts';
import { checkMappingSettings } from './check-mapping-settings.ts';
import { fail, ok, type CheckResult } from './doctor-check.ts';

/**
 * `doctor`: the go-live check. Each line says OK, WARN or FAIL and the fix; a configuration that
 * does not load stops here, since every other check needs it.
 */
export async function runDoctor(env: NodeJS.ProcessEnv, report: (result: CheckResult) => void): Promise<boolean> {
  let config;
  try {
    config = loadConfig(env);
    report(ok('configuration', 'every variable valid'));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const fix = error.variables.length > 1 ? 'set or fix those variables' : 'fix that variable';
    report(fail('configuration', error.message, `${fix} (see .env.example)`));
    return false;
  }
  const results: CheckResult[] = [];
  const emit = (result: CheckResult) => {
    results.push(result);
    report(result);
  };
  checkMappingSettings(config).forEach(emit);
  checkWebhookKeys(config.avara).forEach(emit);
  const avaraAccess = await checkAvaraAccess(config.avara);
  emit(avaraAccess);
  const { targets, mapping, documents } = config.delivery;
  const fhirTargets = {
    fhir: targets.includes('fhir'),
    documents: targets.includes('fhir-documents') ? { ...documents, reportIdSystem: identifierSystems(mapping).reportId } : undefined,
  };
  (await checkFhirServer(config.fhir, { mrnSystem: mapping.mrnSystem, patientMode: config.delivery.patientMode }, fhirTargets)).forEach(emit);
  if (config.delivery.hl7) (await checkHl7Target(config.delivery.hl7)).forEach(emit);
  (await checkDatabase(config.store, config.delivery.leaseMs)).forEach(emit);
  // Counting needs Avara; without access the line above already says what to fix.
  if (avaraAccess.level === 'OK') emit(await checkHistory(config, Date.now()));
  return results.every((r) => r.level !== 'FAIL');
}
