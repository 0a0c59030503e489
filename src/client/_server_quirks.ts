/**
 * What the client knows about deployed servers that deviate from the RFCs, told from their
 * responses. Private to the package: the client and the update engine use it.
 *
 * @module
 */

/**
 * Whether a response comes from a server that ignores the unquoted `If-None-Match: *` of RFC
 * 7232 §3.2 and honours the quoted `"*"` for a whole document instead: Kamailio's xcap_server
 * (and its ancestor OpenSER), told by the `Server` header. See tests/kamailio/README.md.
 *
 * @param headers Response headers (of a 2xx or an error).
 * @returns `true` for Kamailio.
 */
export function ignoresIfNoneMatchWildcard(headers: Headers): boolean {
  const server = headers?.get?.("server") ?? "";
  return /\b(kamailio|openser)\b/i.test(server);
}
