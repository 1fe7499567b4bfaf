/**
 * `identifier=<system>|<value>` for conditional requests (`ifNoneExist`, `PUT Type?...`) and
 * identifier searches.
 *
 * Why escape: MRNs and integrator ids are free text. An unescaped `&` or `#` would cut the value
 * and the server would match a *different* identifier (a wrong chart); an unescaped `,` or `|`
 * changes the FHIR search semantics. So FHIR search escaping (`\` before `\ | , $`) first, then
 * percent-encoding, keeping `:` `/` `@` readable (they are legal in a query component).
 */
export function identifierQuery(system: string, value: string): string {
  return `identifier=${encodeQueryPart(escapeSearchValue(system))}|${encodeQueryPart(escapeSearchValue(value))}`;
}

/**
 * The `<system>|<value>` token with FHIR search escaping only, for HTTP clients that
 * percent-encode query parameters themselves (e.g. `URLSearchParams`). Without it an MRN
 * containing `,` would turn an identifier search into an OR of two searches.
 */
export function identifierSearchToken(system: string, value: string): string {
  return `${escapeSearchValue(system)}|${escapeSearchValue(value)}`;
}

function escapeSearchValue(text: string): string {
  return text.replace(/[\\|,$]/g, (c) => `\\${c}`);
}

function encodeQueryPart(text: string): string {
  return encodeURIComponent(text).replace(/%3A/gi, ':').replace(/%2F/gi, '/').replace(/%40/gi, '@');
}
