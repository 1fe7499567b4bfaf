import type { CodeableConcept, HumanName, Patient, ServiceRequest } from '@medplum/fhirtypes';

// Reading the few FHIR elements both directions need (orders and the synchronous answers),
// the same way: fhir-mapping.md "The other direction".

export function nameText(name: HumanName | undefined): string | undefined {
  if (!name) return undefined;
  return name.text ?? joinedText([...(name.given ?? []), name.family], ' ');
}

export function conceptText(concept: CodeableConcept | undefined): string | undefined {
  return concept?.text ?? concept?.coding?.find((c) => c.display)?.display;
}

/** The ServiceRequest identifier typed `ACSN` (HL7 v2-0203). */
export function accessionNumber(order: ServiceRequest): string | undefined {
  return order.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'ACSN'))?.value;
}

export function mrnValue(patient: Patient, system: string): string | undefined {
  return patient.identifier?.find((i) => i.system === system)?.value;
}

export function birthDateOf(patient: Patient): string | undefined {
  return patient.birthDate && /^\d{4}-\d{2}-\d{2}$/.test(patient.birthDate) ? patient.birthDate : undefined;
}

/** `unknown` and absent map to nothing: Avara knows only male/female/other. */
export function sexOf(patient: Patient): 'male' | 'female' | 'other' | undefined {
  return patient.gender === 'male' || patient.gender === 'female' || patient.gender === 'other' ? patient.gender : undefined;
}

const SEVERITY: Record<string, 'normal' | 'high' | 'stat'> = { routine: 'normal', urgent: 'high', asap: 'stat', stat: 'stat' };

export function severityOf(order: ServiceRequest): 'normal' | 'high' | 'stat' {
  return SEVERITY[order.priority ?? 'routine'] ?? 'normal';
}

export function facilityNameOf(order: ServiceRequest): string | undefined {
  return order.performer?.find((p) => p.display)?.display ?? order.locationReference?.find((l) => l.display)?.display;
}

export function joinedText(values: (string | undefined)[], separator: string): string | undefined {
  const present = values.filter((v): v is string => !!v && v.trim() !== '');
  return present.length > 0 ? present.join(separator) : undefined;
}

/** Drops undefined values so absent FHIR elements are absent keys, not `undefined`s in JSON. */
export function compact<T extends Record<string, unknown>>(record: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as never;
}
