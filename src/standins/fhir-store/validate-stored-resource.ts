import { OperationOutcomeError, badRequest, validateResource } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';

// Medplum's validator caps every primitive string at 1 MiB, FHIR's limit for `string`. R4 sets no
// such limit for base64Binary, and delivery bundles carry report PDFs inline (Attachment.data), so
// a 1 MB PDF would be refused. Large `data` values (Attachment, Binary, Signature) are checked for
// base64 here and replaced by a stand-in for the rest of the validation.
const MEDPLUM_STRING_LIMIT = 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const STAND_IN = 'AAAA';

/** Throws an OperationOutcomeError (400) when the resource does not conform to the R4 definitions. */
export function validateStoredResource(resource: Resource): void {
  validateResource(withLargeDataStubbed(resource, resource.resourceType) as Resource);
}

function withLargeDataStubbed(value: unknown, path: string): unknown {
  if (Array.isArray(value)) return value.map((item, i) => withLargeDataStubbed(item, `${path}[${i}]`));
  if (!value || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === 'data' && typeof item === 'string' && item.length > MEDPLUM_STRING_LIMIT) {
      if (item.length % 4 !== 0 || !BASE64.test(item)) {
        throw new OperationOutcomeError(badRequest('Invalid base64Binary format', `${path}.data`));
      }
      copy[key] = STAND_IN;
    } else {
      copy[key] = withLargeDataStubbed(item, `${path}.${key}`);
    }
  }
  return copy;
}
