import { html, type SafeHtml } from './html.ts';

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1rem;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:600}header .operator{margin-left:auto}header form{margin-left:auto}header .operator+form{margin-left:0}
main{padding:1rem 1.2rem;max-width:1200px}
table{border-collapse:collapse;width:100%;background:#fff}th,td{padding:.35rem .5rem;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}
th{font-weight:600;background:#eef0f3}code{font-size:12px}time{white-space:nowrap}
.state{display:inline-block;padding:0 .45rem;border-radius:.6rem;font-size:12px;background:#dde2e8}
.state-delivered{background:#cdebd3}.state-failed{background:#fde2b8}.state-dead{background:#f7c6c6}.state-skipped{background:#e5e0f5}
.counts a{margin-right:.8rem}.counts a.active{font-weight:700}.critical{color:#b00020;font-weight:600}
.flash{background:#fff4c2;padding:.5rem .8rem;border:1px solid #e8d47a;margin-bottom:1rem}
.error{background:#fde2e2;padding:.5rem .8rem;border:1px solid #e6a0a0;margin-bottom:1rem}
form.inline{display:inline}button{padding:.3rem .9rem;cursor:pointer}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;background:#fff;padding:.8rem}dt{font-weight:600}
.filters{background:#fff;padding:.6rem;margin:.6rem 0;display:flex;gap:.8rem;align-items:end;flex-wrap:wrap}
.filters label{display:flex;flex-direction:column;font-size:12px}
.search{background:#fff;padding:.6rem;margin:.6rem 0;display:flex;gap:.8rem;align-items:end;flex-wrap:wrap}
.search label{display:flex;flex-direction:column;font-size:12px}.search input{width:22rem;max-width:100%}
code{overflow-wrap:anywhere}table.deliveries td:nth-child(5){width:28%}table.deliveries td:first-child code,.attempts{white-space:nowrap}
tr.study-head th{background:#f6f7f9;border-top:2px solid #c9ced6;font-weight:600}.study-head .facts{font-weight:400;margin-left:1rem}
.role{display:inline-block;padding:0 .4rem;border-radius:.3rem;font-size:11px;border:1px solid #9aa3af}.role-addendum{background:#fff4c2;border-color:#d9b94a}
.hint{margin:.2rem 0 0;font-size:12px;color:#4a5262}.note{font-size:12px}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #2f6fde;outline-offset:2px}
`;

/**
 * The page frame. No scripts at all (CSP script-src 'none'): reading works without JavaScript and
 * the actions are plain form posts.
 */
export function renderLayout(title: string, body: SafeHtml, options: { refreshSeconds?: number; operator?: string } = {}): SafeHtml {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${options.refreshSeconds ? html`<meta http-equiv="refresh" content="${options.refreshSeconds}">` : ''}
<title>${title} · avara-fhir-sync</title><style>${STYLE}</style></head>
<body><header><a href="/">avara-fhir-sync · deliveries</a>
${options.operator ? html`<span class="operator">Signed in as <b>${options.operator}</b></span><form method="post" action="/logout"><button type="submit">Sign out</button></form>` : ''}</header>
<main>${body}</main></body></html>`;
}

export const PAGE_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on our own forms.
  'Referrer-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};
