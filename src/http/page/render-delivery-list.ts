import { DELIVERY_STATES, type Delivery, type DeliverySummary, type StudyGroup } from '../../store/store.ts';
import { hintFor } from './error-hints.ts';
import { html, queryString, type SafeHtml } from './html.ts';
import { renderHourlyChart } from './render-hourly-chart.ts';
import { attemptOf, fhirLink, formatTime, stateBadge } from './render-parts.ts';
import { PAGE_SEARCH_KEYS, renderSearchForm, type PageSearch } from './render-search-form.ts';

export type ListFilters = { state?: string; from?: string; to?: string; critical?: string; target?: string } & PageSearch;

export interface ListView {
  summary: DeliverySummary;
  groups: StudyGroup[];
  nextCursor: string | null;
  /** The filters as the user sent them, to refill the form and build links. */
  filters: ListFilters;
  /** DELIVERY_TARGETS, for the target filter. */
  targets: readonly string[];
  maxAttempts: number;
  error?: string;
  fhirBaseUrl?: string;
}

const ATTENTION = 'failed,dead';

export function renderDeliveryList(view: ListView): SafeHtml {
  return html`<h1>Deliveries</h1>
${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
${renderSearchForm(view.filters)}
${renderCounts(view)}
${renderHourlyChart(view.summary.hourly)}
<p>Last delivered: ${formatTime(view.summary.lastDeliveredAt) || 'never'} · Oldest waiting since: ${formatTime(view.summary.oldestWaitingCreatedAt) || 'nothing waiting'}</p>
${renderFilterForm(view.filters, view.targets)}
${renderTable(view)}
${view.nextCursor ? html`<p><a rel="next" href="/${queryString({ ...view.filters, cursor: view.nextCursor })}">Older studies →</a></p>` : ''}`;
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

function renderFilterForm(filters: ListFilters, targets: readonly string[]): SafeHtml {
  const option = (value: string, label: string, selected: string | undefined) => html`<option value="${value}" ${selected === value ? html`selected` : ''}>${label}</option>`;
  // The search travels with the filters (a study search narrowed to dead deliveries).
  const kept = PAGE_SEARCH_KEYS.map((key) => (filters[key] ? html`<input type="hidden" name="${key}" value="${filters[key]}">` : ''));
  return html`<form class="filters" method="get" action="/" aria-label="Filters">${kept}
<label>State <select name="state">${option('', 'any', filters.state)}${option(ATTENTION, 'needs attention', filters.state)}${DELIVERY_STATES.map((s) => option(s, s, filters.state))}</select></label>
<label>From (UTC) <input type="date" name="from" value="${filters.from ?? ''}"></label>
<label>To (UTC) <input type="date" name="to" value="${filters.to ?? ''}"></label>
<label>Target <select name="target">${option('', 'any', filters.target)}${targets.map((t) => option(t, t, filters.target))}</select></label>
<label>Critical <select name="critical">${option('', 'any', filters.critical)}${option('true', 'critical only', filters.critical)}${option('false', 'not critical', filters.critical)}</select></label>
<button type="submit">Filter</button></form>`;
}

const COLUMNS = ['Report', 'Target', 'State', 'Attempts', 'Last error and what to do', 'Signed', 'Delivered', 'DiagnosticReport / HL7 control id'];

function renderTable(view: ListView): SafeHtml {
  if (view.groups.length === 0) return html`<p>No deliveries match.</p>`;
  const head = html`<thead><tr>${COLUMNS.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>`;
  return html`<table class="deliveries">${head}${view.groups.map((g) => renderGroup(view, g))}</table>`;
}

// One tbody per study: its header names the study, the patient's masked label and the accession;
// its rows are the study's reports in signing order, original first.
function renderGroup(view: ListView, group: StudyGroup): SafeHtml {
  const first = <K extends keyof Delivery>(key: K) => group.deliveries.find((d) => d[key] !== null)?.[key] ?? null;
  const label = first('patientLabel');
  const accession = first('accession');
  return html`<tbody class="study" data-study="${group.studyId}">
<tr class="study-head"><th scope="rowgroup" colspan="${COLUMNS.length}">Study <code>${group.studyId}</code>
<span class="facts">Patient: ${label ?? '—'}${accession ? html` · Accession <code>${accession}</code>` : ''}</span></th></tr>
${group.deliveries.map((d) => renderRow(view, d))}</tbody>`;
}

function renderRow(view: ListView, d: Delivery): SafeHtml {
  const hint = d.state === 'failed' || d.state === 'dead' || d.state === 'skipped' ? hintFor(d.lastErrorCode) : undefined;
  return html`<tr data-report="${d.reportId}">
<td><a href="/deliveries/${encodeURIComponent(d.reportId)}${d.target === view.targets[0] ? '' : queryString({ target: d.target })}"><code>${d.reportId}</code></a> ${roleBadge(d)}
${d.isCritical ? html`<span class="critical">critical</span>` : ''}</td>
<td>${d.target}</td><td>${stateBadge(d.state)}</td>
<td class="attempts">${attemptOf(d.attempts, view.maxAttempts)}</td>
<td>${d.lastErrorCode ? html`<code>${d.lastErrorCode}</code>` : ''}${hint ? html`<p class="hint">${hint}</p>` : ''}</td>
<td>${formatTime(d.signedAt)}</td><td>${formatTime(d.deliveredAt)}</td>
<td>${d.fhirRefs?.DiagnosticReport ? fhirLink(view.fhirBaseUrl, d.fhirRefs.DiagnosticReport) : d.hl7ControlId ? html`<code>${d.hl7ControlId}</code>` : ''}</td></tr>`;
}

/** Original or addendum, as the attempt that read the study's reports recorded it. */
export function roleBadge(d: Delivery): SafeHtml {
  if (d.isAddendum === null) return html``;
  return d.isAddendum ? html`<span class="role role-addendum">addendum</span>` : html`<span class="role role-original">original</span>`;
}
