import { describe, expect, it } from 'vitest';
import { escapeHl7 } from '../src/hl7/escape-hl7.ts';

describe('escapeHl7', () => {
  it('leaves text without delimiters, line breaks or controls as it is, unicode included', () => {
    expect(escapeHl7('Nguyễn Thị Minh Khai, 5×3 mm; Ø 12 mm\ttab')).toBe('Nguyễn Thị Minh Khai, 5×3 mm; Ø 12 mm\ttab');
  });

  it('writes each delimiter as its HL7 2.5.1 §2.7.4 escape sequence', () => {
    expect(escapeHl7('a|b^c&d~e')).toBe('a\\F\\b\\S\\c\\T\\d\\R\\e');
  });

  it('escapes the escape character first, so the sequences it writes are not escaped again', () => {
    expect(escapeHl7('\\')).toBe('\\E\\');
    expect(escapeHl7('\\F\\')).toBe('\\E\\F\\E\\');
    expect(escapeHl7('C:\\|x')).toBe('C:\\E\\\\F\\x');
  });

  it('writes CRLF, LF and CR each as one \\.br\\', () => {
    expect(escapeHl7('one\r\ntwo\nthree\rfour')).toBe('one\\.br\\two\\.br\\three\\.br\\four');
    expect(escapeHl7('blank\r\n\r\nline')).toBe('blank\\.br\\\\.br\\line');
  });

  it('hex-escapes other control characters, such as the MLLP frame bytes 0x0B and 0x1C', () => {
    expect(escapeHl7('a\x0Bb\x1Cc\x00')).toBe('a\\X0B\\b\\X1C\\c\\X00\\');
  });

  it('returns an empty string for an empty value', () => {
    expect(escapeHl7('')).toBe('');
  });
});
