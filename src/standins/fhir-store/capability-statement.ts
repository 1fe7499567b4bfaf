import { getResourceTypes, globalSchema } from '@medplum/core';
import type {
  CapabilityStatement,
  CapabilityStatementRestResource,
  CapabilityStatementRestResourceSearchParam,
  ResourceType,
} from '@medplum/fhirtypes';
import { READ_ONLY_TYPES, type EhrMode } from './documents-mode.ts';
import { INDEXED_SEARCH_PARAMS } from './search-index.ts';

const ADVERTISED_SEARCH_PARAMS = [...INDEXED_SEARCH_PARAMS, '_id', '_lastUpdated'];

const INTERACTIONS = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'create', 'search-type'] as const;
const READ_INTERACTIONS = ['read', 'vread', 'search-type'] as const;

const resourcesByMode = new Map<EhrMode, CapabilityStatementRestResource[]>();

/**
 * What the embedded store supports, for `doctor`-style capability checks and generic clients.
 * In documents mode it states exactly what the mode refuses, so a missing capability can be named.
 */
export function buildCapabilityStatement(baseUrl: string, ehr: EhrMode = 'transactions'): CapabilityStatement {
  let resources = resourcesByMode.get(ehr);
  if (!resources) {
    resources = getResourceTypes().map((type) => describeResource(type, ehr));
    resourcesByMode.set(ehr, resources);
  }
  const documents = ehr === 'documents';
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
        // FHIR JSON has no empty arrays: documents mode leaves the system interactions out.
        ...(documents ? {} : { interaction: [{ code: 'transaction' as const }, { code: 'batch' as const }] }),
        resource: resources,
      },
    ],
  };
}

function describeResource(type: ResourceType, ehr: EhrMode): CapabilityStatementRestResource {
  const definitions = globalSchema.types[type]?.searchParams ?? {};
  const searchParam: CapabilityStatementRestResourceSearchParam[] = [];
  for (const name of ADVERTISED_SEARCH_PARAMS) {
    const definition = definitions[name];
    if (definition) searchParam.push({ name, type: definition.type, definition: definition.url });
  }
  if (ehr === 'documents') {
    const readOnly = READ_ONLY_TYPES.has(type);
    return {
      type,
      interaction: (readOnly ? READ_INTERACTIONS : INTERACTIONS).map((code) => ({ code })),
      versioning: 'versioned',
      readHistory: !readOnly,
      updateCreate: !readOnly,
      conditionalCreate: false,
      conditionalUpdate: false,
      conditionalDelete: 'not-supported',
      searchParam,
    };
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
