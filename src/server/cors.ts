/**
 * Cross-origin access for the XCAP server, so web SIP clients can talk to it from a page: the
 * CORS protocol of the Fetch standard (§3.3, https://fetch.spec.whatwg.org/#http-cors-protocol;
 * section numbers as in its 2026-06 review draft) as a wrapper around a fetch handler.
 *
 * Web APIs only.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { invalidArgument, type InvalidArgumentError } from "../client/errors.ts";
import { staticBody, staticResponse } from "./_response.ts";

/** Which pages may use the server, and how. */
export interface CorsOptions {
  /**
   * The origins allowed, serialized as a browser sends them in `Origin`
   * (`https://sip.example.com`, `http://127.0.0.1:8080`: scheme, host and port, no path), or
   * `"*"` for any origin.
   */
  readonly origins: "*" | readonly string[];
  /**
   * Also share answers to requests made with credentials mode `"include"` (cookies, the
   * browser's own HTTP authentication): `Access-Control-Allow-Credentials: true`. Only with
   * listed origins: the Fetch standard never shares such an answer with `*` (§3.3.5 "CORS protocol
   * and credentials"), so {@linkcode checkCorsOptions} refuses the pair and {@linkcode withCors} never
   * sends it with `*`. A page that signs in with this module's client sets `Authorization`
   * itself and does not need it. @default false
   */
  readonly credentials?: boolean;
  /** How long a browser may keep a preflight answer, in seconds. @default 600 */
  readonly maxAgeSeconds?: number;
}

/** The methods XCAP uses (RFC 4825 §7–§8), offered to preflights. */
const ALLOW_METHODS = "GET, HEAD, PUT, DELETE";
/**
 * The request headers XCAP clients send beyond the CORS-safelisted ones: the body's type (an
 * XCAP MIME type is not safelisted), the preconditions (RFC 4825 §7.11) and Digest or Basic
 * credentials. Listed by name: `*` would not cover `Authorization` (Fetch §3.3.4 "HTTP
 * new-header syntax", and §3.3.5: `*` is no wildcard at all for requests with credentials).
 */
const ALLOW_HEADERS = "Authorization, Content-Type, If-Match, If-None-Match";
/**
 * The response headers a client reads that are not CORS-safelisted: the document's entity-tag,
 * the Digest challenge (so a page can sign in), and the hints of 405 (`Allow`), 415 (`Accept`)
 * and 503 (`Retry-After`).
 */
const EXPOSE_HEADERS = "ETag, WWW-Authenticate, Allow, Accept, Retry-After";
const DEFAULT_MAX_AGE_SECONDS = 600;
/** Firefox keeps a preflight answer at most a day; Chromium two hours. */
const MAX_MAX_AGE_SECONDS = 86_400;

/** The origin an entry names, as a browser serializes it, or `undefined` when it names none. */
function serializedOrigin(entry: string): string | undefined {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    return undefined;
  }
  if (url.pathname !== "/") return undefined;
  return url.origin;
}

/**
 * Check CORS options: every origin an http(s) origin (scheme, host, optional port), credentials
 * only with listed origins, a whole number of seconds for the preflight cap.
 *
 * @param options The options to check.
 * @returns The options with each origin in its serialized form (lower-case host, no default
 * port, no trailing slash), or `InvalidArgument` saying what is wrong.
 *
 * @example Usage
 * ```ts
 * import { checkCorsOptions } from "./cors.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(
 *   checkCorsOptions({ origins: ["https://SIP.example.com:443/"] })._unsafeUnwrap(),
 *   { origins: ["https://sip.example.com"] },
 * );
 * const wild = checkCorsOptions({ origins: "*", credentials: true });
 * assertEquals(wild.isErr() && wild.error.argument, "cors.credentials");
 * ```
 */
export function checkCorsOptions(options: CorsOptions): Result<CorsOptions, InvalidArgumentError> {
  const { origins, credentials, maxAgeSeconds } = options;
  if (
    maxAgeSeconds !== undefined &&
    (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 0 || maxAgeSeconds > MAX_MAX_AGE_SECONDS)
  ) {
    return err(invalidArgument(
      "cors.maxAgeSeconds",
      `The CORS preflight cap must be a whole number of seconds from 0 to ${MAX_MAX_AGE_SECONDS}, ` +
        `not ${String(maxAgeSeconds)}`,
    ));
  }
  const age = maxAgeSeconds === undefined ? {} : { maxAgeSeconds };
  if (origins === "*") {
    if (credentials === true) {
      return err(invalidArgument(
        "cors.credentials",
        "CORS credentials need listed origins: with * a browser never shares an answer to a " +
          "request made with credentials",
      ));
    }
    return ok({ origins: "*", ...age });
  }
  if (!Array.isArray(origins) || origins.length === 0) {
    return err(invalidArgument(
      "cors.origins",
      'CORS needs "*" or at least one origin, e.g. https://sip.example.com',
    ));
  }
  const serialized: string[] = [];
  for (const entry of origins) {
    const origin = typeof entry === "string" ? serializedOrigin(entry.trim()) : undefined;
    if (origin === undefined) {
      return err(invalidArgument(
        "cors.origins",
        `${JSON.stringify(entry)} is not an origin: give scheme, host and optional port, ` +
          "e.g. https://sip.example.com or http://127.0.0.1:8080",
      ));
    }
    if (!serialized.includes(origin)) serialized.push(origin);
  }
  return ok({ origins: serialized, ...(credentials === true ? { credentials } : {}), ...age });
}

