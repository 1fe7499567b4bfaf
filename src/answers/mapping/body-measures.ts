import type { Observation } from '@medplum/fhirtypes';

// LOINC body height and body weight, the vital-signs codes US Core requires.
export const BODY_HEIGHT_CODE = '8302-2';
export const BODY_WEIGHT_CODE = '29463-7';

const TO_METRES: Record<string, number> = { m: 1, cm: 0.01, mm: 0.001, '[in_i]': 0.0254, in: 0.0254, '[ft_i]': 0.3048 };
const TO_KG: Record<string, number> = { kg: 1, g: 0.001, '[lb_av]': 0.45359237, lb: 0.45359237, lbs: 0.45359237 };

export function heightMetres(observation: Observation | undefined): number | undefined {
  return convert(observation, TO_METRES, 0.2, 3);
}

export function weightKg(observation: Observation | undefined): number | undefined {
  return convert(observation, TO_KG, 0.2, 700);
}

/** UCUM `code` first, the display `unit` second; out of a plausible human range -> nothing. */
function convert(observation: Observation | undefined, factors: Record<string, number>, min: number, max: number): number | undefined {
  const quantity = observation?.valueQuantity;
  if (!quantity || typeof quantity.value !== 'number' || (observation?.status !== undefined && !['final', 'amended', 'corrected', 'preliminary'].includes(observation.status))) return undefined;
  const factor = factors[quantity.code ?? ''] ?? factors[quantity.unit ?? ''];
  if (factor === undefined) return undefined;
  const value = quantity.value * factor;
  return value >= min && value <= max ? value : undefined;
}

/** The newest of each measure (effective time, else issued), from any mix of Observations. */
export function latestMeasures(observations: Observation[]): { height?: Observation; weight?: Observation } {
  const newest = (code: string) =>
    observations
      .filter((o) => o.code?.coding?.some((c) => c.code === code) && o.status !== 'entered-in-error')
      .sort((a, b) => observedAt(b) - observedAt(a) || (a.id ?? '').localeCompare(b.id ?? ''))[0];
  return { height: newest(BODY_HEIGHT_CODE), weight: newest(BODY_WEIGHT_CODE) };
}

function observedAt(o: Observation): number {
  const at = Date.parse(o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.issued ?? '');
  return Number.isNaN(at) ? 0 : at;
}
