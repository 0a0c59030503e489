/**
 * Server-side HTTP authentication for the XCAP server: Digest (RFC 7616, MD5 and SHA-256,
 * `qop=auth`) and Basic (RFC 7617) against a pluggable password lookup, and the rule that a user
 * owns its own `users/<XUI>` tree.
 *
 * Nonces are stateless: a timestamp and random bytes signed with an HMAC of a server secret, so
 * every instance that shares the secret verifies every other instance's nonces, and an expired
 * nonce is answered with `stale=true`. Nonce counts are remembered per instance (best effort) to
 * refuse a replayed `nc`.
 *
 * No credential is ever logged, echoed or put into a message.
 *
 * Pure: Web APIs only (hashes from `@noble/hashes`, which runs anywhere, MD5 included).
 *
 * @module
 */
import { hmac } from "npm:@noble/hashes@^2.0.0/hmac.js";
import { sha256 } from "npm:@noble/hashes@^2.0.0/sha2.js";
import { hashHex, type HashName, parseChallenges, quote } from "../_digest.ts";

/** An authentication scheme the server can offer. */
export type AuthenticationScheme = "digest-sha-256" | "digest-md5" | "basic";

/** Where passwords come from: the user's password, or `undefined` for an unknown user. */
export type PasswordLookup = (
  username: string,
) => string | undefined | Promise<string | undefined>;

/** How the XCAP server authenticates requests. */
export interface ServerAuthenticationOptions {
  /** The protection space, sent in every challenge and part of every Digest hash. */
  readonly realm: string;
  /** Look a user's password up by user name. */
  readonly lookup: PasswordLookup;
  /**
   * The schemes offered, strongest first; challenges are sent in this order.
   * @default ["digest-sha-256", "digest-md5", "basic"]
   */
  readonly schemes?: readonly AuthenticationScheme[];
  /**
   * Offer and accept Basic over plain `http:` too (the password then crosses the network in
   * clear). Over `https:` Basic is always accepted when listed in `schemes`. @default false
   */
  readonly allowBasicOverHttp?: boolean;
  /**
   * The key nonces are signed with. Server instances that share it accept each other's nonces.
   * @default 32 random bytes per handler
   */
  readonly secret?: string | Uint8Array;
  /** How long a nonce stays valid, in seconds; older ones get `stale=true`. @default 300 */
  readonly nonceLifetimeSeconds?: number;
  /**
   * Whether an authenticated user may read and write the `users/<xui>` tree.
   * @default {@linkcode ownsXui}
   */
  readonly owns?: (username: string, xui: string) => boolean;
}

/** What {@linkcode Authenticator.authenticate} decided. */
export type AuthenticationOutcome =
  | { readonly kind: "authenticated"; readonly username: string }
  | {
    readonly kind: "refused";
    /** Why, without any credential in it: goes into the 401 body. */
    readonly reason: string;
    /** The `WWW-Authenticate` values to send, one challenge each. */
    readonly challenges: readonly string[];
  }
  | {
    /** The password lookup threw or rejected: neither a yes nor a no (the handler answers 500). */
    readonly kind: "failed";
    /** What failed. */
    readonly reason: string;
    /** What the lookup threw. */
    readonly cause: unknown;
  };

/** Checks the credentials of a request. */
export interface Authenticator {
  /**
   * Check the `Authorization` header of a request.
   *
   * @param request The request.
   * @returns The user name; or why not and the challenges for the 401; or the lookup's failure.
   * Never rejects.
   */
  authenticate(request: Request): Promise<AuthenticationOutcome>;
}

const ENCODER = new TextEncoder();
const DEFAULT_SCHEMES: readonly AuthenticationScheme[] = ["digest-sha-256", "digest-md5", "basic"];
const DIGEST_ALGORITHMS: Readonly<
  Record<string, { scheme: AuthenticationScheme; hash: HashName }>
