import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MllpReceiver, StartMllpReceiverOptions } from '../src/standins/mllp-receiver/start-mllp-receiver.ts';
import { listAuditEvents } from '../src/store/audit.ts';
import type { ChildAppHarness, ChildRun } from './support/child-app-harness.ts';
import { startHl7v2Child } from './support/hl7v2-child.ts';
import { generateTestCertificates, type TestCertificates } from './support/generate-test-certificates.ts';

// HL7 over TLS end to end: a real `serve` child reads HL7_TLS_* files the test writes from
// certificates the openssl CLI makes, and delivers to the embedded receiver listening with TLS.
const REPORTS = 2;

describe('HL7 v2 over TLS through serve (HL7_TLS=true)', () => {
  let certs: TestCertificates;
  let dir: string;
  const files: Record<'ca' | 'otherCa' | 'clientCert' | 'clientKey', string> = { ca: '', otherCa: '', clientCert: '', clientKey: '' };
  let receiver: MllpReceiver | undefined;
  let harness: ChildAppHarness | undefined;

  beforeAll(() => {
    certs = generateTestCertificates();
    dir = mkdtempSync(join(tmpdir(), 'afs-hl7-tls-files-'));
    const write = (name: string, content: Buffer) => {
      const path = join(dir, name);
      writeFileSync(path, content, { mode: 0o600 });
      return path;
    };
    files.ca = write('ca.crt', certs.ca);
    files.otherCa = write('other-ca.crt', certs.otherCa);
    files.clientCert = write('client.crt', certs.client.cert);
    files.clientKey = write('client.key', certs.client.key);
  });
  afterAll(() => {
    certs.remove();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await harness?.stop();
    await receiver?.stop();
    harness = undefined;
    receiver = undefined;
  });

  /** The receiver with `tls`, then serve with both targets and the HL7_TLS_* variables in `tlsEnv`. */
  async function start(tls: StartMllpReceiverOptions['tls'], tlsEnv: Record<string, string>): Promise<{ receiver: MllpReceiver; harness: ChildAppHarness; run: ChildRun }> {
    ({ receiver, harness } = await startHl7v2Child({ HL7_ACK_TIMEOUT_SECONDS: '10', HL7_TLS: 'true', ...tlsEnv }, { tls }));
    const run = await harness.start({ entry: 'serve' });
    return { receiver, harness, run };
  }

  async function expectDeliveredToBoth(h: ChildAppHarness, r: MllpReceiver): Promise<void> {
    const signed = await h.sandbox.signReports(REPORTS);
    const ids = signed.map((s) => s.reportId);
    await h.waitForDelivered(ids, h.untilQueueStalls, 'hl7v2');
    await h.waitForDelivered(ids);
    expect(r.acceptedContents()).toHaveLength(REPORTS);
    for (const id of ids) expect(r.acceptedContents()).toContain(h.delivery(id, 'hl7v2')!.hl7ControlId);
  }

  it('delivers when the receiver\'s certificate is signed by HL7_TLS_CA_FILE', async () => {
    const started = await start(certs.server, { HL7_TLS_CA_FILE: files.ca });
    await expectDeliveredToBoth(started.harness, started.receiver);
  });

  it('delivers over mutual TLS: the receiver requires a client certificate, serve presents HL7_TLS_CERT_FILE/KEY_FILE', async () => {
    const started = await start({ ...certs.server, ca: certs.ca }, { HL7_TLS_CA_FILE: files.ca, HL7_TLS_CERT_FILE: files.clientCert, HL7_TLS_KEY_FILE: files.clientKey });
    await expectDeliveredToBoth(started.harness, started.receiver);
  });

  it('with the wrong CA the HL7 delivery stays queued without spending attempts, while FHIR delivers', async () => {
    const { receiver: r, harness: h, run } = await start(certs.server, { HL7_TLS_CA_FILE: files.otherCa });
    const signed = await h.sandbox.signReports(REPORTS);
    const ids = signed.map((s) => s.reportId);
    await h.waitForDelivered(ids);
    // Several rounds of connect, refuse the handshake, give the delivery back.
    const unreachableReleases = (reportId: string) => listAuditEvents(h.readStore().db, reportId)
      .filter((e) => e.event === 'released' && e.detail?.target === 'hl7v2' && String(e.detail?.reason).startsWith('hl7_unreachable'));
    await h.waitFor('three unreachable rounds for every hl7v2 delivery', () => ids.every((id) => unreachableReleases(id).length >= 3));

    expect(r.received()).toEqual([]);
    // Operators see why: one warning with the TLS cause, no message content.
    const warning = await run.waitForLog('the unreachable warning', (line) => line.msg === 'MLLP receiver unreachable', 1000);
    expect(warning).toMatchObject({ hl7Endpoint: `${r.address.host}:${r.address.port}`, code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    for (const id of ids) {
      const row = h.delivery(id, 'hl7v2')!;
      expect(row).toMatchObject({ state: expect.stringMatching(/^(queued|in_progress)$/), deliveredAt: null, lastErrorCode: null });
      // A claim counts its attempt until it is given back: none is spent while the receiver cannot be reached.
      expect(row.attempts).toBe(row.state === 'in_progress' ? 1 : 0);
      const events = listAuditEvents(h.readStore().db, id).filter((e) => e.detail?.target === 'hl7v2');
      expect(events.filter((e) => e.event === 'attempt_failed' || e.event === 'dead')).toEqual([]);
    }
  });
});
