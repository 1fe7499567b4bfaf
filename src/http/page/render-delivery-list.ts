import type { Delivery } from '../../store/deliveries.ts';
import type { DeliverySummary } from '../../store/delivery-summary.ts';
import { DELIVERY_STATES } from '../../store/schema.ts';
import { html, queryString, type SafeHtml } from './html.ts';
import { renderHourlyChart } from './render-hourly-chart.ts';
import { fhirLink, formatTime, stateBadge } from './render-parts.ts';

export interface ListView {
  summary: DeliverySummary;
  items: Delivery[];
  nextCursor: string | null;
  /** The filters as the user sent them, to refill the form and build links. */
  filters: { state?: string; from?: string; to?: string; critical?: string; target?: string };
  /** DELIVERY_TARGETS, for the target filter. */
  targets: readonly string[];
  error?: string;
  fhirBaseUrl?: string;
}

const ATTENTION = 'failed,dead';

export function renderDeliveryList(view: ListView): SafeHtml {
  return html`<h1>Deliveries</h1>
${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
${renderCounts(view)}
${renderHourlyChart(view.summary.hourly)}
<p>Last delivered: ${formatTime(view.summary.lastDeliveredAt) || 'never'} · Oldest waiting since: ${formatTime(view.summary.oldestWaitingCreatedAt) || 'nothing waiting'}</p>
${renderFilterForm(view.filters, view.targets)}
${renderTable(view)}
${view.nextCursor ? html`<p><a rel="next" href="/${queryString({ ...view.filters, cursor: view.nextCursor })}">Older deliveries →</a></p>` : ''}`;
}

function renderCounts(view: ListView): SafeHtml {
  const { counts } = view.summary;
  const current = view.filters.state ?? '';
  const link = (state: string, label: string, n: number) =>
    html`<a class="${current === state ? 'active' : ''}" href="/${queryString({ ...view.filters, state })}">${label} (${n})</a>`;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return html`<nav class="counts" aria-label="Filter by state">${link('', 'All', total)}${link(ATTENTION, 'Needs attention', counts.failed + counts.dead)}
${DELIVERY_STATES.map((s) => link(s, s.replace('_', ' '), counts[s]))}</nav>`;
}

function renderFilterForm(filters: ListView['filters'], targets: readonly string[]): SafeHtml {
  const option = (value: string, label: string, selected: string | undefined) => html`<option value="${value}" ${selected === value ? html`selected` : ''}>${label}</option>`;
  return html`<form class="filters" method="get" action="/">
<label>State <select name="state">${option('', 'any', filters.state)}${option(ATTENTION, 'needs attention', filters.state)}${DELIVERY_STATES.map((s) => option(s, s, filters.state))}</select></label>
<label>From (UTC) <input type="date" name="from" value="${filters.from ?? ''}"></label>
<label>To (UTC) <input type="date" name="to" value="${filters.to ?? ''}"></label>
<label>Target <select name="target">${option('', 'any', filters.target)}${targets.map((t) => option(t, t, filters.target))}</select></label>
<label>Critical <select name="critical">${option('', 'any', filters.critical)}${option('true', 'critical only', filters.critical)}${option('false', 'not critical', filters.critical)}</select></label>
<button type="submit">Filter</button></form>`;
}

function renderTable(view: ListView): SafeHtml {
  if (view.items.length === 0) return html`<p>No deliveries match.</p>`;
  const rows = view.items.map((d) => html`<tr>
<td><a href="/deliveries/${encodeURIComponent(d.reportId)}${d.target === view.targets[0] ? '' : queryString({ target: d.target })}"><code>${d.reportId}</code></a></td><td>${d.target}</td>
<td><code>${d.studyId}</code></td><td>${d.patientLabel ?? '—'}</td><td>${stateBadge(d.state)}</td>
<td>${d.isCritical ? html`<span class="critical">critical</span>` : ''}</td><td>${d.attempts}</td>
<td>${d.lastErrorCode ? html`<code>${d.lastErrorCode}</code>` : ''}</td>
<td>${formatTime(d.createdAt)}</td><td>${formatTime(d.deliveredAt)}</td>
<td>${d.fhirRefs?.DiagnosticReport ? fhirLink(view.fhirBaseUrl, d.fhirRefs.DiagnosticReport) : d.hl7ControlId ? html`<code>${d.hl7ControlId}</code>` : ''}</td></tr>`);
  return html`<table><thead><tr><th>Report</th><th>Target</th><th>Study</th><th>Patient</th><th>State</th><th>Critical</th><th>Attempts</th><th>Last error</th><th>Created</th><th>Delivered</th><th>DiagnosticReport / HL7 control id</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}