/** A copy of `response` with `headers` set (responses from `fetch` have immutable headers). */
function withHeaders(response: Response, headers: Record<string, string>): Response {
  const merged = new Headers(response.headers);
  for (const [name, value] of Object.entries(headers)) {
    if (name === "vary") merged.append(name, value);
    else merged.set(name, value);
  }
  const init = { status: response.status, statusText: response.statusText, headers: merged };
  const body = staticBody(response);
  return body === undefined ? new Response(response.body, init) : staticResponse(body, init);
}

/**
 * Wrap a fetch handler with the CORS protocol (Fetch standard §3.3):
 *
 * - A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) from an allowed
 *   origin is answered here, 204, without reaching `handler`: the methods XCAP uses (GET, HEAD,
 *   PUT, DELETE), the request headers XCAP clients send (`Authorization`, `Content-Type`,
 *   `If-Match`, `If-None-Match`) and `Access-Control-Max-Age`. A browser never sends credentials
 *   on a preflight and needs an ok status, so a preflight is never challenged, even where every
 *   other request is. A preflight from another origin gets 403 without CORS headers.
 * - Every other request goes to `handler`; when its `Origin` is allowed, the answer (whatever its
 *   status: a page must see a 401's challenge, a 409's report and a 412) carries
 *   `Access-Control-Allow-Origin` and `Access-Control-Expose-Headers` (`ETag`, `WWW-Authenticate`,
 *   `Allow`, `Accept`, `Retry-After`).
 * - With listed origins, `Access-Control-Allow-Origin` names the request's origin, and every
 *   answer says `Vary: Origin` (RFC 9110 §12.5.5: it depends on that header), also to requests
 *   without one; `Access-Control-Allow-Credentials: true` only with `credentials: true`, never
 *   with `*`.
 *
 * Options are used as {@linkcode checkCorsOptions} normalises them; an entry that names no origin
 * matches nothing.
 *
 * @param handler The handler to wrap.
 * @param options Which origins, credentials, the preflight cap.
 * @returns The wrapped handler.
 *
 * @example A page on another origin may read documents and their ETags
 * ```ts
 * import { createXcapHandler, withCors } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const handler = withCors(createXcapHandler(), { origins: ["https://sip.example.com"] });
 * const preflight = await handler(
 *   new Request("http://127.0.0.1/xcap-root/resource-lists/users/sip:alice@example.com/index", {
 *     method: "OPTIONS",
 *     headers: {
 *       origin: "https://sip.example.com",
 *       "access-control-request-method": "PUT",
 *       "access-control-request-headers": "content-type, if-match",
 *     },
 *   }),
 * );
 * assertEquals(preflight.status, 204);
 * assertEquals(preflight.headers.get("access-control-allow-origin"), "https://sip.example.com");
 * assertEquals(
 *   preflight.headers.get("access-control-allow-headers"),
 *   "Authorization, Content-Type, If-Match, If-None-Match",
 * );
 * ```
 */
export function withCors(
  handler: (request: Request) => Promise<Response>,
  options: CorsOptions,
): (request: Request) => Promise<Response> {
  const any = options.origins === "*";
  const allowed = new Set<string>();
  if (!any) {
    for (const entry of options.origins) {
      const origin = typeof entry === "string" ? serializedOrigin(entry.trim()) : undefined;
      if (origin !== undefined) allowed.add(origin);
    }
  }
  const credentials = !any && options.credentials === true;
  const age = options.maxAgeSeconds;
  const maxAge = String(
    Number.isInteger(age) && age! >= 0
      ? Math.min(age!, MAX_MAX_AGE_SECONDS)
      : DEFAULT_MAX_AGE_SECONDS,
  );
  /** The CORS headers every answer to an allowed origin carries. */
  const shared = (origin: string): Record<string, string> => ({
    "access-control-allow-origin": any ? "*" : origin,
    ...(credentials ? { "access-control-allow-credentials": "true" } : {}),
    ...(any ? {} : { vary: "Origin" }),
  });
  return async (request: Request): Promise<Response> => {
    const origin = request.headers.get("origin");
    const permitted = origin !== null && (any || allowed.has(origin));
    // Fetch §3.3.2 "HTTP requests": a CORS-preflight request is an OPTIONS with Origin and
    // Access-Control-Request-Method. It never carries credentials (§3.3.5 "CORS protocol and
    // credentials") and must get an ok status (§3.3.3 "HTTP responses"), so it is answered here,
    // before the handler could challenge it.
    if (
      request.method === "OPTIONS" && origin !== null &&
      request.headers.has("access-control-request-method")
    ) {
      if (!permitted) {
        // Fetch §3.3.3 "HTTP responses": 403 without the CORS headers says no.
        return staticResponse(`Forbidden: origin ${origin} may not use this server\n`, {
          status: 403,
          headers: {
            "content-type": "text/plain; charset=utf-8",
            ...(any ? {} : { vary: "Origin" }),
          },
        });
      }
      // One static answer whatever was asked: a browser checks the method and headers it wants
      // against these lists itself.
      return staticResponse(null, {
        status: 204,
        headers: {
          ...shared(origin),
          "access-control-allow-methods": ALLOW_METHODS,
          "access-control-allow-headers": ALLOW_HEADERS,
          "access-control-max-age": maxAge,
        },
      });
    }
    const response = await handler(request);
    if (!permitted) return any ? response : withHeaders(response, { vary: "Origin" });
    return withHeaders(response, {
      ...shared(origin),
      "access-control-expose-headers": EXPOSE_HEADERS,
    });
  };
}
