import type { ImagingStudy } from '@medplum/fhirtypes';

/**
 * fhir-mapping.md: an ImagingStudy is an order for Avara when it is `registered` or `available`,
 * based on a ServiceRequest, and not one we wrote ourselves (those carry the Avara study-id
 * identifier). A missing DICOM UID does not exclude it: it becomes a per-order error a person sees.
 */
export function isOrderCandidate(study: ImagingStudy, avaraStudyIdSystem: string): boolean {
  if (study.status !== 'registered' && study.status !== 'available') return false;
  if (!study.basedOn?.some((ref) => ref.reference?.startsWith('ServiceRequest/'))) return false;
  return !study.identifier?.some((i) => i.system === avaraStudyIdSystem);
}
