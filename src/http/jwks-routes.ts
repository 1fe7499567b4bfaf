import { Router } from 'express';
import type { JSONWebKeySet } from 'jose';

/**
 * GET /.well-known/jwks.json, without auth: the EHR's SMART registration fetches it (design.md).
 * Absent unless FHIR_AUTH=private_key_jwt, so the route answers 404 then.
 */
export function jwksRouter(jwks: JSONWebKeySet | undefined): Router {
  const router = Router();
  if (jwks) {
    router.get('/.well-known/jwks.json', (_req, res) => {
      // Short cache: after a key rotation the EHR must see the new key soon.
      res.set('Cache-Control', 'public, max-age=300').json(jwks);
    });
  }
  return router;
}
