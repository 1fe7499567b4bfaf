import { getStatus } from '@medplum/core';
import type { FhirResponse } from '@medplum/fhir-router';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { Response } from 'express';

export const FHIR_JSON = 'application/fhir+json';

/** Where the request was addressed: the FHIR base URL and the request path + query under it. */
export type RequestAddress = { baseUrl: string; relativeUrl: string };

/** Writes a router answer as FHIR over HTTP: status, versioned Location/ETag, bundle links. */
export function writeFhirResponse(res: Response, [outcome, resource]: FhirResponse, address: RequestAddress): void {
  const status = getStatus(outcome);
  res.status(status).type(FHIR_JSON);
  if (!resource) {
    res.send(JSON.stringify(outcome));
    return;
  }
  if (resource.resourceType === 'Bundle') {
    decorateBundle(resource, address);
  } else if (resource.id && resource.meta?.versionId) {
    res.setHeader('ETag', `W/"${resource.meta.versionId}"`);
    if (resource.meta.lastUpdated) res.setHeader('Last-Modified', new Date(resource.meta.lastUpdated).toUTCString());
    if (status === 201) res.setHeader('Location', `${address.baseUrl}/${versionedReference(resource)}`);
  }
  res.send(JSON.stringify(resource));
}

function decorateBundle(bundle: Bundle, address: RequestAddress): void {
  if (bundle.type === 'searchset') {
    for (const entry of bundle.entry ?? []) {
      if (entry.resource) entry.fullUrl = fullUrl(address, entry.resource);
      entry.search = { mode: 'match' };
    }
    bundle.link = pageLinks(bundle, address);
  } else if (bundle.type === 'transaction-response' || bundle.type === 'batch-response') {
    bundle.entry?.forEach((entry) => decorateWriteResult(entry, address));
  }
}

/**
 * Medplum answers `location: Type/id`; FHIR transaction responses carry the version
 * (`Type/id/_history/vid`) and an ETag, which is what a client records as "what it wrote".
 */
function decorateWriteResult(entry: BundleEntry, address: RequestAddress): void {
  const resource = entry.resource;
  const versionId = resource?.meta?.versionId;
  if (!resource?.id || !entry.response) return;
  entry.fullUrl = fullUrl(address, resource);
  if (!versionId) return;
  entry.response.location = versionedReference(resource);
  entry.response.etag = `W/"${versionId}"`;
  entry.response.lastModified = resource.meta?.lastUpdated;
}

function pageLinks(bundle: Bundle, address: RequestAddress): Bundle['link'] {
  const self = new URL(`${address.baseUrl}/${address.relativeUrl.replace(/^\//, '')}`);
  const links = [{ relation: 'self', url: self.toString() }];
  const count = Number(self.searchParams.get('_count') ?? NaN);
  const offset = Number(self.searchParams.get('_offset') ?? 0);
  if (Number.isInteger(count) && count > 0 && offset + count < (bundle.total ?? 0)) {
    const next = new URL(self);
    next.searchParams.set('_offset', String(offset + count));
    links.push({ relation: 'next', url: next.toString() });
  }
  return links;
}

function fullUrl(address: RequestAddress, resource: Resource): string {
  return `${address.baseUrl}/${resource.resourceType}/${resource.id}`;
}

function versionedReference(resource: Resource): string {
  return `${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`;
}
