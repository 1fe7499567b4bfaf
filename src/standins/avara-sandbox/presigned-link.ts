import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// Avara's PDF links live one hour (avara-api.md §5.10); storage answers 403 after that, like S3.
export const PDF_LINK_TTL_SECONDS = 3600;

export interface Presigner {
  issue(baseUrl: string, reportId: string, nowSeconds: number, ttlSeconds: number): string;
  check(fileName: string, expires: string | null, sig: string | null, nowSeconds: number): 'ok' | 'expired' | 'bad_signature';
}

export function createPresigner(secret: Uint8Array = randomBytes(32)): Presigner {
  const sign = (fileName: string, expires: number): string =>
    createHmac('sha256', secret).update(`${fileName}:${expires}`).digest('base64url');
  return {
    issue(baseUrl, reportId, nowSeconds, ttlSeconds) {
      const fileName = `${reportId}.pdf`;
      const expires = nowSeconds + ttlSeconds;
      return `${baseUrl}/_files/${fileName}?expires=${expires}&sig=${sign(fileName, expires)}`;
    },
    check(fileName, expires, sig, nowSeconds) {
      const expiresAt = Number(expires);
      if (!expires || !sig || !Number.isInteger(expiresAt)) return 'bad_signature';
      const want = Buffer.from(sign(fileName, expiresAt));
      const got = Buffer.from(sig);
      if (got.length !== want.length || !timingSafeEqual(got, want)) return 'bad_signature';
      return nowSeconds >= expiresAt ? 'expired' : 'ok';
    },
  };
}
