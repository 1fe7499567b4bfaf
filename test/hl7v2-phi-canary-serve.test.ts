import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MllpReceiver } from '../src/standins/mllp-receiver/start-mllp-receiver.ts';
import type { ChildAppHarness } from './support/child-app-harness.ts';
import { startHl7v2Child } from './support/hl7v2-child.ts';

// The receiver's error texts echo what it was sent (here the patient's name and MRN, as a real
// engine's "unknown patient" does): they are kept for operators, never written to serve's logs.
const NAME = { given: 'Zebulon', family: 'Hl7canaryfeather' };
const MRN = 'MRN-HL7-CANARY-4417';
const BUSY_TEXT = `Patient ${NAME.given} ${NAME.family} locked by another user, try later`;
const REJECT_TEXT = `Unknown patient ${NAME.family}^${NAME.given} MRN ${MRN}`;
const SECRETS = [NAME.family, MRN, BUSY_TEXT, REJECT_TEXT, 'locked by another user'];

describe('PHI canary on HL7 errors: serve (child process) keeps AR/AE texts out of its logs', () => {
  let receiver: MllpReceiver;
  let harness: ChildAppHarness;
  beforeEach(async () => {
    ({ receiver, harness } = await startHl7v2Child({ HL7_ACK_TIMEOUT_SECONDS: '10', LOG_LEVEL: 'trace' }, { ack: 'AR', errorText: BUSY_TEXT }));
  });
  afterEach(async () => {
    await harness.stop();
    await receiver.stop();
  });

  it('an AR and then an AE carrying the patient\'s name: dead as hl7_rejected, the text shown to operators, absent from stdout and stderr', async () => {
    const run = await harness.start({ entry: 'serve' });
    const [signed] = await harness.sandbox.signReports(1, { sendWebhooks: false });
    const study = harness.sandbox.getStudyState(signed!.studyId);
    study.reportMetadata.patientName = `${NAME.given} ${NAME.family}`;
    study.reportMetadata.mrn = MRN;
    expect((await harness.postReportDelivered(signed!)).ok).toBe(true);

    // AR: busy, answered with the canary text, several times.
    await harness.waitFor('two busy answers', () => receiver.received().length >= 2);
    receiver.setAck('AE', { errorText: REJECT_TEXT });
    await harness.waitFor('the rejection', () => harness.delivery(signed!.reportId, 'hl7v2')?.state === 'dead');
    await harness.waitForDelivered([signed!.reportId], 30_000); // the FHIR target is not held back

    // The canary really went out and came back: in the message sent, in the receiver's answer, in the store.
    expect(receiver.received()[0]!.text).toContain(`${NAME.family}^${NAME.given}`);
    expect(receiver.received()[0]!.text).toContain(MRN);
    const row = harness.delivery(signed!.reportId, 'hl7v2')!;
    expect(row).toMatchObject({ lastErrorCode: 'hl7_rejected', rejectionText: expect.stringContaining(REJECT_TEXT) });
    const detail = await (await fetch(`${harness.url}/api/deliveries/${signed!.reportId}?target=hl7v2`)).json() as { rejection: string };
    expect(detail.rejection).toContain(REJECT_TEXT);

    // The delivery thread's log line reaches stdout through the main thread after the row is
    // committed: wait for it rather than read the logs at the instant the row turned dead.
    await harness.waitFor('the outcome in the log', () => run.logText().includes('hl7_rejected'));
    const logs = run.logText();
    // The logs did record the outcome (by ids and codes), so their silence on the text is not an empty log.
    expect(logs).toContain(signed!.reportId);
    expect(logs).toContain('hl7_rejected');
    expect(logs).toContain(row.hl7ControlId!);
    for (const secret of SECRETS) expect(logs).not.toContain(secret);
  });
});
