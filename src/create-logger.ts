import pino, { type DestinationStream, type Logger } from 'pino';

// The safety net behind "log ids and outcomes only": should a whole object ever reach a log
// call, these keys are masked at the top level and one level down (`key` and `*.key`). The
// canary tests prove nothing slips through.
export const REDACTED_KEYS: readonly string[] = [
  'patientName', 'mrn', 'dateOfBirth', 'birthDate', 'plainText', 'reportPlainText', 'reportText', 'presignedUrl',
  'reportMetadata', 'snapshotMetadata', 'patientLabel', 'authorization', 'headers', 'cookie', 'body', 'url',
  'apiKey', 'token', 'password', 'clientSecret', 'webhookKey', 'webhookKeys',
  // The audit page's search keys: an MRN hash is guessable offline with the database's key, an accession is an identifier.
  'mrnHash', 'accession',
];
const REDACTED = new Set(REDACTED_KEYS);
const CENSOR = '[redacted]';

const MAX_MESSAGE = 300;
// Any scheme://..., up to whitespace or a quote: presigned links carry a token, FHIR URLs ids and queries.
const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const log = pino(
    {
      level,
      base: { service: 'avara-fhir-sync' },
      // ISO 8601 ("time":"2026-12-07T09:30:00.123Z"): what people and log shippers read without converting epoch ms.
      timestamp: pino.stdTimeFunctions.isoTime,
      // Top-level keys through pino's own redaction (a lookup per key). The `*.key` paths are
      // not given to pino: it runs a wildcard path through every value of every line, strings
      // included, which was two thirds of a line's cost (28 of 10 µs). maskNested does them.
      redact: { paths: [...REDACTED_KEYS], censor: CENSOR },
      formatters: { log: maskNested },
      // Objects interpolated into the message (`%o`, `%j`) bypass formatters.log: masked here.
      hooks: {
        logMethod(args, method) {
          method.apply(this, (args.length > 2 || (args.length > 1 && typeof args[0] === 'string') ? maskInterpolated(args) : args) as typeof args);
        },
      },
      // Errors from libraries carry request URLs, bodies, response objects and causes; keep
      // what says what went wrong (name, code, a URL-free message) and drop the rest.
      serializers: { err: safeError, error: safeError },
    },
    destination ?? standardOutput(),
  );
  // pino gives children's bindings no formatter: they are masked on the way in. Children are
  // made from their parent (Object.create), so theirs inherit this child() too.
  const makeChild = log.child;
  log.child = function child(this: Logger, bindings, options) {
    return makeChild.call(this, maskNested(bindings), options);
  } as Logger['child'];
  return log;
}

/**
 * stdout, written asynchronously: a line no longer costs the event loop a write(2) of its own,
 * and lines logged while a write is under way go out together in the next. pino flushes what is
 * pending synchronously on exit (process.exit, the end of the loop, an uncaught exception) and
 * on every fatal line. What a SIGKILL or a crash of node itself leaves unwritten is lost: at most
 * the lines of one write's duration. A reader that stops reading (a stalled log shipper) no
 * longer stalls intake, as the synchronous writes did; the lines wait in memory up to
 * MAX_PENDING_LOG_BYTES, beyond which new lines are dropped, and one line on stderr a minute
 * counts them: memory stays bounded, the record of deliveries is the database's audit trail.
 */
function standardOutput(): DestinationStream {
  const stream = pino.destination({ dest: process.stdout.fd || 1, sync: false, maxLength: MAX_PENDING_LOG_BYTES });
  let dropped = 0;
  let toldAt = Number.NEGATIVE_INFINITY;
  stream.on('drop', () => {
    dropped += 1;
    if (Date.now() - toldAt < 60_000) return;
    toldAt = Date.now();
    process.stderr.write(`${JSON.stringify({ level: 50, time: new Date().toISOString(), service: 'avara-fhir-sync', droppedLines: dropped, msg: 'log lines dropped: stdout is not being read' })}\n`);
  });
  return stream;
}

export const MAX_PENDING_LOG_BYTES = 16 * 1024 * 1024;

/**
 * `*.key` for every redacted key: a value's own redacted keys are censored, in a copy. `err` and
 * `error` are left to safeError, which keeps none of them (an Error copied here would lose its
 * name and message, which are not own enumerable properties).
 */
export function maskNested(object: Record<string, unknown>): Record<string, unknown> {
  let masked = object;
  for (const key in object) {
    const value = object[key];
    if (value === null || typeof value !== 'object' || key === 'err' || key === 'error' || !Object.hasOwn(object, key) || !hasRedactedKey(value)) continue;
    if (masked === object) masked = Array.isArray(object) ? [...object] as unknown as Record<string, unknown> : { ...object };
    masked[key] = censorKeys(value as Record<string, unknown>);
  }
  return masked;
}

function hasRedactedKey(value: object): boolean {
  for (const key in value) if (REDACTED.has(key) && Object.hasOwn(value, key)) return true;
  return false;
}

function censorKeys(value: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = Array.isArray(value) ? Object.assign([], value) : { ...value };
  for (const key of Object.keys(copy)) if (REDACTED.has(key)) copy[key] = CENSOR;
  return copy;
}

/** What pino's redaction did to an interpolated object: its own keys and one level down. */
function maskInterpolated(args: unknown[]): unknown[] {
  const first = typeof args[0] === 'string' ? 1 : 2;
  return args.map((arg, index) => (index >= first && arg !== null && typeof arg === 'object' ? censorKeys(maskNested(arg as Record<string, unknown>)) : arg));
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
