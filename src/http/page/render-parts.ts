import { html, type SafeHtml } from './html.ts';

export function stateBadge(state: string): SafeHtml {
  return html`<span class="state state-${state}">${state.replace('_', ' ')}</span>`;
}

export function formatTime(ms: number | null | undefined): SafeHtml | '' {
  if (ms === null || ms === undefined) return '';
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 19).replace('T', ' ')}Z</time>`;
}

/** A reference such as "DiagnosticReport/abc/_history/2" as a link into the EHR's FHIR API. */
export function fhirLink(fhirBaseUrl: string | undefined, reference: string): SafeHtml {
  // References come from the FHIR server's answers; only the resource/id/version shape is linked.
  if (!fhirBaseUrl || !/^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?$/.test(reference)) return html`<code>${reference}</code>`;
  return html`<a href="${`${fhirBaseUrl}/${reference}`}" rel="noopener noreferrer"><code>${reference}</code></a>`;
}

/** "attempt 3 of 12": how much of MAX_ATTEMPTS a delivery has used. */
export function attemptOf(attempts: number, maxAttempts: number): SafeHtml {
  return attempts === 0 ? html`not tried yet` : html`attempt ${attempts} of ${maxAttempts}`;
}
