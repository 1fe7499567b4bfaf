import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

/** 401 `{message}` for a missing or unknown key (avara-api.md §1.2). */
export function requireApiKey(apiKey: string): RequestHandler {
  const want = Buffer.from(`Bearer ${apiKey}`);
  return (req, res, next) => {
    const got = Buffer.from(req.headers.authorization ?? '');
    if (got.length === want.length && timingSafeEqual(got, want)) return next();
    res.status(401).json({ message: req.headers.authorization ? 'Invalid API key' : 'Missing API key' });
  };
}
