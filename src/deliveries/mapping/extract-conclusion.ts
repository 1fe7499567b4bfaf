// fhir-mapping.md `conclusion`: a line starting with `IMPRESSION:` (any case); its text runs to the
// next heading line or the end. A heading is capital letters, digits and spaces ending in `:`,
// with or without text after it. Headings must start with a letter so that a line such as
// "14:05 discussed with Dr. Lee" inside the impression does not end it. Leading blanks before a
// label are tolerated: indentation is layout, not content.
const IMPRESSION_LABEL = /^[ \t]*impression:/i;
const HEADING = /^[ \t]*\p{Lu}[\p{Lu}\d ]*:/u;

/** Whether the text has an `IMPRESSION:` line at all, even an empty one. */
export function hasImpressionLine(text: string | undefined): boolean {
  return text !== undefined && text.split(/\r?\n/).some((line) => IMPRESSION_LABEL.test(line));
}

/** The impression of a report text, without its label; `undefined` when there is none or it is empty. */
export function extractConclusion(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((line) => IMPRESSION_LABEL.test(line));
  if (start < 0) return undefined;
  const body = [lines[start]!.replace(IMPRESSION_LABEL, '')];
  for (const line of lines.slice(start + 1)) {
    if (HEADING.test(line)) break;
    body.push(line);
  }
  const conclusion = body.join('\n').trim();
  return conclusion === '' ? undefined : conclusion;
}
