/**
 * Server-side HTTP authentication for the XCAP server: Digest (RFC 7616, MD5 and SHA-256,
 * `qop=auth`) and Basic (RFC 7617) against a pluggable credential lookup (clear passwords or
 * pre-hashed HA1 values), and the rule that a user owns its own `users/<XUI>` tree.
 *
 * The realm is the domain of the user whose tree a request addresses (`sip:alice@example.com` →
 * `example.com`), as OpenXCAP does and python-xcaplib expects; a fixed `realm` overrides it, and
 * requests that address no user (the global tree, `xcap-caps`) use `defaultRealm`.
 *
 * Nonces are stateless: a timestamp and random bytes signed with an HMAC of a server secret and
 * the realm, so every instance that shares the secret verifies every other instance's nonces, and
 * an expired nonce is answered with `stale=true`. Used nonce counts are remembered per account,
 * only after a request authenticated, in bounded memory that fails closed (`_replay.ts`).
 *
 * No credential is ever logged, echoed or put into a message, and an unknown user costs the same
 * work as a wrong password.
 *
 * Pure: Web APIs only (hashes from `@noble/hashes`, which runs anywhere, MD5 included).
 *
 * @module
 */
import { timingSafeEqual } from "jsr:@std/crypto@^1.0.5/timing-safe-equal";
import { decodeBase64Url, encodeBase64Url } from "jsr:@std/encoding@^1.0.10/base64url";
import { hmac } from "npm:@noble/hashes@^2.0.0/hmac.js";
import { sha256 } from "npm:@noble/hashes@^2.0.0/sha2.js";
import { type Challenge, parseChallenges, quote, randomHex } from "../client/_digest.ts";
import { hashHex } from "../client/_digest_answer.ts";
import { ReplayGuard } from "./_replay.ts";

/** An authentication scheme the server can offer. */
export type AuthenticationScheme = "digest-sha-256" | "digest-md5" | "basic";

/** The Digest algorithms whose HA1 a {@linkcode StoredCredentials} can hold. */
export type DigestAlgorithm = "MD5" | "SHA-256";

/** What the server knows about one user's credentials, as a {@linkcode PasswordLookup} gives it. */
export interface StoredCredentials {
  /**
   * Who signs in, for the ownership check (`owns`), e.g. `alice@example.com`.
   * @default the user name sent, qualified with the realm when the realm is the user's domain
   */
  readonly account?: string;
  /** The password in clear text. */
  readonly password?: string;
  /**
   * Pre-hashed passwords: per Digest algorithm, `HA1 = H(username ":" realm ":" password)` in hex
   * (RFC 7616 §3.4.2), for the user name and realm the lookup was asked about. A request with an
   * algorithm that has no HA1 here is refused. Basic checks the password against either.
   */
  readonly ha1?: { readonly [A in DigestAlgorithm]?: string };
}

/**
 * Where credentials come from: the user name as the client sent it and the realm of the request;
 * the password (a string), the stored credentials, or `undefined` for an unknown user.
 */
export type PasswordLookup = (
  username: string,
  realm: string,
) =>
  | string
  | StoredCredentials
  | undefined
  | Promise<string | StoredCredentials | undefined>;

/** How the XCAP server authenticates requests. */
export interface ServerAuthenticationOptions {
  /**
   * A fixed protection space for every request, sent in every challenge and part of every Digest
   * hash. Without it, the realm is the domain of the user whose tree the request addresses
   * (OpenXCAP's rule, and the only realm python-xcaplib answers), and `defaultRealm` for
   * requests that address no user.
   */
  readonly realm?: string;
  /** The realm of requests that address no user (global documents, `xcap-caps`). @default "xcap" */
  readonly defaultRealm?: string;
  /** Look a user's credentials up by user name and realm. */
  readonly lookup: PasswordLookup;
  /**
   * The schemes offered, in the order the challenges are sent (RFC 7616 §3.7: most preferred
   * first). Keep `digest-md5` last (or alone) for python-xcaplib: Python's urllib reads the
   * parameters of all challenges of one header into one dictionary, so the last algorithm and
   * nonce win.
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
   * Most nonces whose used counts are remembered, over all users. Past it, the least recently
   * active user's nonces are forgotten, and every nonce issued before them is answered
   * `stale=true` (never trusted). @default 65_536
   */
  readonly maxTrackedNonces?: number;
  /**
   * Most nonces remembered per user; past it, that user's oldest nonce is forgotten and its
   * older nonces get `stale=true`. @default 1_024
   */
  readonly maxTrackedNoncesPerUser?: number;
  /**
   * Whether an authenticated user may read and write the `users/<xui>` tree. Called with the
   * account (see {@linkcode StoredCredentials.account}) and the XUI.
   * @default {@linkcode ownsXui}
   */
  readonly owns?: (account: string, xui: string) => boolean;
}

