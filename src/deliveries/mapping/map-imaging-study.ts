import type { Identifier, ImagingStudy } from '@medplum/fhirtypes';
import { dicomModalityCoding } from './dicom-modality.ts';
import { dicomUidValue } from './identifier-systems.ts';
import type { MappingContext } from './mapping-context.ts';

/**
 * The study as FHIR sees it (fhir-mapping.md "ImagingStudy"). Written as a conditional create on
 * the DICOM UID: a study the PACS registered first is left exactly as it is.
 */
export function mapImagingStudy(context: MappingContext): ImagingStudy {
  const { study, metadata } = context;
  const modality = dicomModalityCoding(study.modality);
  const clinicalIndication = study.clinicalIndication?.trim();
  return {
    resourceType: 'ImagingStudy',
    identifier: imagingStudyIdentifiers(context),
    status: study.isCancelled ? 'cancelled' : 'available',
    subject: { reference: context.refs.patient },
    ...(context.started ? { started: context.started } : {}),
    ...(modality ? { modality: [modality] } : {}),
    description: study.studyDescription,
    ...(metadata.procedure ? { procedureCode: [{ text: metadata.procedure }] } : {}),
    ...(clinicalIndication ? { reasonCode: [{ text: clinicalIndication }] } : {}),
    ...(metadata.referringPhysicianName ? { referrer: { display: metadata.referringPhysicianName } } : {}),
    ...(metadata.facilityName ? { location: { display: metadata.facilityName } } : {}),
  };
}

export function dicomUidIdentifier(context: MappingContext): Identifier {
  return { system: context.systems.dicomUid, value: dicomUidValue(context.study.studyInstanceUid) };
}

export function studyIdIdentifier(context: MappingContext): Identifier {
  return { system: context.systems.studyId, value: context.study.studyId };
}

// A copy for each resource, so no two resources of the bundle share one object.
export function accessionIdentifiers(context: MappingContext): Identifier[] {
  return context.accession ? [structuredClone(context.accession)] : [];
}

function imagingStudyIdentifiers(context: MappingContext): Identifier[] {
  return [dicomUidIdentifier(context), studyIdIdentifier(context), ...accessionIdentifiers(context)];
}
