import { Hl7Context, Hl7Field, Hl7Segment } from '@medplum/core';
import { escapeHl7 } from '../../../../hl7/escape-hl7.ts';

/** One value; absent and '' both leave the position empty. */
export type Hl7Value = string | undefined;

/**
 * One component: a value, subcomponents in order (e.g. the CNN inside OBR-32), or a value that
 * cannot hold a delimiter by construction (base64), written as it is: escaping a 300 KB PDF
 * scans it for nothing on every delivery.
 */
export type Hl7Component = Hl7Value | { subcomponents: readonly Hl7Value[] } | { base64: string };

/** A field: one value, its components in order, or repetitions of components. */
export type Hl7FieldValue = Hl7Component | readonly Hl7Component[] | { repetitions: readonly (readonly Hl7Component[])[] };

const CONTEXT = new Hl7Context();

/**
 * A segment from its fields by HL7 field number (`{ 3: ..., 5: ... }`, as the contract's tables
 * number them). Every value is escaped here, and only here: @medplum/core 4.5.2 writes values raw,
 * so no caller can forget. Empty trailing components and fields are left out, as HL7 encoding
 * rules allow, so the same content always yields the same bytes.
 */
export function buildSegment(name: string, fields: Readonly<Record<number, Hl7FieldValue>>): Hl7Segment {
  // MSH-1 is the field separator itself and MSH-2 the other delimiters: Medplum keeps MSH-2 as the
  // segment's first field after the name, so MSH field n sits at position n - 1.
  const first = name === 'MSH' ? 3 : 1;
  const last = Math.max(0, ...Object.keys(fields).map(Number));
  const rendered: string[][][] = [];
  for (let n = first; n <= last; n++) rendered.push(renderField(fields[n]));
  while (rendered.length > 0 && isEmptyField(rendered[rendered.length - 1]!)) rendered.pop();
  const head = name === 'MSH' ? [[[name]], [[CONTEXT.getMsh2()]]] : [[[name]]];
  return new Hl7Segment([...head, ...rendered].map((components) => new Hl7Field(components, CONTEXT)), CONTEXT);
}

function renderField(value: Hl7FieldValue | undefined): string[][] {
  if (isRepetitions(value)) return value.repetitions.length > 0 ? value.repetitions.map(renderComponents) : [['']];
  return [renderComponents(Array.isArray(value) ? (value as readonly Hl7Component[]) : [value as Hl7Component])];
}

function renderComponents(components: readonly Hl7Component[]): string[] {
  return trimTrailingEmpty(components.map(renderComponent));
}

function renderComponent(component: Hl7Component): string {
  if (component === undefined || typeof component === 'string') return escapeHl7(component ?? '');
  if ('base64' in component) return component.base64;
  return trimTrailingEmpty(component.subcomponents.map((part) => escapeHl7(part ?? ''))).join(CONTEXT.subcomponentSeparator);
}

function trimTrailingEmpty(parts: string[]): string[] {
  const kept = [...parts];
  while (kept.length > 1 && kept[kept.length - 1] === '') kept.pop();
  return kept.length > 0 ? kept : [''];
}

function isEmptyField(repetitions: string[][]): boolean {
  return repetitions.every((components) => components.every((c) => c === ''));
}

function isRepetitions(value: Hl7FieldValue | undefined): value is { repetitions: readonly (readonly Hl7Component[])[] } {
  return typeof value === 'object' && value !== null && 'repetitions' in value;
}