/** What a request addresses, as far as authentication cares. */
export interface AuthenticationScope {
  /** The XUI of the `users/<xui>` tree the request addresses, if any: it decides the realm. */
  readonly xui?: string;
}

/** What {@linkcode Authenticator.authenticate} decided. */
export type AuthenticationOutcome =
  | {
    readonly kind: "authenticated";
    /** The user name the client sent. */
    readonly username: string;
    /** Who signed in (see {@linkcode StoredCredentials.account}). */
    readonly account: string;
    /** The realm the request was authenticated in. */
    readonly realm: string;
  }
  | {
    readonly kind: "refused";
    /** Why, without any credential in it: goes into the 401 body. */
    readonly reason: string;
    /** The `WWW-Authenticate` challenges to send, in order (one header value joins them). */
    readonly challenges: readonly string[];
  }
  | {
    /** The credential lookup threw or rejected: neither a yes nor a no (the handler answers 500). */
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
   * @param scope What the request addresses (its XUI decides the realm).
   * @returns Who signed in; or why not and the challenges for the 401; or the lookup's failure.
   * Never rejects.
   */
  authenticate(request: Request, scope?: AuthenticationScope): Promise<AuthenticationOutcome>;
}

const ENCODER = new TextEncoder();
const DEFAULT_SCHEMES: readonly AuthenticationScheme[] = ["digest-sha-256", "digest-md5", "basic"];
const DIGEST_ALGORITHMS: Readonly<
  Record<string, { scheme: AuthenticationScheme; hash: DigestAlgorithm }>
> = {
  "SHA-256": { scheme: "digest-sha-256", hash: "SHA-256" },
  "MD5": { scheme: "digest-md5", hash: "MD5" },
};
/** Nonces signed up to this far in the future are accepted (clock skew between instances). */
const CLOCK_SKEW_MS = 60_000;
const DEFAULT_MAX_TRACKED_NONCES = 65_536;
const DEFAULT_MAX_TRACKED_NONCES_PER_USER = 1_024;
/**
 * Checked in place of the password of an unknown user (or next to a stored HA1), so that an
 * unknown user, a wrong password and a right one cost the same work (issue 10.9).
 */
const DUMMY_PASSWORD = randomHex(16);

/** Decode base64 or base64url, padded or not; `undefined` when it is neither. */
function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_\-+/]*={0,2}$/.test(text)) return undefined;
  try {
    return decodeBase64Url(text.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_"));
  } catch {
    return undefined;
  }
}

/** Compare without an early exit inside, so the time taken does not tell how much matched. */
function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(ENCODER.encode(a), ENCODER.encode(b));
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
 * import { ownsXui } from "./auth.ts";
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

/**
 * The domain of an XUI (`sip:alice@Example.com;transport=tls` → `Example.com`, as written), the
 * realm of a request for that user's tree; `undefined` when it has none that can go into a
 * quoted-string as it is (no `@`, controls, spaces, non-ASCII).
 */
