import { html, type SafeHtml } from './html.ts';

/** The search as it travels in the page's address: never an MRN, only its keyed hash (`h`). */
export interface PageSearch {
  by?: string;
  q?: string;
  h?: string;
}

export const PAGE_SEARCH_KEYS = ['by', 'q', 'h'] as const;

const KINDS: [string, string][] = [['report', 'Report id'], ['study', 'Study id'], ['accession', 'Accession'], ['mrn', 'MRN']];

/**
 * Posted, not sent as a query: the server turns an MRN into its keyed hash before it appears in
 * an address (browser history, proxy logs), and answers with a link to the results.
 */
export function renderSearchForm(search: PageSearch): SafeHtml {
  const by = search.by ?? 'report';
  const byMrn = search.by === 'mrn' && search.h;
  return html`<form class="search" role="search" method="post" action="/search" aria-label="Find a study">
<label>Find by <select name="by">${KINDS.map(([value, label]) => html`<option value="${value}" ${by === value ? html`selected` : ''}>${label}</option>`)}</select></label>
<label>Value <input type="search" name="q" value="${byMrn ? '' : (search.q ?? '')}" required maxlength="200" autocomplete="off" spellcheck="false"></label>
<button type="submit">Search</button>
${search.by ? html`<a href="/">Clear search</a>` : ''}</form>
${byMrn ? html`<p class="note" role="status">Showing the studies of the MRN you entered: matched by its keyed hash, so the MRN itself is neither kept nor shown.</p>` : ''}`;
}
