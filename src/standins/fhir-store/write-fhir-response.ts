import { getStatus } from '@medplum/core';
import type { FhirResponse } from '@medplum/fhir-router';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { Response } from 'express';

export const FHIR_JSON = 'application/fhir+json';

/** Where the request was addressed: the FHIR base URL and the request path + query under it. */
export type RequestAddress = { baseUrl: string; relativeUrl: string };

/** How the client asked to be answered: `Prefer: return=minimal` (FHIR http.html#ops). */
export type AnswerPreference = { returnMinimal: boolean };

/** Writes a router answer as FHIR over HTTP: status, versioned Location/ETag, bundle links. */
export function writeFhirResponse(res: Response, [outcome, resource]: FhirResponse, address: RequestAddress, preference: AnswerPreference = { returnMinimal: false }): void {
  const status = getStatus(outcome);
  res.status(status).type(FHIR_JSON);
  if (!resource) {
    res.send(JSON.stringify(outcome));
    return;
  }
  if (resource.resourceType === 'Bundle') {
    decorateBundle(resource, address, preference);
  } else if (resource.id && resource.meta?.versionId) {
    res.setHeader('ETag', `W/"${resource.meta.versionId}"`);
    if (resource.meta.lastUpdated) res.setHeader('Last-Modified', new Date(resource.meta.lastUpdated).toUTCString());
    if (status === 201) res.setHeader('Location', `${address.baseUrl}/${versionedReference(resource)}`);
    if (preference.returnMinimal && isWrite(res.req.method)) {
      res.end();
      return;
    }
  }
  res.send(JSON.stringify(resource));
}

function isWrite(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH';
}

function decorateBundle(bundle: Bundle, address: RequestAddress, preference: AnswerPreference): void {
  if (bundle.type === 'searchset') {
    const elements = requestedElements(address);
    for (const entry of bundle.entry ?? []) {
      if (entry.resource) entry.fullUrl = fullUrl(address, entry.resource);
      if (entry.resource && elements) entry.resource = subsetted(entry.resource, elements);
      entry.search = { mode: 'match' };
    }
    bundle.link = pageLinks(bundle, address);
  } else if (bundle.type === 'transaction-response' || bundle.type === 'batch-response') {
    bundle.entry?.forEach((entry) => {
      decorateWriteResult(entry, address);
      // Status, location and ETag stay: that is what a client records as what it wrote.
      if (preference.returnMinimal) delete entry.resource;
    });
  }
}

/** `_elements=a,b`: the top-level elements asked for (FHIR search.html#elements); Medplum's memory search ignores it. */
function requestedElements(address: RequestAddress): Set<string> | undefined {
  const query = address.relativeUrl.split(/\?(.*)/s)[1];
  const value = query ? new URLSearchParams(query).get('_elements') : null;
  return value ? new Set(value.split(',').map((name) => name.trim()).filter(Boolean)) : undefined;
}

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };

/** The asked-for elements plus what every resource keeps (type, id, meta), tagged SUBSETTED as the spec asks. */
function subsetted(resource: Resource, elements: Set<string>): Resource {
  const kept = Object.fromEntries(Object.entries(resource).filter(([name]) => elements.has(name) || name === 'resourceType' || name === 'id' || name === 'meta'));
  const meta = { ...resource.meta, tag: [...(resource.meta?.tag ?? []), SUBSETTED] };
  return { ...kept, meta } as Resource;
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
