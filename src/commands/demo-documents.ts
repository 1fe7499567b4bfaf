import type { SignedRef } from '../standins/avara-sandbox/sandbox-types.ts';
import type { Sandbox } from '../standins/avara-sandbox/start-sandbox.ts';
import type { EmbeddedFhirServer } from '../standins/fhir-store/start-fhir-server.ts';

/** The document target writes to an EHR that owns its patients, so the demo cannot run it beside `fhir`'s create mode. */
export function refuseMixedFhirTargets(targets: string[]): void {
  if (targets.includes('fhir-documents') && targets.includes('fhir')) {
    throw new Error('demo: --targets cannot combine fhir and fhir-documents: the embedded FHIR store is either a full server (fhir) or an EHR that takes only DocumentReference creates (fhir-documents); run them one at a time');
  }
}

/**
 * Signs like `sandbox.signReports`, but registers each study's patient in the EHR before its
 * webhook goes out: an EHR never takes a patient from us, and the target only finds patients.
 * The webhooks are held back by signing with no URL set, then resent once the patients exist.
 */
export async function signForRegisteredPatients(
  sandbox: Sandbox, fhir: EmbeddedFhirServer, webhookUrl: string, mrnSystem: string, count: number,
): Promise<SignedRef[]> {
  sandbox.setWebhookUrl(null);
  let signed: SignedRef[];
  try {
    signed = await sandbox.signReports(count);
  } finally {
    sandbox.setWebhookUrl(webhookUrl);
  }
  for (const ref of signed) {
    const { reportMetadata } = sandbox.getStudyState(ref.studyId);
    await fhir.seed({
      resourceType: 'Patient',
      identifier: [{ system: mrnSystem, value: reportMetadata.mrn! }],
      ...(reportMetadata.dateOfBirth ? { birthDate: reportMetadata.dateOfBirth } : {}),
      ...(isGender(reportMetadata.sex) ? { gender: reportMetadata.sex } : {}),
    });
  }
  for (const ref of signed) await sandbox.resendWebhook(ref.webhookId);
  return signed;
}

function isGender(sex: string | undefined): sex is 'male' | 'female' | 'other' {
  return sex === 'male' || sex === 'female' || sex === 'other';
}
