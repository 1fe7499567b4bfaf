import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { createFhirClient } from '../src/fhir/fhir-client.ts';
import { writeSigningKey } from './support/smart-signing-keys.ts';

describe('avara-fhir-sync fhir-server --auth smart', () => {
  let child: ChildProcessWithoutNullStreams | undefined;
  let dir: string | undefined;
  afterEach(() => {
    child?.kill('SIGKILL');
    child = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('takes a JWKS file and a client id, then serves only clients holding that key', async () => {
    dir = mkdtempSync(join(tmpdir(), 'afs-smart-cli-'));
    const key = await writeSigningKey(dir, 'RS384');
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify(key.jwks));
    child = spawn(process.execPath, ['src/cli-entry.mjs', 'fhir-server', '--port', '0', '--auth', 'smart', '--jwks', jwksFile, '--client-id', 'cli-client'], { env: { PATH: process.env.PATH ?? '' } });
    const first = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next();
    const { baseUrl } = JSON.parse(String(first.value)) as { baseUrl: string };
    expect((await fetch(`${baseUrl}/Patient`)).status).toBe(401);
    const client = createFhirClient({
      baseUrl,
      auth: { kind: 'private_key_jwt', clientId: 'cli-client', privateKeyFile: key.file, keyId: undefined, scopes: 'system/Patient.read', tokenUrl: undefined },
      maxRetries: 0,
    });
    await expect(client.search('Patient', {})).resolves.toEqual([]);
  });

  it('refuses --auth smart without --jwks', async () => {
    child = spawn(process.execPath, ['src/cli-entry.mjs', 'fhir-server', '--port', '0', '--auth', 'smart', '--client-id', 'x'], { env: { PATH: process.env.PATH ?? '' } });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    const code = await new Promise<number | null>((resolve) => child!.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('avara-fhir-sync: --auth smart needs --jwks <file or URL> and --client-id <id>');
  });
});
