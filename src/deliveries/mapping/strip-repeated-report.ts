/**
 * What an addendum adds when its text begins with the whole text of a report signed before it
 * (fhir-mapping.md `presentedForm[0]`: some systems return the full report with each addendum).
 * `undefined` when it begins with none of them, so the text is used as it is.
 *
 * "Begins with" is compared line by line so that line endings (CRLF, LF), trailing blanks and
 * blank lines do not hide a repeat: every non-blank line of the earlier text must be, in order and
 * exactly (but for trailing blanks), the addendum's first non-blank lines, so the match ends at a
 * line break. Anything less (a shared first line, a shared sentence, a changed word) is not a
 * repeat and is kept. The longest repeat wins.
 */
export function stripRepeatedReport(text: string, earlierTexts: readonly string[]): string | undefined {
  const lines = lineSpans(text);
  const ends = earlierTexts.map((earlier) => repeatEnd(lines, significantLines(earlier))).filter((end) => end !== undefined);
  if (ends.length === 0) return undefined;
  return text.slice(Math.max(...ends)).replace(/^(?:[ \t]*(?:\r\n|\r|\n))+/, '');
}

interface LineSpan {
  content: string; // without its line break
  next: number; // offset where the following line starts
}

function lineSpans(text: string): LineSpan[] {
  const spans: LineSpan[] = [];
  const pattern = /([^\r\n]*)(\r\n|\r|\n|$)/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    spans.push({ content: match[1]!, next: pattern.lastIndex });
    if (match[2] === '') break; // end of text
  }
  return spans;
}

// The earlier text's non-blank lines, without trailing blanks.
function significantLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/).map((line) => line.trimEnd()).filter((line) => line.trim() !== '');
}

// Offset just after the repeated earlier text, or undefined when `lines` do not begin with it.
function repeatEnd(lines: LineSpan[], earlier: string[]): number | undefined {
  if (earlier.length === 0) return undefined;
  let index = 0;
  let end = 0;
  for (const expected of earlier) {
    while (index < lines.length && lines[index]!.content.trim() === '') index++;
    if (lines[index]?.content.trimEnd() !== expected) return undefined;
    end = lines[index]!.next;
    index++;
  }
  return end;
}
