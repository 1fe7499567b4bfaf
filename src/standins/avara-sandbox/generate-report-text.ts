import type { SeededRandom } from './seeded-random.ts';
import { GENERAL_REMARKS, type ProcedureTemplate } from './procedure-catalog.ts';

// Real reports run 2-6 KB; pad with neutral remarks below this so byte-size handling gets exercised.
const MIN_REPORT_BYTES = 2300;

export interface ReportTextContext {
  template: ProcedureTemplate;
  studyDate: string;
  studyTime: string;
  signerName: string;
  signedAt: string;
}

/** A signed report in the usual EXAM / INDICATION / TECHNIQUE / FINDINGS / IMPRESSION layout. */
export function generateReportText(random: SeededRandom, ctx: ReportTextContext): string {
  const { template } = ctx;
  const sections = [
    `EXAM: ${template.procedure.toUpperCase()}`,
    `DATE OF EXAM: ${ctx.studyDate} ${ctx.studyTime}`,
    `INDICATION: ${random.pick(template.indications)}`,
    `COMPARISON: ${random.chance(0.5) ? 'None available.' : `Prior ${template.description} from ${random.int(1, 4)} years ago.`}`,
    `TECHNIQUE: ${template.technique}`,
    '',
    'FINDINGS:',
    ...Object.entries(template.findings).map(([heading, sentences]) => `${heading}: ${sentences.join(' ')}`),
    '',
    'IMPRESSION:',
    ...template.impressions.map((line, index) => `${index + 1}. ${line}`),
  ];
  const remarks: string[] = [];
  for (const remark of GENERAL_REMARKS) {
    if (byteLength([...sections, ...remarks]) >= MIN_REPORT_BYTES) break;
    remarks.push(remark);
  }
  const signature = `Electronically signed by ${ctx.signerName} on ${ctx.signedAt}.`;
  return [...sections, '', 'COMMENTS:', ...remarks, '', signature].join('\n');
}

/** An addendum as many RIS render it: the new statement first, the original report below. */
export function generateAddendumText(random: SeededRandom, original: string, signerName: string, signedAt: string): string {
  const statements = [
    'After review of the images with the referring clinician, the following is added.',
    'The previously described finding was discussed by telephone with the referring physician.',
    'On further review of the prior examination, the described finding is stable over at least two years.',
    'Correction: the laterality in the findings section should read left, not right.',
  ];
  const addendum = [
    'ADDENDUM:',
    random.pick(statements),
    random.pick(statements),
    `Addendum electronically signed by ${signerName} on ${signedAt}.`,
  ];
  return [...addendum, '', '--- ORIGINAL REPORT ---', original].join('\n');
}

function byteLength(lines: string[]): number {
  return Buffer.byteLength(lines.join('\n'), 'utf8');
}
