import pino, { type DestinationStream, type Logger } from 'pino';

// The safety net behind "log ids and outcomes only": should a whole object ever reach a log
// call, these paths are masked. The canary test proves nothing slips through.
const REDACT_PATHS = [
  'patientName', '*.patientName', 'mrn', '*.mrn', 'dateOfBirth', '*.dateOfBirth',
  'plainText', '*.plainText', 'reportPlainText', '*.reportPlainText', 'presignedUrl', '*.presignedUrl',
  'reportMetadata', '*.reportMetadata', 'snapshotMetadata', '*.snapshotMetadata',
  'authorization', '*.authorization', 'headers', '*.headers', 'apiKey', '*.apiKey', 'url', '*.url',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'avara-fhir-sync' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}
