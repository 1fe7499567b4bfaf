import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/create-logger.ts';
import { createMllpClient, type MllpClient } from '../src/hl7/mllp-client.ts';
import { type MllpReceiver, startMllpReceiver } from '../src/standins/mllp-receiver/start-mllp-receiver.ts';
import { smallOruMessage } from './support/small-oru-message.ts';

// hl7v2-mapping.md, "Acknowledgments": each row against the embedded receiver over real TCP.
describe('MLLP client: what each acknowledgment comes to', () => {
  let receiver: MllpReceiver;
  let client: MllpClient;
  const connect = (ackTimeoutMs = 5000) => {
    client = createMllpClient({ ...receiver.address, ackTimeoutMs });
    return client;
  };

  beforeEach(async () => {
    receiver = await startMllpReceiver({ port: 0 });
  });
  afterEach(async () => {
    await client?.close();
    await receiver.stop();
  });

  it('is accepted with the ACK\'s own control id when the receiver answers AA', async () => {
    const outcome = await connect().send(smallOruMessage('CTRL-AA-1'), 'CTRL-AA-1');
    expect(outcome).toEqual({ kind: 'accepted', ackControlId: expect.stringMatching(/^A[0-9a-f]{8}\d{6}$/) });
    expect(receiver.acceptedContents()).toEqual(['CTRL-AA-1']);
  });

  it('delivers the message text unchanged, escapes and unicode included', async () => {
    const message = smallOruMessage('CTRL-TEXT-1', 'Nguyễn: 5 \\F\\ 6 mm\\.br\\IMPRESSION \\T\\ plan');
    await connect().send(message, 'CTRL-TEXT-1');
    expect(receiver.received().map((r) => r.text)).toEqual([message]);
  });

  it('is retry_later when the receiver answers AR', async () => {
    receiver.setAck('AR');
    expect(await connect().send(smallOruMessage('CTRL-AR-1'), 'CTRL-AR-1')).toEqual({ kind: 'retry_later' });
    expect(receiver.acceptedContents()).toEqual([]);
  });

  it('is rejected with MSA-3 and the ERR text kept when the receiver answers AE', async () => {
    receiver.setAck('AE', { errorText: 'Unknown patient identifier' });
    const outcome = await connect().send(smallOruMessage('CTRL-AE-1'), 'CTRL-AE-1');
    expect(outcome).toEqual({ kind: 'rejected', text: 'Unknown patient identifier | Application internal error' });
  });

  it('logs neither the message nor the receiver\'s AE text, only ids and outcomes', async () => {
    let logged = '';
    const log = createLogger('debug', new Writable({ write: (chunk, _encoding, done) => done(void (logged += String(chunk))) }));
    receiver.setAck('AE', { errorText: 'CANARY-AE Zyxwvut Quenneville' });
    client = createMllpClient({ ...receiver.address, ackTimeoutMs: 5000, log });
    await client.send(smallOruMessage('CTRL-CANARY', 'CANARY-TEXT pneumothorax'), 'CTRL-CANARY');
    expect(logged).toContain('CTRL-CANARY');
    expect(logged).not.toMatch(/CANARY-AE|Quenneville|CANARY-TEXT|Testperson|MRN-TEST/);
  });

  it('ignores an ACK for another control id and takes the one for ours that follows', async () => {
    receiver.strayAckBeforeNext(1);
    const outcome = await connect().send(smallOruMessage('CTRL-STRAY-1'), 'CTRL-STRAY-1');
    expect(outcome).toMatchObject({ kind: 'accepted' });
  });

  it('is unknown/timeout when the only ACK is for another control id', async () => {
    receiver.setAck('none');
    receiver.strayAckBeforeNext(1);
    expect(await connect(300).send(smallOruMessage('CTRL-STRAY-2'), 'CTRL-STRAY-2')).toEqual({ kind: 'unknown', reason: 'timeout' });
  });

  it('is unknown/timeout when the receiver never answers', async () => {
    receiver.setAck('none');
    expect(await connect(300).send(smallOruMessage('CTRL-NONE-1'), 'CTRL-NONE-1')).toEqual({ kind: 'unknown', reason: 'timeout' });
    expect(receiver.received().map((r) => r.controlId)).toEqual(['CTRL-NONE-1']);
  });

  it('is unknown/closed when the receiver commits and drops the connection without answering', async () => {
    receiver.commitThenDrop(1);
    expect(await connect().send(smallOruMessage('CTRL-DROP-1'), 'CTRL-DROP-1')).toEqual({ kind: 'unknown', reason: 'closed' });
    expect(receiver.acceptedContents()).toEqual(['CTRL-DROP-1']);
  });

  it('counts a resend under the same control id once at a receiver that drops repeats', async () => {
    receiver.commitThenDrop(1);
    connect();
    await client.send(smallOruMessage('CTRL-RESEND-1'), 'CTRL-RESEND-1');
    expect(await client.send(smallOruMessage('CTRL-RESEND-1'), 'CTRL-RESEND-1')).toMatchObject({ kind: 'accepted' });
    expect(receiver.received()).toHaveLength(2);
    expect(receiver.acceptedContents()).toEqual(['CTRL-RESEND-1']);
  });

  it('refuses a message whose MSH-10 is not the control id it is sent under', async () => {
    await expect(connect().send(smallOruMessage('CTRL-A'), 'CTRL-B')).rejects.toThrow(/MSH-10/);
    expect(receiver.received()).toEqual([]);
  });
});
