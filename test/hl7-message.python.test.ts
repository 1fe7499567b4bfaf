import type { Attachment, DiagnosticReport } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { currentMetadata } from '../src/deliveries/mapping/current-metadata.ts';
import { mapDiagnosticReport } from '../src/deliveries/mapping/map-diagnostic-report.ts';
import { createMappingContext } from '../src/deliveries/mapping/mapping-context.ts';
import { orderSignedReports } from '../src/deliveries/mapping/order-signed-reports.ts';
import { buildHl7Message } from '../src/deliveries/targets/hl7v2/mapping/build-hl7-message.ts';
import type { Hl7MessageInput, Hl7MessageOptions } from '../src/deliveries/targets/hl7v2/mapping/hl7-message-input.ts';
import { mappingOptions } from './fixtures/mapping-fixtures.ts';
import { HL7_SCENARIOS, hl7Options } from './fixtures/hl7-scenarios.ts';
import { pythonComponents, readHl7WithPython, type PythonSegment } from './support/read-hl7-with-python.ts';

// Each golden scenario's message read by Debian's python3-hl7, against what the FHIR mapping
// delivers for the same study: the same text, impression and PDF bytes, on the same identifiers.
const cases = HL7_SCENARIOS.map((scenario) => {
  const input = scenario.input();
  const options = hl7Options(scenario.options);
  return { scenario, input, options, message: buildHl7Message(input, options) };
});
const parsed = readHl7WithPython(cases.map((c) => c.message.text));

describe('HL7 v2 messages as python-hl7 reads them', () => {
  cases.forEach(({ scenario, input, options, message }, index) => {
    const segments = parsed[index]!;
    const field = (name: string, n: number, occurrence = 0) => segments.filter((s) => s.name === name)[occurrence]?.fields[n];

    describe(scenario.title, () => {
      it('has the message type, control id, version and character set in MSH', () => {
        expect(pythonComponents(field('MSH', 9)).join('^')).toBe(message.messageType);
        expect(pythonComponents(field('MSH', 10))).toEqual([message.controlId]);
        expect(pythonComponents(field('MSH', 12))).toEqual(['2.5.1']);
        expect(pythonComponents(field('MSH', 18))).toEqual(['UNICODE UTF-8']);
      });

      it('identifies the patient by MRN and external id in PID-3 and names them in PID-5', () => {
        const pid3 = field('PID', 3)!.map((_, r) => pythonComponents(field('PID', 3), r));
        expect(pid3).toEqual(expectedPatientIdentifiers(input, options));
        expect(pythonComponents(field('PID', 5))).toEqual(scenario.pid5);
      });

      it('has the result status in OBR-25 and OBX-11, and AA in OBX-8 when a signed report is critical', () => {
        const signed = orderSignedReports(input.reports);
        const status = options.messageType === 'ORU^R01' && signed.some((r) => r.report.isAddendum) ? 'C' : 'F';
        const observations = segments.filter((s) => s.name === 'OBX');
        if (options.messageType === 'ORU^R01') expect(pythonComponents(field('OBR', 25))).toEqual([status]);
        expect(observations.map((s) => pythonComponents(s.fields[11]))).toEqual(observations.map(() => [status]));
        const flags = observations.map((s) => pythonComponents(s.fields[8])[0]).filter((flag) => flag !== '');
        expect(flags).toEqual(signed.some((r) => r.report.isCritical) ? ['AA'] : []);
      });

      it('carries the text, impression and PDF the FHIR DiagnosticReport carries, with set ids 1..n', () => {
        const report = fhirDiagnosticReport(input);
        const observations = segments.filter((s) => s.name === 'OBX');
        expect(observations.map((s) => pythonComponents(s.fields[1]))).toEqual(observations.map((_, i) => [String(i + 1)]));
        expect(observationValue(observations, '18748-4')).toBe(inHl7LineBreaks(textOf(report.presentedForm)));
        expect(observationValue(observations, '19005-8')).toBe(inHl7LineBreaks(report.conclusion));
        const pdf = report.presentedForm!.find((a) => a.contentType === 'application/pdf')!;
        const ed = observations.find((s) => s.edBytesHex !== undefined);
        expect(ed?.edBytesHex).toBe(options.embedPdf ? Buffer.from(pdf.data!, 'base64').toString('hex') : undefined);
      });
    });
  });
});

function expectedPatientIdentifiers(input: Hl7MessageInput, options: Hl7MessageOptions): string[][] {
  const latest = orderSignedReports(input.reports).at(-1)!;
  const mrn = currentMetadata(input.study, latest.report.snapshotMetadata).mrn;
  const externalId = input.study.externalPatientId?.trim();
  return [
    ...(mrn ? [[mrn, '', '', options.mrnAssigningAuthority ?? '', 'MR']] : []),
    ...(externalId ? [[externalId, '', '', 'AVARA', 'PI']] : []),
  ];
}

function fhirDiagnosticReport(input: Hl7MessageInput): DiagnosticReport {
  const deliveryInput = { ...input, patient: { kind: 'existing' as const, reference: 'Patient/1' } };
  return mapDiagnosticReport(createMappingContext(deliveryInput, mappingOptions()));
}

function observationValue(observations: PythonSegment[], loinc: string): string | undefined {
  const observation = observations.find((s) => s.fields[3]?.[0]?.[0]?.[0] === loinc);
  if (!observation) return undefined;
  // FT is one component: a delimiter in the text left unescaped would split it.
  expect(observation.fields[5]).toHaveLength(1);
  const components = pythonComponents(observation.fields[5]);
  expect(components).toHaveLength(1);
  return components[0];
}

function textOf(forms: Attachment[] | undefined): string | undefined {
  const text = forms?.find((a) => a.contentType?.startsWith('text/plain'));
  return text ? Buffer.from(text.data!, 'base64').toString('utf8') : undefined;
}

// python-hl7 reads \.br\ as \r (HL7 2.5.1 §2.7.6), whatever line ending the text had.
function inHl7LineBreaks(text: string | undefined): string | undefined {
  return text?.replace(/\r\n|\r|\n/g, '\r');
}
