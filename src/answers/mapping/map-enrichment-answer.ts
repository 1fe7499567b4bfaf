import { birthDateOf, compact, conceptText, facilityNameOf, mrnValue, nameText, severityOf, sexOf } from '../../fhir/element-text.ts';
import { toLocalDateTime } from '../../fhir/local-date-time.ts';
import { heightMetres, weightKg } from './body-measures.ts';
import type { EnrichmentAnswer, FoundOrder, SyncAnswerOptions } from './answer-types.ts';

/**
 * avara-api.md §7.3.6 from what the EHR has: the fields fhir-mapping.md "The other direction"
 * sends with an order, read the same way. Avara merges them over the DICOM header field by
 * field, so a field we cannot read is left out rather than sent empty.
 */
export function mapEnrichmentAnswer(found: FoundOrder, options: Pick<SyncAnswerOptions, 'mrnSystem' | 'studyTimeZone'>): EnrichmentAnswer {
  const { patient, serviceRequest: order, imagingStudy: study } = found;
  const procedure = order ? conceptText(order.code) : undefined;
  const heightM = heightMetres(found.measures?.height);
  const weight = weightKg(found.measures?.weight);
  // The study's own start wins; an order that has no ImagingStudy yet still says when it was scheduled.
  const when = study?.started ?? order?.occurrenceDateTime ?? order?.occurrencePeriod?.start;
  return compact({
    ...(patient
      ? {
          patientName: nameText(patient.name?.[0]),
          mrn: mrnValue(patient, options.mrnSystem),
          externalPatientId: patient.id ? `Patient/${patient.id}` : undefined,
          dateOfBirth: birthDateOf(patient),
          sex: sexOf(patient),
          height: heightM !== undefined ? { unit: 'cm' as const, value: round(heightM * 100, 1) } : undefined,
          weight: weight !== undefined ? { unit: 'kg' as const, value: round(weight, 1) } : undefined,
        }
      : {}),
    ...(order
      ? {
          facilityName: facilityNameOf(order),
          referringPhysicianName: order.requester?.display ?? (found.requester ? nameText(found.requester.name?.[0]) : undefined),
          procedure,
          severity: severityOf(order),
        }
      : {}),
    studyDescription: study?.description ?? procedure,
    ...(order || study ? toLocalDateTime(when, options.studyTimeZone) : {}),
  });
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
