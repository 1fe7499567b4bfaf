import type { AuditEvent, Delivery } from '../../store/store.ts';
import type { Attempt } from '../derive-attempts.ts';
import { html, type SafeHtml } from './html.ts';
import { MAX_REASON_CHARS } from '../../store/store.ts';
import { hintFor } from './error-hints.ts';
import { roleBadge } from './render-delivery-list.ts';
import { attemptOf, fhirLink, formatTime, stateBadge } from './render-parts.ts';

export interface DetailView {
  delivery: Delivery;
  attempts: Attempt[];
  audit: AuditEvent[];
  fhirBaseUrl?: string;
  flash?: string;
  maxAttempts: number;
}

const FLASH: Record<string, string> = {
  requeued: 'Queued again; this page refreshes until the worker has finished.',
  not_retryable: 'Nothing done: the delivery is not in a state that allows this.',
};

export function renderDeliveryDetail(view: DetailView): SafeHtml {
  const d = view.delivery;
  return html`<p><a href="/">← all deliveries</a></p>
<h1>Report <code>${d.reportId}</code> ${roleBadge(d)} to ${d.target} ${stateBadge(d.state)} ${d.isCritical ? html`<span class="critical">critical</span>` : ''}</h1>
${view.flash && FLASH[view.flash] && !(view.flash === 'requeued' && !inFlight(d)) ? html`<p class="flash" role="status">${FLASH[view.flash]}</p>` : ''}
${renderActions(d)}
${renderFacts(d, view.maxAttempts)}
${d.target === 'hl7v2' ? renderHl7(d) : html`<h2>FHIR resources</h2>${renderFhirRefs(d, view.fhirBaseUrl)}`}
<h2>Attempts</h2>${renderAttempts(view.attempts)}
<h2>Audit trail</h2>${renderAudit(view.audit)}`;
}

// The receiver's own words when it refused the message: for operators only, never logged.
function renderHl7(d: Delivery): SafeHtml {
  return html`<h2>HL7 message</h2><dl><dt>Control id (MSH-10)</dt><dd><code>${d.hl7ControlId ?? '—'}</code></dd>
<dt>ACK control id</dt><dd><code>${d.hl7AckControlId ?? '—'}</code></dd>
${d.rejectionText ? html`<dt>Refused by the receiver</dt><dd><pre>${d.rejectionText}</pre></dd>` : ''}</dl>`;
}

function inFlight(d: Delivery): boolean {
  return d.state === 'queued' || d.state === 'in_progress';
}

function renderActions(d: Delivery): SafeHtml {
  const base = `/deliveries/${encodeURIComponent(d.reportId)}`;
  // The reason goes into the audit row with the signed-in operator (and nowhere else: never logged).
  const target = html`<input type="hidden" name="target" value="${d.target}"><label>Reason <input name="reason" maxlength="${MAX_REASON_CHARS}" size="32" placeholder="optional; kept in the audit trail"></label> `;
  if (d.state === 'skipped') {
    return html`<form class="inline" method="post" action="${base}/retry">${target}<button type="submit">Retry</button></form> <span>Queues it again: the rule that skipped it (a cancelled or external study) is asked again.</span>`;
  }
  if (d.state === 'failed' || d.state === 'dead') {
    return html`<form class="inline" method="post" action="${base}/retry">${target}<button type="submit">Retry</button></form> <span>Queues it again with fresh attempts.</span>`;
  }
  if (d.state === 'delivered') {
    return html`<form class="inline" method="post" action="${base}/replay">${target}<button type="submit">Replay</button></form> <span>Delivers it again; the FHIR writes are conditional and an HL7 message keeps its control id, so nothing is duplicated.</span>`;
  }
  return html``;
}

function renderFacts(d: Delivery, maxAttempts: number): SafeHtml {
  const hint = hintFor(d.lastErrorCode);
  return html`<dl>
<dt>Study</dt><dd><a href="/?by=study&amp;q=${encodeURIComponent(d.studyId)}"><code>${d.studyId}</code></a></dd>
<dt>Patient</dt><dd>${d.patientLabel ?? '— (not known yet)'}</dd>
${d.accession ? html`<dt>Accession</dt><dd><code>${d.accession}</code></dd>` : ''}
${d.signedAt !== null ? html`<dt>Signed</dt><dd>${formatTime(d.signedAt)}</dd>` : ''}
<dt>Source</dt><dd>${d.source}</dd>
<dt>Attempts</dt><dd>${attemptOf(d.attempts, maxAttempts)}</dd>
<dt>Created</dt><dd>${formatTime(d.createdAt)}</dd>
<dt>Updated</dt><dd>${formatTime(d.updatedAt)}</dd>
<dt>Delivered</dt><dd>${formatTime(d.deliveredAt) || '—'}</dd>
${d.state === 'failed' || d.state === 'queued' ? html`<dt>Next attempt</dt><dd>${formatTime(d.nextAttemptAt)}</dd>` : ''}
${d.lastErrorCode ? html`<dt>Last error</dt><dd><code>${d.lastErrorCode}</code> ${d.lastErrorMessage ?? ''}</dd>` : ''}
${d.lastErrorCode && hint ? html`<dt>What to do</dt><dd class="hint">${hint}</dd>` : ''}
${d.contentHash ? html`<dt>Content hash</dt><dd><code>${d.contentHash}</code></dd>` : ''}
</dl>`;
}

function renderFhirRefs(d: Delivery, fhirBaseUrl: string | undefined): SafeHtml {
  const refs = Object.entries(d.fhirRefs ?? {});
  if (refs.length === 0) return html`<p>None yet.</p>`;
  return html`<ul>${refs.map(([name, ref]) => html`<li>${name}: ${fhirLink(fhirBaseUrl, ref)}</li>`)}</ul>`;
}

function renderAttempts(attempts: Attempt[]): SafeHtml {
  if (attempts.length === 0) return html`<p>No attempt yet.</p>`;
  const rows = attempts.map((a) => html`<tr><td>${a.attempt}</td><td>${formatTime(a.startedAt)}</td><td>${formatTime(a.endedAt)}</td>
<td>${a.endedAt === null ? '' : `${((a.endedAt - a.startedAt) / 1000).toFixed(1)} s`}</td>
<td>${a.outcome ? stateBadge(a.outcome) : 'running'}</td><td>${a.code ? html`<code>${a.code}</code>` : ''} ${a.message ?? ''}</td></tr>`);
  return html`<table><thead><tr><th>#</th><th>Started</th><th>Ended</th><th>Took</th><th>Outcome</th><th>Reason</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function renderAudit(events: AuditEvent[]): SafeHtml {
  const rows = events.map((e) => html`<tr><td>${e.seq}</td><td>${formatTime(e.at)}</td><td>${e.event}</td>
<td>${e.detail ? html`<code>${JSON.stringify(e.detail)}</code>` : ''}</td></tr>`);
  return html`<table><thead><tr><th>Seq</th><th>At</th><th>Event</th><th>Detail</th></tr></thead><tbody>${rows}</tbody></table>`;
}
