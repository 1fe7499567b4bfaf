import { createAvaraClient } from '../../src/avara/avara-client.ts';
import type { SignedRef } from '../../src/standins/avara-sandbox/sandbox-types.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { BENCH_MAPPING_SETTINGS } from '../serve-process.ts';
import { buildDeliveryBundle } from '../../src/deliveries/mapping/build-delivery-bundle.ts';
import { deliveryContentHash } from '../../src/deliveries/mapping/delivery-content-hash.ts';
import { isSigned } from '../../src/deliveries/mapping/order-signed-reports.ts';
import { patientKey } from '../../src/deliveries/mapping/patient-key.ts';
import { jsonBody } from '../../src/fhir/json-body.ts';
import { loadR4Definitions, validateDeliveryBundle } from '../../src/fhir/validate-resource.ts';
import { gatherSignedReports } from '../../src/deliveries/gather-signed-reports.ts';
import type { DeliveryInput } from '../../src/deliveries/mapping/delivery-input.ts';
import type { User } from '../../src/avara/schemas.ts';

export interface PureSteps {
  reports: number;
  meanBodyBytes: number;
  meanPdfBytes: number;
  meanTextBytes: number;
  /** CPU ms per delivery of the pure steps serve runs on every delivery, on these inputs. */
  mappingMs: number;
  validationMs: number;
  serializeMs: number;
  hashingMs: number;
}

/** Of the rounds over the same inputs, the first warms the JIT and is not counted. */
const ROUNDS = 4;

/**
 * The pure steps of a delivery on the very inputs the worker would gather for these reports (the
 * same Avara client, gathering and mapper, every patient new), in CPU time of this process. The
 * R4 definitions are indexed before: serve does that once at start, and a quick run's 60 reports
 * used to carry that second of indexing (~30 ms a report) as "validation".
 */
export async function measurePureSteps(sandbox: { baseUrl: string; apiKey: string; webhookKey: string }, refs: SignedRef[]): Promise<PureSteps> {
  const config = loadConfig({ AVARA_BASE_URL: sandbox.baseUrl, AVARA_API_KEY: sandbox.apiKey, AVARA_WEBHOOK_KEY: sandbox.webhookKey, FHIR_BASE_URL: 'http://127.0.0.1:1/fhir', ...BENCH_MAPPING_SETTINGS });
  const avara = createAvaraClient(config.avara);
  const users = new Map<string, User>();
  const inputs: { input: DeliveryInput; patientKey: string }[] = [];
  let pdfBytes = 0;
  let textBytes = 0;
  for (const ref of refs) {
    const study = await avara.getStudy(ref.studyId);
    const signed = (await avara.listReports(ref.studyId)).reports.filter(isSigned);
    const gathered = await gatherSignedReports(avara, study, signed, undefined, users);
    const key = patientKey(study, signed.at(-1)?.snapshotMetadata, config.delivery.mapping);
    if (!key) throw new Error(`study ${ref.studyId} has no patient key`);
    for (const r of gathered.reports) {
      pdfBytes += r.pdf.length;
      textBytes += Buffer.byteLength(r.plainText ?? '');
    }
    inputs.push({ input: { study, reports: gathered.reports, patient: { kind: 'create', identifierSystem: key.system, identifierValue: key.value } }, patientKey: `${key.system}|${key.value}` });
  }
  loadR4Definitions();
  const options = { ...config.delivery.mapping, newUuid: () => crypto.randomUUID() };
  const cpu = { mappingMs: 0, validationMs: 0, serializeMs: 0, hashingMs: 0 };
  let bodyBytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const counted = round > 0;
    for (const { input, patientKey: key } of inputs) {
      const bundle = timed(counted, 'mappingMs', () => buildDeliveryBundle(input, options));
      timed(counted, 'validationMs', () => validateDeliveryBundle(bundle));
      // What the FHIR client sends: the bundle's JSON bytes.
      const body = timed(counted, 'serializeMs', () => jsonBody(bundle));
      timed(counted, 'hashingMs', () => deliveryContentHash(bundle, key));
      if (round === 0) bodyBytes += body.length;
    }
  }
  const n = inputs.length;
  const perDelivery = (ms: number) => ms / (n * (ROUNDS - 1));
  return {
    reports: n, meanBodyBytes: bodyBytes / n, meanPdfBytes: pdfBytes / n, meanTextBytes: textBytes / n,
    mappingMs: perDelivery(cpu.mappingMs), validationMs: perDelivery(cpu.validationMs), serializeMs: perDelivery(cpu.serializeMs), hashingMs: perDelivery(cpu.hashingMs),
  };

  function timed<T>(counted: boolean, step: keyof typeof cpu, work: () => T): T {
    const before = process.cpuUsage();
    const result = work();
    const used = process.cpuUsage(before);
    if (counted) cpu[step] += (used.user + used.system) / 1000;
    return result;
  }
}
