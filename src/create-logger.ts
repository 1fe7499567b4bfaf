import pino, { type DestinationStream, type Logger } from 'pino';

// The safety net behind "log ids and outcomes only": should a whole object ever reach a log
// call, these paths are masked. The canary tests prove nothing slips through.
const REDACT_PATHS = [
  'patientName', '*.patientName', 'mrn', '*.mrn', 'dateOfBirth', '*.dateOfBirth', 'birthDate', '*.birthDate',
  'plainText', '*.plainText', 'reportPlainText', '*.reportPlainText', 'reportText', '*.reportText', 'presignedUrl', '*.presignedUrl',
  'reportMetadata', '*.reportMetadata', 'snapshotMetadata', '*.snapshotMetadata', 'patientLabel', '*.patientLabel',
  'authorization', '*.authorization', 'headers', '*.headers', 'cookie', '*.cookie', 'body', '*.body', 'url', '*.url',
  'apiKey', '*.apiKey', 'token', '*.token', 'password', '*.password', 'clientSecret', '*.clientSecret',
  'webhookKey', '*.webhookKey', 'webhookKeys', '*.webhookKeys',
  // The audit page's search keys: an MRN hash is guessable offline with the database's key, an accession is an identifier.
  'mrnHash', '*.mrnHash', 'accession', '*.accession',
];

const MAX_MESSAGE = 300;
// Any scheme://..., up to whitespace or a quote: presigned links carry a token, FHIR URLs ids and queries.
const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'avara-fhir-sync' },
      // ISO 8601 ("time":"2026-12-07T09:30:00.123Z"): what people and log shippers read without converting epoch ms.
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // Errors from libraries carry request URLs, bodies, response objects and causes; keep
      // what says what went wrong (name, code, a URL-free message) and drop the rest.
      serializers: { err: safeError, error: safeError },
    },
    destination,
  );
}

export function safeError(value: unknown): unknown {
  if (typeof value === 'string') return stripUrls(value);
  if (value === null || typeof value !== 'object') return value;
  const error = value as { name?: unknown; code?: unknown; message?: unknown };
  return {
    type: typeof error.name === 'string' ? error.name : 'Error',
    ...(typeof error.code === 'string' || typeof error.code === 'number' ? { code: error.code } : {}),
    ...(typeof error.message === 'string' ? { message: stripUrls(error.message) } : {}),
  };
}

function stripUrls(text: string): string {
  const stripped = text.replace(URL_PATTERN, '[url]');
  return stripped.length > MAX_MESSAGE ? `${stripped.slice(0, MAX_MESSAGE)}…` : stripped;
}
