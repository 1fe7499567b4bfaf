import type { Request, RequestHandler, Response, Router } from 'express';
import type { FaultSwitches } from './fault-switches.ts';

type Method = 'get' | 'post' | 'patch';

/**
 * Registers a sandbox route under its templated name ("GET /v1/autoScribe/studies/{studyId}"),
 * counting every call and applying that route's fault switch before the real handler runs.
 */
export function addRoute(
  router: Router,
  faults: FaultSwitches,
  method: Method,
  template: string,
  ...handlers: RequestHandler[]
): void {
  const routeName = `${method.toUpperCase()} ${template}`;
  // Express 5 reads "{x}" as an optional segment, so templates become ":x" parameters.
  const expressPath = template.replace(/\{(\w+)\}/g, ':$1');
  router[method](expressPath, async (req: Request, res: Response, next) => {
    faults.countCall(routeName);
    const fault = faults.takeFault(routeName);
    if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (fault?.status === undefined) return next();
    if (fault.retryAfterSeconds !== undefined) res.set('Retry-After', String(fault.retryAfterSeconds));
    if (fault.retryAfterMs !== undefined) res.set('retry-after-ms', String(fault.retryAfterMs));
    if (fault.shouldRetry !== undefined) res.set('x-should-retry', String(fault.shouldRetry));
    res.status(fault.status).json({ message: `Simulated failure (${fault.status})` });
  }, ...handlers);
}

/** Query values exactly as sent: one string per key, "" for an empty value, null when absent. */
export function queryParam(req: Request, key: string): string | null {
  return new URL(req.originalUrl, 'http://sandbox.invalid').searchParams.get(key);
}
