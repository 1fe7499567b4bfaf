import type { ImagingStudy, ServiceRequest } from '@medplum/fhirtypes';
import type { Study } from '../avara/schemas.ts';
import type { FhirClient } from '../fhir/fhir-client.ts';
import type { EhrOrderFacts } from './mapping/delivery-input.ts';

/**
 * For a study created from an EHR order, what the EHR itself says (fhir-mapping.md accession and
 * `effectiveDateTime` rows): the order's accession as the EHR assigned it, and the time of its own
 * ImagingStudy (Avara keeps minutes, in a zone-less form). Read fresh on every delivery: the EHR
 * may correct either after the order was sent. Searched by `_id`, so a resource deleted in the
 * EHR since is simply absent and Avara's copies are used instead.
 */
export async function readEhrOrder(fhir: FhirClient, study: Study): Promise<EhrOrderFacts | undefined> {
  const serviceRequestId = idOf(study.metadata?.fhirServiceRequest, 'ServiceRequest');
  const imagingStudyId = idOf(study.metadata?.fhirImagingStudy, 'ImagingStudy');
  if (serviceRequestId === undefined && imagingStudyId === undefined) return undefined;
  const [serviceRequests, imagingStudies] = await Promise.all([
    serviceRequestId ? fhir.search<ServiceRequest>('ServiceRequest', { _id: serviceRequestId }) : [],
    imagingStudyId ? fhir.search<ImagingStudy>('ImagingStudy', { _id: imagingStudyId }) : [],
  ]);
  const accession = serviceRequests[0]?.identifier?.find((i) => i.value && i.type?.coding?.some((c) => c.code === 'ACSN'));
  const started = imagingStudies[0]?.started;
  return { ...(accession ? { accession } : {}), ...(started ? { started } : {}) };
}

// Integrator metadata is free text: only a well-formed reference of the expected type is followed.
function idOf(reference: string | undefined, type: 'ServiceRequest' | 'ImagingStudy'): string | undefined {
  const match = new RegExp(`^${type}/([A-Za-z0-9\\-.]{1,64})$`).exec(reference?.trim() ?? '');
  return match?.[1];
}
