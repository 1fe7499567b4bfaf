import { html, type SafeHtml } from './html.ts';
import { renderLayout } from './render-layout.ts';

/** The 401 answer of the audit page: what it is, and a form for an operator's token. */
export function renderLogin(options: { refused: boolean; next: string }): SafeHtml {
  return renderLayout(
    'Sign in',
    html`<h1>Sign in</h1>
${options.refused ? html`<p class="error" role="alert">That token was refused.</p>` : ''}
<p>The delivery audit needs your operator token (from <code>ADMIN_TOKENS</code>, or the service's <code>ADMIN_TOKEN</code>). Actions you take are recorded with your name.</p>
<form method="post" action="/login">
<input type="hidden" name="next" value="${options.next}">
<label>Operator token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button></form>`,
  );
}
