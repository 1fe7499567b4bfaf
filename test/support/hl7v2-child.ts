import { Hl7Message } from '@medplum/core';
import { startMllpReceiver, type MllpReceiver, type ReceivedMessage, type StartMllpReceiverOptions } from '../../src/standins/mllp-receiver/start-mllp-receiver.ts';
import { startChildAppHarness, type ChildAppHarness } from './child-app-harness.ts';

/** The Avara study id a message is about (ORC-3/OBR-3, the filler order number). */
export const studyOfMessage = (message: ReceivedMessage) => Hl7Message.parse(message.text).getSegment('OBR')!.getField(3).toString();

/** The embedded MLLP receiver (answering AA unless told otherwise) and a child-process harness whose serve delivers to fhir and hl7v2. */
export async function startHl7v2Child(env: Record<string, string> = {}, receiverOptions: StartMllpReceiverOptions = {}): Promise<{ receiver: MllpReceiver; harness: ChildAppHarness; stop(): Promise<void> }> {
  const receiver = await startMllpReceiver({ port: 0, ack: 'AA', ...receiverOptions });
  const harness = await startChildAppHarness({
    env: { DELIVERY_TARGETS: 'fhir,hl7v2', HL7_HOST: receiver.address.host, HL7_PORT: String(receiver.address.port), ...env },
  });
  return {
    receiver,
    harness,
    async stop() {
      await harness.stop();
      await receiver.stop();
    },
  };
}
