import { createAvaraClient } from '../../src/avara/avara-client.ts';
import type { User } from '../../src/avara/schemas.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { gatherSignedReports } from '../../src/deliveries/gather-signed-reports.ts';
import { isSigned } from '../../src/deliveries/mapping/order-signed-reports.ts';
import { buildHl7Message } from '../../src/deliveries/targets/hl7v2/mapping/build-hl7-message.ts';
import type { Hl7MessageOptions } from '../../src/deliveries/targets/hl7v2/mapping/hl7-message-input.ts';
import type { SignedRef } from '../../src/standins/avara-sandbox/sandbox-types.ts';
import { runLanes } from '../run-lanes.ts';
import { BENCH_MAPPING_SETTINGS } from '../serve-process.ts';

/** What serve is configured with in the HL7 stage (besides where the receiver listens). */
export const BENCH_HL7_SETTINGS: Readonly<Record<string, string>> = { DELIVERY_TARGETS: 'hl7v2' };

export interface PreparedHl7Messages {
  /** Each delivery's message (ER7 text), as the hl7v2 target would build it for these reports. */
  texts: string[];
  meanMessageBytes: number;
  meanPdfBytes: number;
}

/**
 * The very messages the hl7v2 target would send for these reports: the same Avara client,
 * gathering and message builder, with the options serve derives from the same settings
 * (HL7_EMBED_PDF defaults to true, so each message carries its PDF as base64).
 */
export async function prepareHl7Messages(sandbox: { baseUrl: string; apiKey: string; webhookKey: string }, refs: SignedRef[]): Promise<PreparedHl7Messages> {
  const config = loadConfig({
    AVARA_BASE_URL: sandbox.baseUrl, AVARA_API_KEY: sandbox.apiKey, AVARA_WEBHOOK_KEY: sandbox.webhookKey, FHIR_BASE_URL: 'http://127.0.0.1:9/fhir',
    HL7_HOST: '127.0.0.1', HL7_PORT: '9', ...BENCH_MAPPING_SETTINGS, ...BENCH_HL7_SETTINGS,
  });
  const hl7 = config.delivery.hl7!;
  const { mapping } = config.delivery;
  // As hl7v2-target.ts derives them from the same settings.
  const options: Hl7MessageOptions = {
    messageType: hl7.messageType, sendingApplication: hl7.sendingApplication, processingId: hl7.processingId, patientClass: hl7.patientClass,
    embedPdf: hl7.embedPdf, studyTimeZone: mapping.studyTimeZone, accessionMetadataKey: mapping.accessionMetadataKey, now: () => new Date(),
    ...(hl7.sendingFacility ? { sendingFacility: hl7.sendingFacility } : {}),
    ...(hl7.receivingApplication ? { receivingApplication: hl7.receivingApplication } : {}),
    ...(hl7.receivingFacility ? { receivingFacility: hl7.receivingFacility } : {}),
    ...(hl7.mrnAssigningAuthority ? { mrnAssigningAuthority: hl7.mrnAssigningAuthority } : {}),
  };
  const avara = createAvaraClient(config.avara);
  const users = new Map<string, User>();
  const texts: string[] = new Array(refs.length);
  let pdfBytes = 0;
  await runLanes(refs.length, 8, async (index) => {
    const ref = refs[index]!;
    const study = await avara.getStudy(ref.studyId);
    const signed = (await avara.listReports(ref.studyId)).reports.filter(isSigned);
    const gathered = await gatherSignedReports(avara, study, signed, undefined, users);
    for (const r of gathered.reports) pdfBytes += r.pdf.length;
    texts[index] = buildHl7Message({ study, reports: gathered.reports, reportId: ref.reportId }, options).text;
  });
  return {
    texts,
    meanMessageBytes: texts.reduce((sum, t) => sum + Buffer.byteLength(t), 0) / texts.length,
    meanPdfBytes: pdfBytes / refs.length,
  };
}
