// A minimal, valid PDF 1.4 (ISO 32000-1 §7.5): header, objects, a cross-reference table with exact
// byte offsets, trailer. Text uses the standard Helvetica font, so no font file is embedded.

export interface PdfReportContent {
  title: string;
  headerLines: string[];
  body: string;
  creationDate: string | null;   // ISO timestamp; kept out when null so output stays deterministic
  /** Grey-scale pixels of a scan attached to the first page (real report PDFs carry images). */
  scan?: Uint8Array;
}

const LINE_CHARS = 92;
const LINES_PER_PAGE = 58;
const SCAN_WIDTH = 1024;

/** Same content in, same bytes out: the sandbox can hand tests the exact bytes it serves. */
export function renderReportPdf(content: PdfReportContent): Uint8Array {
  const lines = [content.title, '', ...content.headerLines, '', ...content.body.split('\n')].flatMap(wrapLine);
  const pages = chunk(lines, LINES_PER_PAGE);
  const pageIds = pages.map((_, index) => 5 + index * 2);
  const objects: string[] = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pages.length} >>`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    infoDictionary(content),
  ];
  const scanId = 5 + pages.length * 2;
  const scan = content.scan && content.scan.length >= SCAN_WIDTH ? content.scan : undefined;
  pages.forEach((pageLines, index) => {
    const stream = textStream(pageLines);
    const xObject = scan && index === 0 ? ` /XObject << /Im1 ${scanId} 0 R >>` : '';
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >>${xObject} >> /Contents ${pageIds[index]! + 1} 0 R >>`,
      `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    );
  });
  if (scan) objects.push(imageXObject(scan));
  return new Uint8Array(Buffer.from(assemble(objects), 'latin1'));
}

/** An 8-bit DeviceGray image (§8.9.5): /Length is exactly Width x Height bytes of samples. */
function imageXObject(scan: Uint8Array): string {
  const height = Math.floor(scan.length / SCAN_WIDTH);
  const samples = Buffer.from(scan.subarray(0, SCAN_WIDTH * height)).toString('latin1');
  return `<< /Type /XObject /Subtype /Image /Width ${SCAN_WIDTH} /Height ${height} /ColorSpace /DeviceGray /BitsPerComponent 8 /Length ${samples.length} >>\nstream\n${samples}\nendstream`;
}

function assemble(objects: string[]): string {
  // The binary comment line marks the file as binary for transfer tools (§7.5.2).
  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((body, index) => {
    offsets.push(out.length);
    out += `${index + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xrefOffset = out.length;
  // Each xref entry is exactly 20 bytes: 10-digit offset, 5-digit generation, type, two-byte EOL.
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  out += offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 4 0 R >>\nstartxref\n${xrefOffset}\n%%EOF\n`;
  return out;
}

function infoDictionary(content: PdfReportContent): string {
  const created = content.creationDate
    ? ` /CreationDate (D:${content.creationDate.replace(/[-:T]/g, '').slice(0, 14)}Z)`
    : '';
  return `<< /Title (${pdfString(content.title)}) /Producer (Avara sandbox)${created} >>`;
}

function textStream(lines: string[]): string {
  const shown = lines.map((line) => `(${pdfString(line)}) Tj T*`).join('\n');
  return `BT\n/F1 10 Tf\n12 TL\n50 750 Td\n${shown}\nET`;
}

/** Escapes a PDF literal string; characters outside Latin-1 become '?' (WinAnsi covers accents). */
function pdfString(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 63;
    if (char === '\\' || char === '(' || char === ')') out += `\\${char}`;
    else if (code >= 32 && code < 127) out += char;
    else if (code >= 160 && code <= 255) out += `\\${code.toString(8).padStart(3, '0')}`;
    else out += '?';
  }
  return out;
}

function wrapLine(line: string): string[] {
  if (line.length <= LINE_CHARS) return [line];
  const wrapped: string[] = [];
  let current = '';
  for (const word of line.split(' ')) {
    if (current && current.length + word.length + 1 > LINE_CHARS) {
      wrapped.push(current);
      current = word;
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  if (current) wrapped.push(current);
  return wrapped;
}

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks.length > 0 ? chunks : [[]];
}