function xuiDomain(xui: string): string | undefined {
  const address = xui.replace(/^(sips?|tel|mailto|xmpp|im|pres):/i, "");
  const at = address.indexOf("@");
  if (at <= 0) return undefined;
  const rest = address.slice(at + 1);
  const host = rest.startsWith("[")
    ? rest.slice(0, rest.indexOf("]") + 1)
    : rest.split(/[;?:>]/)[0]!;
  return /^[\x21-\x7e]{1,253}$/.test(host) && !/[@"\\,]/.test(host) ? host : undefined;
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

/** `decodeURIComponent`, or the text as it is where it is not valid percent-encoding. */
function decodeLoosely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * A request-target reduced to what it names: the path segments and the query, each with its
 * percent-encoding undone (after URL parsing resolved dot segments), so that `"` and `%22`,
 * `[` and `%5B`, `@` and `%40` compare equal; the handler decodes them alike. `undefined` when
 * it does not parse as a URL reference.
 */
function canonicalTarget(target: string, base: URL): string | undefined {
  let url: URL;
  try {
    url = new URL(target, base);
  } catch {
    return undefined;
  }
  return JSON.stringify([url.pathname.split("/").map(decodeLoosely), decodeLoosely(url.search)]);
}

/**
 * Whether a Digest `uri` parameter names the request's own target (RFC 7616 §3.4.6). Origin
 * form or absolute form; percent-encoding differences do not matter, the path and the query do.
 */
function sameTarget(uriParam: string, requestUrl: URL): boolean {
  const named = canonicalTarget(uriParam, requestUrl);
  return named !== undefined &&
    named === canonicalTarget(requestUrl.pathname + requestUrl.search, requestUrl);
}

/** The parameter names of Digest credentials (RFC 7616 §3.4): what may follow a `uri` value. */
const URI_VALUE_END =
  /"[ \t]*(?:,[ \t]*(?:username\*?|realm|nonce|uri|response|algorithm|cnonce|opaque|qop|nc|userhash)[ \t]*=|$)/iy;
const URI_VALUE_START = /(?:^[ \t]*digest[ \t]+|,[ \t]*)uri[ \t]*=[ \t]*"/gi;
/** Bounds on the readings tried, so a header full of quotes costs a bounded number of parses. */
const MAX_URI_STARTS = 4;
const MAX_URI_ENDS = 16;

/**
 * Parse an `Authorization` value: strictly (RFC 7235 §2.1), and for Digest, when that fails,
 * with the leniency below.
 *
 * Leniency (issue 11.2): python-xcaplib (through Python's urllib) and curl put the request-target
 * into `uri="…"` exactly as sent, so a node selector with a predicate brings raw quotes,
 * `uri="/…/list[@name="friends"]"`, which no quoted-string can hold. OpenXCAP accepts them. So
 * when the strict parse fails, `uri` is read up to a `"` that ends the header or is followed by
 * `, <a Digest parameter>=`, the rest must then parse strictly, and a reading is taken only when
 * its `uri` names this request's target (the first one that parses is returned otherwise, so
 * the refusal says the uri does not match).
 */
function parseCredentials(header: string, url: URL): Challenge | undefined {
  const strict = parseChallenges(header);
  if (strict.isOk()) return strict.value.length === 1 ? strict.value[0] : undefined;
  let fallback: Challenge | undefined;
  let starts = 0;
  for (const match of header.matchAll(URI_VALUE_START)) {
    if (++starts > MAX_URI_STARTS) break;
    const start = match.index + match[0].length;
    let ends = 0;
    for (let end = header.indexOf('"', start); end >= 0; end = header.indexOf('"', end + 1)) {
      URI_VALUE_END.lastIndex = end;
      if (!URI_VALUE_END.test(header)) continue;
      if (++ends > MAX_URI_ENDS) break;
      const parsed = parseChallenges(header.slice(0, start) + header.slice(end));
      const credentials = parsed.isOk() && parsed.value.length === 1 ? parsed.value[0]! : undefined;
      if (
        credentials === undefined || credentials.scheme.toLowerCase() !== "digest" ||
        credentials.params.uri !== ""
      ) {
        continue;
      }
      const reading: Challenge = {
        scheme: credentials.scheme,
        params: { ...credentials.params, uri: header.slice(start, end) },
      };
      if (sameTarget(reading.params.uri!, url)) return reading;
      fallback ??= reading;
    }
  }
  return fallback;
}

/** A credential lookup's answer, normalized. */
interface Found {
  readonly account?: string;
  readonly password?: string;
  readonly ha1?: { readonly [A in DigestAlgorithm]?: string };
}

/**
 * Build the request authenticator the XCAP handler uses: it checks `Authorization` headers and
 * produces the challenges for a 401.
 *
 * Digest (RFC 7616): algorithms `SHA-256` and `MD5` as `schemes` lists them (one nonce shared by
 * the challenges of one 401), `qop=auth` only, no `-sess` variants and no `userhash`;
 * `username*` is understood. The `uri` parameter must name the request's own target (raw quotes
 * from an unencoded node selector are understood, see the README's leniencies). Nonces expire
 * after `nonceLifetimeSeconds` (answered with `stale=true`); a nonce count seen before, or one
 * that can no longer be checked, is refused with `stale=true`.
 * Basic (RFC 7617): user name and password in UTF-8, accepted over `https:` or when
 * `allowBasicOverHttp` is set.
 *
 * @param options Realm, credential lookup, schemes and nonce settings.
 * @returns The authenticator.
 *
 * @example A Basic round trip
 * ```ts
 * import { createAuthenticator } from "./auth.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const auth = createAuthenticator({
 *   lookup: (user) => user === "alice" ? "secret" : undefined,
 *   allowBasicOverHttp: true,
 * });
 * const url = "http://127.0.0.1/xcap-root/resource-lists/users/sip:alice@example.com/index";
 * const anonymous = await auth.authenticate(new Request(url), { xui: "sip:alice@example.com" });
 * assertEquals(anonymous.kind, "refused");
 * const request = new Request(url, {
 *   headers: { authorization: `Basic ${btoa("alice:secret")}` },
 * });
 * assertEquals(await auth.authenticate(request, { xui: "sip:alice@example.com" }), {
 *   kind: "authenticated",
 *   username: "alice",
 *   account: "alice@example.com",
 *   realm: "example.com",
 * });
 * ```
 */
export function createAuthenticator(options: ServerAuthenticationOptions): Authenticator {
  const schemes = options.schemes ?? DEFAULT_SCHEMES;
  const defaultRealm = options.defaultRealm ?? "xcap";
  const lifetimeMs = Math.max(1, options.nonceLifetimeSeconds ?? 300) * 1000;
  const secret = options.secret === undefined
    ? crypto.getRandomValues(new Uint8Array(32))
    : typeof options.secret === "string"
    ? ENCODER.encode(options.secret)
    : options.secret;
  const replay = new ReplayGuard({
    maxNonces: options.maxTrackedNonces ?? DEFAULT_MAX_TRACKED_NONCES,
    maxNoncesPerAccount: options.maxTrackedNoncesPerUser ?? DEFAULT_MAX_TRACKED_NONCES_PER_USER,
    lifetimeMs: lifetimeMs + CLOCK_SKEW_MS,
  });

  /** The realm of a request and whether it is the addressed user's domain. */
  function realmFor(scope: AuthenticationScope | undefined): { realm: string; domain: boolean } {
    if (options.realm !== undefined) return { realm: options.realm, domain: false };
    const domain = scope?.xui === undefined ? undefined : xuiDomain(scope.xui);
    return domain === undefined
      ? { realm: defaultRealm, domain: false }
      : { realm: domain, domain: true };
  }

  // One opaque value per secret: instances that share the secret accept each other's.
  const opaque = encodeBase64Url(hmac(sha256, secret, ENCODER.encode("opaque")).subarray(0, 12));

  function sign(payload: Uint8Array, realm: string): Uint8Array {
    const name = ENCODER.encode(realm);
    const input = new Uint8Array(payload.length + name.length);
    input.set(payload);
    input.set(name, payload.length);
    return hmac(sha256, secret, input).subarray(0, 16);
  }

  function newNonce(realm: string): string {
    const payload = new Uint8Array(20);
    new DataView(payload.buffer).setFloat64(0, Date.now());
    crypto.getRandomValues(payload.subarray(8));
    const nonce = new Uint8Array(36);
    nonce.set(payload);
    nonce.set(sign(payload, realm), 20);
    return encodeBase64Url(nonce);
  }

  /** Signed by us for this realm and not expired ("valid"), expired ("stale"), or "invalid". */
  function checkNonce(
    nonce: string,
    realm: string,
  ): { state: "valid" | "stale"; issued: number } | { state: "invalid" } {
    const bytes = fromBase64Url(nonce);
    if (bytes === undefined || bytes.length !== 36) return { state: "invalid" };
    const payload = bytes.subarray(0, 20);
    if (!timingSafeEqual(sign(payload, realm), bytes.subarray(20))) return { state: "invalid" };
    const issued = new DataView(payload.buffer, payload.byteOffset).getFloat64(0);
    const age = Date.now() - issued;
    if (!Number.isFinite(age) || age < -CLOCK_SKEW_MS) return { state: "invalid" };
    return { state: age > lifetimeMs ? "stale" : "valid", issued };
  }

  function basicAllowed(url: URL): boolean {
    return schemes.includes("basic") &&
      (url.protocol === "https:" || options.allowBasicOverHttp === true);
  }

  function challenges(url: URL, realm: string, stale: boolean): string[] {
    const list: string[] = [];
    const nonce = quote(newNonce(realm));
    const quotedOpaque = quote(opaque);
    for (const scheme of schemes) {
      if (scheme === "basic") {
        if (basicAllowed(url)) list.push(`Basic realm=${quote(realm)}, charset="UTF-8"`);
        continue;
      }
      const algorithm = scheme === "digest-sha-256" ? "SHA-256" : "MD5";
      list.push(
        `Digest realm=${quote(realm)}, qop="auth", algorithm=${algorithm}, ` +
          `nonce=${nonce}, opaque=${quotedOpaque}` + (stale ? ", stale=true" : ""),
      );
    }
    return list;
  }

  function refuse(url: URL, realm: string, reason: string, stale = false): AuthenticationOutcome {
    return { kind: "refused", reason, challenges: challenges(url, realm, stale) };
  }

  async function lookup(username: string, realm: string): Promise<Found | undefined> {
    const found = await options.lookup(username, realm);
    if (typeof found === "string") return { password: found };
    if (typeof found !== "object" || found === null) return undefined;
    return found;
  }

  function accountOf(found: Found, username: string, realm: string, domain: boolean): string {
    if (found.account !== undefined) return found.account;
    // The realm is the addressed user's domain: a bare user part signs in within that domain,
    // so "alice" in realm example.com is alice@example.com, never alice@elsewhere.
    return domain && !username.includes("@") ? `${username}@${realm}` : username;
  }

  async function basic(
    url: URL,
    realm: string,
    domain: boolean,
    token: string | undefined,
  ): Promise<AuthenticationOutcome> {
    if (!basicAllowed(url)) {
      return refuse(
        url,
        realm,
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
    if (decoded === undefined || colon < 0) {
      return refuse(url, realm, "Malformed Basic credentials");
    }
    const username = decoded.slice(0, colon);
    const given = decoded.slice(colon + 1);
    const found = await lookup(username, realm);
    // The same two hashes and one comparison whatever was found (issue 10.9).
    const algorithm: DigestAlgorithm = found?.password === undefined &&
        found?.ha1?.["SHA-256"] === undefined && found?.ha1?.MD5 !== undefined
      ? "MD5"
      : "SHA-256";
    const stored = hashHex(algorithm, `${username}:${realm}:${found?.password ?? DUMMY_PASSWORD}`);
    const expected = found?.password === undefined ? found?.ha1?.[algorithm] ?? stored : stored;
    const known = found !== undefined &&
      (found.password !== undefined || found.ha1?.[algorithm] !== undefined);
    const matches = constantTimeEqual(
      hashHex(algorithm, `${username}:${realm}:${given}`),
      expected.toLowerCase(),
    );
    if (!matches || !known || found === undefined) {
      return refuse(url, realm, "Unknown user name or wrong password");
    }
    return {
      kind: "authenticated",
      username,
      account: accountOf(found, username, realm, domain),
      realm,
    };
  }

  async function digest(
    request: Request,
    url: URL,
    realm: string,
    domain: boolean,
    params: Readonly<Record<string, string>>,
  ): Promise<AuthenticationOutcome> {
    const refuseHere = (reason: string, stale = false) => refuse(url, realm, reason, stale);
    const get = (name: string) => Object.hasOwn(params, name) ? params[name] : undefined;
    const algorithmToken = get("algorithm") ?? "MD5";
    const algorithm = DIGEST_ALGORITHMS[algorithmToken.toUpperCase()];
    if (algorithm === undefined || !schemes.includes(algorithm.scheme)) {
      return refuseHere(`Digest algorithm ${JSON.stringify(algorithmToken)} is not accepted`);
    }
    if (get("userhash")?.toLowerCase() === "true") {
      return refuseHere("Digest with userhash is not supported");
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
      return refuseHere("Digest credentials lack a required parameter");
    }
    if (get("realm") !== realm) return refuseHere("Digest credentials are for another realm");
    if (qop?.toLowerCase() !== "auth") return refuseHere('Digest credentials need qop="auth"');
    const count = nc !== undefined && /^[0-9a-fA-F]{8}$/.test(nc) ? parseInt(nc, 16) : 0;
    if (nc === undefined || count === 0) {
      return refuseHere("Digest credentials have a malformed nonce count");
    }
    const sentOpaque = get("opaque");
    if (sentOpaque !== undefined && sentOpaque !== opaque) {
      return refuseHere("Digest credentials carry a foreign opaque value");
    }
    // RFC 7616 §3.4.6: the uri parameter must designate the resource of the request itself.
    if (!sameTarget(uri, url)) return refuseHere("Digest uri does not match the request");
    const nonceState = checkNonce(nonce, realm);
    if (nonceState.state === "invalid") return refuseHere("Unknown nonce");
    const found = await lookup(username, realm);
    // The same work whatever the lookup found (issue 10.9): one HA1 from a password (the user's,
    // or a dummy for an unknown user and next to a stored HA1), H(A2), the response, and a
    // comparison without an early exit.
    const h = (data: string) => hashHex(algorithm.hash, data);
    const fromPassword = h(`${username}:${realm}:${found?.password ?? DUMMY_PASSWORD}`);
    const storedHa1 = found?.password === undefined ? found?.ha1?.[algorithm.hash] : undefined;
    const ha1 = storedHa1?.toLowerCase() ?? fromPassword;
    const ha2 = h(`${request.method}:${uri}`);
    const expected = h(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
    const matches = constantTimeEqual(expected, response.toLowerCase());
    const known = found !== undefined && (found.password !== undefined || storedHa1 !== undefined);
    if (!matches || !known || found === undefined) {
      return refuseHere("Unknown user name or wrong password");
    }
    // RFC 7616 §3.3: stale=true tells the client its credentials were right and only the nonce
    // was too old, so it retries with the new nonce without asking the user again.
    if (nonceState.state === "stale") return refuseHere("The nonce has expired", true);
    const account = accountOf(found, username, realm, domain);
    const use = replay.use(`${realm}\u0000${account}`, nonce, nonceState.issued, count, Date.now());
    if (use === "replayed") return refuseHere("The nonce count was used before", true);
    if (use === "forgotten") {
      // Fail closed: what can no longer be checked for a replay is never trusted.
      return refuseHere("The nonce can no longer be checked for replays; use the new one", true);
    }
    return { kind: "authenticated", username, account, realm };
  }

  async function authenticate(
    request: Request,
    scope?: AuthenticationScope,
  ): Promise<AuthenticationOutcome> {
    try {
      return await check(request, scope);
    } catch (cause) {
      return { kind: "failed", reason: "The credential lookup failed", cause };
    }
  }

  async function check(
    request: Request,
    scope: AuthenticationScope | undefined,
  ): Promise<AuthenticationOutcome> {
    const url = new URL(request.url);
    const { realm, domain } = realmFor(scope);
    const header = request.headers.get("authorization");
    if (header === null || header.trim() === "") {
      return refuse(url, realm, "Authentication required");
    }
    const credentials = parseCredentials(header, url);
    if (credentials === undefined) return refuse(url, realm, "Malformed Authorization header");
    switch (credentials.scheme.toLowerCase()) {
      case "digest":
        if (credentials.token68 !== undefined) {
          return refuse(url, realm, "Malformed Digest credentials");
        }
        return await digest(request, url, realm, domain, credentials.params);
      case "basic":
        return await basic(url, realm, domain, credentials.token68);
      default:
        return refuse(
          url,
          realm,
          `Authentication scheme ${JSON.stringify(credentials.scheme)} is not accepted`,
        );
    }
  }

  return { authenticate };
}
