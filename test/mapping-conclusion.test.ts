import { describe, expect, it } from 'vitest';
import { extractConclusion } from '../src/fhir/mapping/extract-conclusion.ts';

describe('extracting the conclusion from the report text', () => {
  it('takes the text after IMPRESSION: up to the next heading that has text after it', () => {
    const text = 'FINDINGS: Clear lungs.\nIMPRESSION: No acute abnormality.\nRECOMMENDATION: None.';
    expect(extractConclusion(text)).toBe('No acute abnormality.');
  });

  it('stops at a heading line with nothing after the colon', () => {
    const text = 'IMPRESSION:\n1. Small effusion.\n2. No pneumothorax.\nRECOMMENDATIONS:\nFollow-up radiograph.';
    expect(extractConclusion(text)).toBe('1. Small effusion.\n2. No pneumothorax.');
  });

  it('recognises the label in any case', () => {
    expect(extractConclusion('Impression: Normal study.')).toBe('Normal study.');
    expect(extractConclusion('impression:  Normal study.  ')).toBe('Normal study.');
  });

  it('runs to the end of the text when the impression is last', () => {
    const text = 'FINDINGS: Clear.\nIMPRESSION: Normal.\nNo change from prior.\n\n';
    expect(extractConclusion(text)).toBe('Normal.\nNo change from prior.');
  });

  it('is absent when there is no impression', () => {
    expect(extractConclusion('FINDINGS: No fracture.')).toBeUndefined();
  });

  it('is absent when there is no text', () => {
    expect(extractConclusion(undefined)).toBeUndefined();
  });

  it('is absent when the impression is empty', () => {
    expect(extractConclusion('IMPRESSION:\nCOMMENT: none')).toBeUndefined();
  });

  it('does not end at a mixed-case line with a colon', () => {
    expect(extractConclusion('IMPRESSION: Nodule.\nNote: compare with prior.')).toBe('Nodule.\nNote: compare with prior.');
  });

  it('does not end at a line that starts with a time of day', () => {
    expect(extractConclusion('IMPRESSION: Pneumothorax.\n14:05 discussed with Dr. Lee.')).toBe('Pneumothorax.\n14:05 discussed with Dr. Lee.');
  });

  it('only finds the label at the start of a line', () => {
    expect(extractConclusion('FINDINGS: My IMPRESSION: is nothing.')).toBeUndefined();
  });

  it('handles Windows line breaks', () => {
    expect(extractConclusion('IMPRESSION: Normal.\r\nPLAN: None.')).toBe('Normal.');
  });
});
