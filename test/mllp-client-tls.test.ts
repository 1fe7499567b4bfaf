import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMllpClient, type MllpClientOptions } from '../src/hl7/mllp-client.ts';
import { type MllpReceiver, startMllpReceiver, type StartMllpReceiverOptions } from '../src/standins/mllp-receiver/start-mllp-receiver.ts';
import { generateTestCertificates, type TestCertificates } from './support/generate-test-certificates.ts';
import { smallOruMessage } from './support/small-oru-message.ts';

describe('MLLP client over TLS', () => {
  let certs: TestCertificates;
  const cleanUps: (() => Promise<void>)[] = [];
  beforeAll(() => {
    certs = generateTestCertificates();
  });
  afterAll(() => certs.remove());
  afterEach(async () => {
    for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp();
  });

  const receiverWith = async (tls: StartMllpReceiverOptions['tls']) => {
    const receiver = await startMllpReceiver({ port: 0, tls });
    cleanUps.push(() => receiver.stop());
    return receiver;
  };
  const sendTo = (receiver: MllpReceiver, tls: MllpClientOptions['tls'], extra: Partial<MllpClientOptions> = {}) => {
    const client = createMllpClient({ ...receiver.address, tls, ackTimeoutMs: 5000, ...extra });
    cleanUps.push(() => client.close());
    return client.send(smallOruMessage('CTRL-TLS-1'), 'CTRL-TLS-1');
  };

  it('delivers when the receiver\'s certificate is signed by the configured CA', async () => {
    const receiver = await receiverWith(certs.server);
    expect(await sendTo(receiver, { ca: certs.ca })).toMatchObject({ kind: 'accepted' });
    expect(receiver.acceptedContents()).toEqual(['CTRL-TLS-1']);
  });

  it('delivers over mutual TLS with a client certificate the receiver trusts', async () => {
    const receiver = await receiverWith({ ...certs.server, ca: certs.ca });
    expect(await sendTo(receiver, { ca: certs.ca, ...certs.client })).toMatchObject({ kind: 'accepted' });
  });

  it('is unreachable with a TLS cause, and sends nothing, when the CA does not sign the receiver\'s certificate', async () => {
    const receiver = await receiverWith(certs.server);
    const outcome = await sendTo(receiver, { ca: certs.otherCa });
    expect(outcome).toMatchObject({ kind: 'unreachable', cause: expect.stringMatching(/^TLS handshake failed \(\w+\) to 127\.0\.0\.1:\d+$/) });
    expect(receiver.received()).toEqual([]);
  });

  it('is unreachable with a TLS cause, not unknown, when mutual TLS wants a client certificate we lack', async () => {
    const receiver = await receiverWith({ ...certs.server, ca: certs.ca });
    const outcome = await sendTo(receiver, { ca: certs.ca });
    expect(outcome).toMatchObject({ kind: 'unreachable', code: expect.stringMatching(/^ERR_SSL_/), cause: expect.stringContaining('TLS handshake failed') });
    expect(receiver.received()).toEqual([]);
  });

  it('is unreachable with ETIMEDOUT when the listener does not speak TLS', async () => {
    const receiver = await receiverWith(undefined);
    const outcome = await sendTo(receiver, { ca: certs.ca }, { connectTimeoutMs: 300 });
    expect(outcome).toMatchObject({ kind: 'unreachable', code: 'ETIMEDOUT', cause: expect.stringContaining('TLS handshake failed') });
  });
});
