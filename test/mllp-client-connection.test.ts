import { afterEach, describe, expect, it } from 'vitest';
import { createMllpClient, type MllpClient } from '../src/hl7/mllp-client.ts';
import { type MllpReceiver, type ReceivedMessage, startMllpReceiver } from '../src/standins/mllp-receiver/start-mllp-receiver.ts';
import { smallOruMessage } from './support/small-oru-message.ts';
import { waitFor } from './support/wait-for.ts';

describe('MLLP client: the connection', () => {
  const cleanUps: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp();
  });
  const receiverOn = async (port = 0, onReceived?: (message: ReceivedMessage) => void) => {
    const receiver = await startMllpReceiver({ port, onReceived });
    cleanUps.push(() => receiver.stop());
    return receiver;
  };
  const clientFor = (address: { host: string; port: number }, extra: Partial<Parameters<typeof createMllpClient>[0]> = {}) => {
    const client = createMllpClient({ ...address, ackTimeoutMs: 5000, ...extra });
    cleanUps.push(() => client.close());
    return client;
  };
  const send = (client: MllpClient, controlId: string) => client.send(smallOruMessage(controlId), controlId);
  /** A port nobody listens on: one a receiver just gave back. */
  const freedPort = async () => {
    const receiver = await startMllpReceiver({ port: 0 });
    await receiver.stop();
    return receiver.address.port;
  };

  it('sends a second message only after the first one was answered, when both are sent at once', async () => {
    const answeredBeforeArrival: boolean[] = [];
    const receiver = await receiverOn(0, () => answeredBeforeArrival.push(receiver.received().slice(0, -1).every((r) => r.answeredAt)));
    receiver.delayAcksMs(150);
    const client = clientFor(receiver.address);
    const outcomes = await Promise.all([send(client, 'CTRL-ONE'), send(client, 'CTRL-TWO')]);
    expect(outcomes.map((o) => o.kind)).toEqual(['accepted', 'accepted']);
    expect(receiver.received().map((r) => r.controlId)).toEqual(['CTRL-ONE', 'CTRL-TWO']);
    expect(answeredBeforeArrival).toEqual([true, true]);
  });

  it('delivers a message the size of an embedded PDF, which reaches the receiver in many reads', async () => {
    const receiver = await receiverOn();
    const base64Pdf = Buffer.alloc(3 * 1024 * 1024, 7).toString('base64');
    const message = smallOruMessage('CTRL-BIG', `^AP^PDF^Base64^${base64Pdf}`);
    expect(await clientFor(receiver.address).send(message, 'CTRL-BIG')).toMatchObject({ kind: 'accepted' });
    expect(receiver.received()[0]?.text).toBe(message);
  });

  it('keeps one connection open across sends', async () => {
    const receiver = await receiverOn();
    const client = clientFor(receiver.address);
    for (const id of ['CTRL-K1', 'CTRL-K2', 'CTRL-K3']) expect(await send(client, id)).toMatchObject({ kind: 'accepted' });
    expect(receiver.connectionsAccepted()).toBe(1);
  });

  it('connects again on the next send after the receiver restarted on the same port', async () => {
    const first = await receiverOn();
    const client = clientFor(first.address);
    expect(await send(client, 'CTRL-R1')).toMatchObject({ kind: 'accepted' });
    await first.stop();
    const second = await receiverOn(first.address.port);
    expect(await send(client, 'CTRL-R2')).toMatchObject({ kind: 'accepted' });
    expect(second.received().map((r) => r.controlId)).toEqual(['CTRL-R2']);
  });

  it('is unreachable with ECONNREFUSED and host:port when nothing listens', async () => {
    const port = await freedPort();
    const outcome = await send(clientFor({ host: '127.0.0.1', port }), 'CTRL-DOWN');
    expect(outcome).toEqual({ kind: 'unreachable', code: 'ECONNREFUSED', cause: `cannot connect (ECONNREFUSED) to 127.0.0.1:${port}` });
  });

  it('is unreachable with a DNS code when the host name does not resolve', async () => {
    const outcome = await send(clientFor({ host: 'mllp.invalid', port: 2575 }), 'CTRL-DNS');
    expect(outcome).toMatchObject({ kind: 'unreachable', code: expect.stringMatching(/^(ENOTFOUND|EAI_AGAIN)$/) });
  });

  it('does not try again before the backoff after a failed connect, then delivers once the receiver is back', async () => {
    const port = await freedPort();
    const client = clientFor({ host: '127.0.0.1', port }, { connectBackoff: { initialMs: 400, maxMs: 400 } });
    expect(await send(client, 'CTRL-B1')).toMatchObject({ kind: 'unreachable', code: 'ECONNREFUSED' });
    const receiver = await receiverOn(port);
    expect(await send(client, 'CTRL-B1')).toMatchObject({ kind: 'unreachable', cause: expect.stringContaining('next attempt in') });
    expect(receiver.connectionsAccepted()).toBe(0);
    await waitFor('the backoff to pass and the message to be accepted', async () => (await send(client, 'CTRL-B1')).kind === 'accepted');
    expect(receiver.acceptedContents()).toEqual(['CTRL-B1']);
  });

  it('ends a send in flight as unknown/closed on close(), and refuses sends after it', async () => {
    const receiver = await receiverOn();
    receiver.setAck('none');
    const client = clientFor(receiver.address);
    const inFlight = send(client, 'CTRL-C1');
    await waitFor('the receiver to get the message', () => receiver.received().length === 1, 5000);
    await client.close();
    expect(await inFlight).toEqual({ kind: 'unknown', reason: 'closed' });
    expect(await send(client, 'CTRL-C2')).toMatchObject({ kind: 'unreachable', code: 'ERR_CLIENT_CLOSED' });
  });

  it('answers a timed-out message\'s late ACK by ignoring it and sends the next one on a fresh connection', async () => {
    const receiver = await receiverOn();
    receiver.delayAcksMs(400);
    const client = clientFor(receiver.address, { ackTimeoutMs: 150 });
    expect(await send(client, 'CTRL-LATE')).toEqual({ kind: 'unknown', reason: 'timeout' });
    receiver.delayAcksMs(0);
    expect(await send(client, 'CTRL-NEXT')).toMatchObject({ kind: 'accepted' });
    expect(receiver.connectionsAccepted()).toBe(2);
  });
});
