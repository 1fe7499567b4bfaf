import { performance } from 'node:perf_hooks';
import { createAvaraClient } from '../../src/avara/avara-client.ts';
import type { SignedRef } from '../../src/standins/avara-sandbox/sandbox-types.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { BENCH_MAPPING_SETTINGS } from '../serve-process.ts';
import { buildDeliveryBundle } from '../../src/deliveries/mapping/build-delivery-bundle.ts';
import { isSigned } from '../../src/deliveries/mapping/order-signed-reports.ts';
import { patientKey } from '../../src/deliveries/mapping/patient-key.ts';
import { validateDeliveryBundle } from '../../src/fhir/validate-resource.ts';
import { gatherSignedReports } from '../../src/deliveries/gather-signed-reports.ts';
import type { User } from '../../src/avara/schemas.ts';
import { runLanes } from '../run-lanes.ts';

export interface PreparedBundles {
  /** Each delivery's transaction Bundle, serialized once (the ceiling posts these bytes). */
  bodies: Buffer[];
  meanBodyBytes: number;
  meanPdfBytes: number;
  meanTextBytes: number;
  /** CPU time per delivery of the pure steps, measured here on the same inputs. */
  mappingMs: number;
  validationMs: number;
  serializeMs: number;
}

/**
 * The very bundles the worker would build for these reports against an empty EHR: the same
 * Avara client, gathering and mapper, with every patient new (conditional create).
 */
export async function prepareBundles(sandbox: { baseUrl: string; apiKey: string; webhookKey: string }, refs: SignedRef[]): Promise<PreparedBundles> {
  const config = loadConfig({ AVARA_BASE_URL: sandbox.baseUrl, AVARA_API_KEY: sandbox.apiKey, AVARA_WEBHOOK_KEY: sandbox.webhookKey, FHIR_BASE_URL: 'http://127.0.0.1:1/fhir', ...BENCH_MAPPING_SETTINGS });
  const avara = createAvaraClient(config.avara);
  const users = new Map<string, User>();
  const bodies: Buffer[] = new Array(refs.length);
  let pdfBytes = 0;
  let textBytes = 0;
  let mappingMs = 0;
  let validationMs = 0;
  let serializeMs = 0;
  await runLanes(refs.length, 8, async (index) => {
    const ref = refs[index]!;
    const study = await avara.getStudy(ref.studyId);
    const signed = (await avara.listReports(ref.studyId)).reports.filter(isSigned);
    const gathered = await gatherSignedReports(avara, study, signed, undefined, users);
    const key = patientKey(study, signed.at(-1)?.snapshotMetadata, config.delivery.mapping);
    if (!key) throw new Error(`study ${ref.studyId} has no patient key`);
    for (const r of gathered.reports) {
      pdfBytes += r.pdf.length;
      textBytes += Buffer.byteLength(r.plainText ?? '');
    }
    let started = performance.now();
    const bundle = buildDeliveryBundle(
      { study, reports: gathered.reports, patient: { kind: 'create', identifierSystem: key.system, identifierValue: key.value } },
      { ...config.delivery.mapping, newUuid: () => crypto.randomUUID() },
    );
    mappingMs += performance.now() - started;
    started = performance.now();
    validateDeliveryBundle(bundle);
    validationMs += performance.now() - started;
    started = performance.now();
    bodies[index] = Buffer.from(JSON.stringify(bundle));
    serializeMs += performance.now() - started;
  });
  const n = refs.length;
  return {
    bodies,
    meanBodyBytes: bodies.reduce((sum, b) => sum + b.length, 0) / n,
    meanPdfBytes: pdfBytes / n,
    meanTextBytes: textBytes / n,
    mappingMs: mappingMs / n,
    validationMs: validationMs / n,
    serializeMs: serializeMs / n,
  };
}
