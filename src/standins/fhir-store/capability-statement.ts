import { getResourceTypes, globalSchema } from '@medplum/core';
import type {
  CapabilityStatement,
  CapabilityStatementRestResource,
  CapabilityStatementRestResourceSearchParam,
  ResourceType,
} from '@medplum/fhirtypes';
import { INDEXED_SEARCH_PARAMS } from './search-index.ts';

const ADVERTISED_SEARCH_PARAMS = [...INDEXED_SEARCH_PARAMS, '_id', '_lastUpdated'];

const INTERACTIONS = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'create', 'search-type'] as const;

let resources: CapabilityStatementRestResource[] | undefined;

/** What the embedded store supports, for `doctor`-style capability checks and generic clients. */
export function buildCapabilityStatement(baseUrl: string): CapabilityStatement {
  resources ??= getResourceTypes().map(describeResource);
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'avara-fhir-sync embedded FHIR store' },
    implementation: { description: 'In-memory FHIR R4 store for development and tests', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        documentation: 'identifier, _tag, subject and patient searches are indexed; other parameters scan',
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
        resource: resources,
      },
    ],
  };
}

function describeResource(type: ResourceType): CapabilityStatementRestResource {
  const definitions = globalSchema.types[type]?.searchParams ?? {};
  const searchParam: CapabilityStatementRestResourceSearchParam[] = [];
  for (const name of ADVERTISED_SEARCH_PARAMS) {
    const definition = definitions[name];
    if (definition) searchParam.push({ name, type: definition.type, definition: definition.url });
  }
  return {
    type,
    interaction: INTERACTIONS.map((code) => ({ code })),
    versioning: 'versioned',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalUpdate: true,
    conditionalDelete: 'single',
    searchParam,
  };
}
