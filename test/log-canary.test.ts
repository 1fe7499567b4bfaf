import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestEnv, type TestEnv } from './support/test-env.ts';

describe('logs carry ids and outcomes, never patient data', () => {
  let env: TestEnv;
  beforeEach(async () => {
    env = await startTestEnv({ env: { LOG_LEVEL: 'trace' } });
  });
  afterEach(() => env.stop());

  it('keeps a distinctive name, MRN, birth date, report text and PDF link out of every log line', async () => {
    const [signed] = await env.sandbox.signReports(1, { sendWebhooks: false });
    const study = env.sandbox.getStudyState(signed!.studyId);
    study.reportMetadata.patientName = 'Zebulon Canaryfeather';
    study.reportMetadata.mrn = 'MRN-CANARY-771';
    study.reportMetadata.dateOfBirth = '1931-02-03';
    const link = await env.pdfLink(signed!.reportId);
    await env.sendReportDelivered(signed!, { presignedUrl: link });
    await env.waitForDelivery(signed!.reportId, 'delivered');
    const logs = env.logText();
    expect(logs).toContain(signed!.reportId);
    for (const secret of ['Canaryfeather', 'MRN-CANARY-771', '1931-02-03', new URL(link).search.slice(1), env.sandbox.apiKey]) {
      expect(logs).not.toContain(secret);
    }
    const reportText = await fetch(`${env.sandbox.baseUrl}/v1/autoScribe/reports/text?reportId=${signed!.reportId}`, {
      headers: { authorization: `Bearer ${env.sandbox.apiKey}` },
    }).then((r) => r.json() as Promise<{ plainText: string }>);
    const sentence = reportText.plainText.split('\n').find((line) => line.length > 40)!;
    expect(logs).not.toContain(sentence);
  });
});