> = {
  "SHA-256": { scheme: "digest-sha-256", hash: "SHA-256" },
  "MD5": { scheme: "digest-md5", hash: "MD5" },
};
/** Nonces signed up to this far in the future are accepted (clock skew between instances). */
const CLOCK_SKEW_MS = 60_000;
/** Nonces whose counts are remembered; the oldest are forgotten first. */
const MAX_TRACKED_NONCES = 10_000;
/** Counts remembered per nonce; a client that uses one nonce more often gets a new one. */
const MAX_COUNTS_PER_NONCE = 10_000;

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Decode base64 or base64url, padded or not; `undefined` when it is neither. */
function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_\-+/]*={0,2}$/.test(text)) return undefined;
  try {
    const binary = atob(text.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** Compare without an early exit, so the time taken does not tell how much matched. */
function constantTimeEqual(a: string, b: string): boolean {
  const x = ENCODER.encode(a);
  const y = ENCODER.encode(b);
  const length = Math.max(x.length, y.length);
  let diff = x.length ^ y.length;
  for (let i = 0; i < length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * The default ownership rule: whether `username` owns the documents of `xui`.
 *
 * A user owns an XUI when its user name is the whole XUI, the XUI's `user@host`, or only the
 * XUI's user part. The last form is Kamailio's convention (`$au` equals the user part of the
 * XUI); it does not tell `alice@a.example` from `alice@b.example`, so a server for several domains
 * passes its own `owns` to {@linkcode ServerAuthenticationOptions}. User parts compare exactly, hosts
 * ignoring case.
 *
 * @param username The authenticated user name.
 * @param xui The XCAP user identifier of the tree, e.g. `sip:alice@example.com`.
 * @returns Whether the user may read and write that tree.
 *
 * @example Usage
 * ```ts
 * import { ownsXui } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(ownsXui("alice", "sip:alice@example.com"), true);
 * assertEquals(ownsXui("alice@EXAMPLE.com", "sip:alice@example.com"), true);
 * assertEquals(ownsXui("sip:alice@example.com", "sip:alice@example.com"), true);
 * assertEquals(ownsXui("bob", "sip:alice@example.com"), false);
 * ```
 */
export function ownsXui(username: string, xui: string): boolean {
  if (username === "" || xui === "") return false;
  if (username === xui) return true;
  const address = xui.replace(/^(sips?|tel|mailto|xmpp|im|pres):/i, "");
  const at = address.indexOf("@");
  if (at <= 0) return false;
  const user = address.slice(0, at);
  const host = address.slice(at + 1).split(/[;?]/)[0]!.toLowerCase();
  if (username === user) return true;
  const nameAt = username.indexOf("@");
  return nameAt > 0 && username.slice(0, nameAt) === user &&
    username.slice(nameAt + 1).toLowerCase() === host;
}

/** Remembers which nonce counts were used, per nonce, oldest nonces forgotten first. */
class NonceCounts {
  readonly #seen = new Map<string, Set<string>>();

  /** Record `nc` for `nonce`; false when it was used before (a replay) or too often. */
  use(nonce: string, nc: string): boolean {
    let counts = this.#seen.get(nonce);
    if (counts === undefined) {
      counts = new Set();
      this.#seen.set(nonce, counts);
      if (this.#seen.size > MAX_TRACKED_NONCES) {
        const oldest = this.#seen.keys().next().value;
        if (oldest !== undefined) this.#seen.delete(oldest);
      }
    }
    if (counts.has(nc) || counts.size >= MAX_COUNTS_PER_NONCE) return false;
    counts.add(nc);
    return true;
  }
}

/** Decode an RFC 8187 `ext-value` (`UTF-8''percent-encoded`), as `username*` carries it. */
function decodeExtValue(value: string): string | undefined {
  const match = /^UTF-8'[^']*'(.*)$/i.exec(value);
  if (match === null) return undefined;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return undefined;
  }
}

/** The request-target a Digest `uri` parameter names, normalized like the request URL. */
function sameTarget(uriParam: string, requestUrl: URL): boolean {
  try {
    const named = new URL(uriParam, requestUrl);
    return named.pathname + named.search === requestUrl.pathname + requestUrl.search;
  } catch {
    return false;
  }
}

/**
 * Build the request authenticator the XCAP handler uses: it checks `Authorization` headers and
 * produces the challenges for a 401.
 *
 * Digest (RFC 7616): algorithms `SHA-256` and `MD5` as `schemes` lists them, `qop=auth` only, no
 * `-sess` variants and no `userhash`; `username*` is understood. The `uri` parameter must name
 * the request's own target. Nonces expire after `nonceLifetimeSeconds` (answered with
 * `stale=true`), and a nonce count seen before for the same nonce is refused.
 * Basic (RFC 7617): user name and password in UTF-8, accepted over `https:` or when
 * `allowBasicOverHttp` is set.
 *
 * @param options Realm, password lookup, schemes and nonce settings.
 * @returns The authenticator.
 *
 * @example A Basic round trip
 * ```ts
 * import { createAuthenticator } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const auth = createAuthenticator({
 *   realm: "xcap",
 *   lookup: (user) => user === "alice" ? "secret" : undefined,
 *   allowBasicOverHttp: true,
 * });
 * const anonymous = await auth.authenticate(new Request("http://127.0.0.1/xcap-root/"));
 * assertEquals(anonymous.kind, "refused");
 * const request = new Request("http://127.0.0.1/xcap-root/", {
 *   headers: { authorization: `Basic ${btoa("alice:secret")}` },
 * });
 * assertEquals(await auth.authenticate(request), { kind: "authenticated", username: "alice" });
 * ```
 */
export function createAuthenticator(options: ServerAuthenticationOptions): Authenticator {
  const realm = options.realm;
  const schemes = options.schemes ?? DEFAULT_SCHEMES;
  const lifetimeMs = Math.max(1, options.nonceLifetimeSeconds ?? 300) * 1000;
  const secret = options.secret === undefined
    ? crypto.getRandomValues(new Uint8Array(32))
    : typeof options.secret === "string"
    ? ENCODER.encode(options.secret)
    : options.secret;
  const counts = new NonceCounts();
  const opaque = toBase64Url(
    hmac(sha256, secret, ENCODER.encode(`opaque\u0000${realm}`)).subarray(0, 12),
  );

  function sign(payload: Uint8Array): Uint8Array {
    const input = new Uint8Array(payload.length + ENCODER.encode(realm).length);
    input.set(payload);
    input.set(ENCODER.encode(realm), payload.length);
    return hmac(sha256, secret, input).subarray(0, 16);
  }

  function newNonce(): string {
    const payload = new Uint8Array(20);
    new DataView(payload.buffer).setFloat64(0, Date.now());
    crypto.getRandomValues(payload.subarray(8));
    const nonce = new Uint8Array(36);
    nonce.set(payload);
    nonce.set(sign(payload), 20);
    return toBase64Url(nonce);
  }

  /** "valid", "stale" (signed by us but expired) or "invalid". */
  function checkNonce(nonce: string): "valid" | "stale" | "invalid" {
    const bytes = fromBase64Url(nonce);
    if (bytes === undefined || bytes.length !== 36) return "invalid";
    const payload = bytes.subarray(0, 20);
    if (!bytesEqual(sign(payload), bytes.subarray(20))) return "invalid";
    const issued = new DataView(payload.buffer, payload.byteOffset).getFloat64(0);
    const age = Date.now() - issued;
    if (!Number.isFinite(age) || age < -CLOCK_SKEW_MS) return "invalid";
    return age > lifetimeMs ? "stale" : "valid";
  }

  function basicAllowed(url: URL): boolean {
    return schemes.includes("basic") &&
      (url.protocol === "https:" || options.allowBasicOverHttp === true);
  }

  function challenges(url: URL, stale: boolean): string[] {
    const list: string[] = [];
    for (const scheme of schemes) {
      if (scheme === "basic") {
        if (basicAllowed(url)) list.push(`Basic realm=${quote(realm)}, charset="UTF-8"`);
        continue;
      }
      const algorithm = scheme === "digest-sha-256" ? "SHA-256" : "MD5";
      list.push(
        `Digest realm=${quote(realm)}, qop="auth", algorithm=${algorithm}, ` +
          `nonce=${quote(newNonce())}, opaque=${quote(opaque)}` + (stale ? ", stale=true" : ""),
      );
    }
    return list;
  }

  function refuse(url: URL, reason: string, stale = false): AuthenticationOutcome {
    return { kind: "refused", reason, challenges: challenges(url, stale) };
  }

  async function lookup(username: string): Promise<string | undefined> {
    const password = await options.lookup(username);
    return typeof password === "string" ? password : undefined;
  }

  async function basic(url: URL, token: string | undefined): Promise<AuthenticationOutcome> {
    if (!basicAllowed(url)) {
      return refuse(
        url,
        schemes.includes("basic")
          ? "Basic authentication is only accepted over HTTPS"
          : "Basic authentication is not accepted",
      );
    }
    const bytes = token === undefined ? undefined : fromBase64Url(token);
    let decoded: string | undefined;
    try {
      decoded = bytes === undefined ? undefined : new TextDecoder("utf-8", { fatal: true })
        .decode(bytes);
    } catch {
      decoded = undefined;
    }
    const colon = decoded?.indexOf(":") ?? -1;
    if (decoded === undefined || colon < 0) return refuse(url, "Malformed Basic credentials");
    const username = decoded.slice(0, colon);
    const password = await lookup(username);
    if (password === undefined || !constantTimeEqual(password, decoded.slice(colon + 1))) {
      return refuse(url, "Unknown user name or wrong password");
    }
    return { kind: "authenticated", username };
  }

  async function digest(
    request: Request,
    url: URL,
    params: Readonly<Record<string, string>>,
  ): Promise<AuthenticationOutcome> {
    const get = (name: string) => Object.hasOwn(params, name) ? params[name] : undefined;
    const algorithmToken = get("algorithm") ?? "MD5";
    const algorithm = DIGEST_ALGORITHMS[algorithmToken.toUpperCase()];
    if (algorithm === undefined || !schemes.includes(algorithm.scheme)) {
      return refuse(url, `Digest algorithm ${JSON.stringify(algorithmToken)} is not accepted`);
    }
    if (get("userhash")?.toLowerCase() === "true") {
      return refuse(url, "Digest with userhash is not supported");
    }
    const starred = get("username*");
    const username = starred !== undefined ? decodeExtValue(starred) : get("username");
    const nonce = get("nonce");
    const uri = get("uri");
    const response = get("response");
    const qop = get("qop");
    const nc = get("nc");
    const cnonce = get("cnonce");
    if (
      username === undefined || nonce === undefined || uri === undefined ||
      response === undefined || cnonce === undefined
    ) {
      return refuse(url, "Digest credentials lack a required parameter");
    }
    if (get("realm") !== realm) return refuse(url, "Digest credentials are for another realm");
    if (qop?.toLowerCase() !== "auth") return refuse(url, 'Digest credentials need qop="auth"');
    if (nc === undefined || !/^[0-9a-fA-F]{8}$/.test(nc)) {
      return refuse(url, "Digest credentials have a malformed nonce count");
    }
    const sentOpaque = get("opaque");
    if (sentOpaque !== undefined && sentOpaque !== opaque) {
      return refuse(url, "Digest credentials carry a foreign opaque value");
    }
    // RFC 7616 §3.4.6: the uri parameter must designate the resource of the request itself.
    if (!sameTarget(uri, url)) return refuse(url, "Digest uri does not match the request");
    const nonceState = checkNonce(nonce);
    if (nonceState === "invalid") return refuse(url, "Unknown nonce");
    const password = await lookup(username);
    if (password === undefined) return refuse(url, "Unknown user name or wrong password");
    const h = (data: string) => hashHex(algorithm.hash, data);
    const ha1 = h(`${username}:${realm}:${password}`);
    const ha2 = h(`${request.method}:${uri}`);
    const expected = h(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
    if (!constantTimeEqual(expected, response.toLowerCase())) {
      return refuse(url, "Unknown user name or wrong password");
    }
    // RFC 7616 §3.3: stale=true tells the client its credentials were right and only the nonce
    // was too old, so it retries with the new nonce without asking the user again.
    if (nonceState === "stale") return refuse(url, "The nonce has expired", true);
    if (!counts.use(nonce, nc.toLowerCase())) {
      return refuse(url, "The nonce count was used before", true);
    }
    return { kind: "authenticated", username };
  }

  async function authenticate(request: Request): Promise<AuthenticationOutcome> {
    try {
      return await check(request);
    } catch (cause) {
      return { kind: "failed", reason: "The password lookup failed", cause };
    }
  }

  async function check(request: Request): Promise<AuthenticationOutcome> {
    const url = new URL(request.url);
    const header = request.headers.get("authorization");
    if (header === null || header.trim() === "") return refuse(url, "Authentication required");
    const parsed = parseChallenges(header);
    const credentials = parsed.ok ? parsed.value[0] : undefined;
    if (credentials === undefined || parsed.ok && parsed.value.length !== 1) {
      return refuse(url, "Malformed Authorization header");
    }
    switch (credentials.scheme.toLowerCase()) {
      case "digest":
        if (credentials.token68 !== undefined) return refuse(url, "Malformed Digest credentials");
        return await digest(request, url, credentials.params);
      case "basic":
        return await basic(url, credentials.token68);
      default:
        return refuse(
          url,
          `Authentication scheme ${JSON.stringify(credentials.scheme)} is not accepted`,
        );
    }
  }

  return { authenticate };
}
