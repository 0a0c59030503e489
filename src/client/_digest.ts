/**
 * Internals of HTTP authentication: the `WWW-Authenticate` / `Authentication-Info` parser
 * (RFC 7235 §2.1 and §4.1), Digest challenge validation, Basic credentials. Everything here is
 * pure and synchronous; `src/client/auth.ts` builds the public API on it. The Digest response
 * computation, which needs the hash functions, is in `_digest_answer.ts`, loaded only when a
 * challenge is answered.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { type Err, err, ok, type Result, safeTry } from "npm:neverthrow@^8.2.0/dist/index.es.js";

/**
 * One challenge of a `WWW-Authenticate` header (RFC 7235 §2.1): the scheme and either its
 * auth-params or a token68.
 */
export interface Challenge {
  /** The authentication scheme as the server spelled it, e.g. `Digest` (compare ignoring case). */
  readonly scheme: string;
  /** The auth-params, names in lower case, values unquoted and unescaped. */
  readonly params: Readonly<Record<string, string>>;
  /** The token68 form (e.g. `Negotiate YII...`), when the challenge uses it instead of params. */
  readonly token68?: string;
}

/** What {@linkcode digestAuthorization} needs besides the challenge. */
export interface DigestParams {
  /** The user name. */
  readonly username: string;
  /** The password. */
  readonly password: string;
  /** The request method, e.g. `GET`. */
  readonly method: string;
  /** The request-target exactly as sent: path and query of the request URL. */
  readonly uri: string;
  /** The client nonce; sent quoted, so any string works. Random in real use. */
  readonly cnonce: string;
  /** The nonce count: 1 for the first request with a nonce, then 2, 3, ... (sent as hex). */
  readonly nc: number;
  /** The request body, hashed when the challenge only offers `qop=auth-int`. @default {""} */
  readonly body?: string;
}

/** A Digest challenge checked and reduced to what the response computation needs. */
export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque?: string;
  /** The `algorithm` value as the server sent it; absent when it sent none (MD5 implied). */
  readonly algorithmToken?: string;
  /** The hash function family. */
  readonly hash: HashName;
  /** Whether the algorithm is a `-sess` variant. */
  readonly session: boolean;
  /** The protection chosen: `auth`, `auth-int`, or absent for RFC 2069 mode (no qop). */
  readonly qop?: "auth" | "auth-int";
  readonly stale: boolean;
  readonly userhash: boolean;
}

/** The hash functions RFC 7616 §3.2 / §6.1 names. */
export type HashName = "MD5" | "SHA-256" | "SHA-512-256";

/** Preference between hash families: higher is stronger. */
export const HASH_STRENGTH: Readonly<Record<HashName, number>> = {
  "MD5": 1,
  "SHA-256": 2,
  "SHA-512-256": 3,
};

const ENCODER = new TextEncoder();

/** Lower-case hex of `count` random bytes, from `crypto.getRandomValues`. */
export function randomHex(count: number): string {
  let hex = "";
  for (const byte of crypto.getRandomValues(new Uint8Array(count))) {
    hex += byte.toString(16).padStart(2, "0");
  }
  return hex;
}

// ---------------------------------------------------------------------------------------------
// Parser

/** tchar (RFC 7230 §3.2.6). */
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
/** token68 characters before the trailing "=" padding (RFC 7235 §2.1). */
const T68CHAR = /[-._~+/0-9A-Za-z]/;

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}
  get done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): string {
    return this.text[this.pos] ?? "";
  }
  skipOws(): void {
    while (this.peek() === " " || this.peek() === "\t") this.pos++;
  }
  skipOwsAndCommas(): void {
    while (this.peek() === " " || this.peek() === "\t" || this.peek() === ",") this.pos++;
  }
  readWhile(re: RegExp): string {
    const start = this.pos;
    while (!this.done && re.test(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }
}

/** A parse failure: the reason and where it happened. */
export interface ParseFailure {
  readonly reason: string;
  readonly offset: number;
}

function fail(reason: string, offset: number): Err<never, ParseFailure> {
  return err({ reason, offset });
}

/** quoted-string (RFC 7230 §3.2.6), the cursor on the opening quote; quoted-pairs unescaped. */
function readQuoted(c: Cursor): Result<string, ParseFailure> {
  const start = c.pos;
  c.pos++;
  let out = "";
  while (!c.done) {
    const ch = c.peek();
    if (ch === '"') {
      c.pos++;
      return ok(out);
    }
    if (ch === "\\") {
      c.pos++;
      if (c.done) break;
    }
    out += c.peek();
    c.pos++;
  }
  return fail("unterminated quoted string", start);
}

/**
 * If an auth-param starts here (token BWS "="), consume it and return it; otherwise leave the
 * cursor where it was and return `undefined`.
 */
function readParam(c: Cursor): Result<readonly [string, string], ParseFailure> | undefined {
  const start = c.pos;
  const name = c.readWhile(TCHAR);
  if (name === "") return undefined;
  c.skipOws();
  if (c.peek() !== "=") {
    c.pos = start;
    return undefined;
  }
  c.pos++;
  c.skipOws();
  if (c.peek() === '"') {
    return readQuoted(c).map((value) => [name.toLowerCase(), value] as const);
  }
  // RFC 7235 §2.1 allows a token here. Servers also send unquoted values that are not tokens
  // (a base64 `opaque` or `nonce` with "/" and "="), so take anything up to a comma or space.
  const value = c.readWhile(/[^,\s"]/);
  if (value === "") return fail(`parameter "${name}" has no value`, c.pos);
  return ok([name.toLowerCase(), value]);
}

/** After a parameter or token68: only whitespace, then a comma or the end, may follow. */
function expectListEnd(c: Cursor): ParseFailure | undefined {
  c.skipOws();
  if (c.done || c.peek() === ",") return undefined;
  return { reason: `unexpected character "${c.peek()}"`, offset: c.pos };
}

/** A token68 (RFC 7235 §2.1) if one, and nothing else before the next comma, starts here. */
function readToken68(c: Cursor): string | undefined {
  const start = c.pos;
  let value = c.readWhile(T68CHAR);
  if (value === "") return undefined;
  value += c.readWhile(/=/);
  c.skipOws();
  if (c.done || c.peek() === ",") return value;
  c.pos = start;
  return undefined;
}

/** Comma-separated auth-params (RFC 7235 §2.1), as in `Authentication-Info` (RFC 7615 §3). */
function readParams(
  c: Cursor,
  stopAtNewChallenge: boolean,
): Result<Record<string, string>, ParseFailure> {
  return safeTry(function* () {
    const entries: [string, string][] = [];
    const seen = new Set<string>();
    for (;;) {
      c.skipOwsAndCommas();
      if (c.done) break;
      const at = c.pos;
      const param = readParam(c);
      if (param === undefined) {
        if (stopAtNewChallenge) break;
        return fail("expected a parameter", at);
      }
      const [name, value] = yield* param;
      // RFC 7235 §2.2: each parameter name occurs once per challenge.
      if (seen.has(name)) return fail(`parameter "${name}" appears twice`, at);
      seen.add(name);
      entries.push([name, value]);
      const trailing = expectListEnd(c);
      if (trailing !== undefined) return err(trailing);
    }
    // Object.fromEntries defines own properties, so a "__proto__" parameter is just data.
    return ok(Object.fromEntries(entries));
  });
}

/**
 * Parse a `WWW-Authenticate` field value: `1#challenge` (RFC 7235 §4.1). Several header lines
 * arrive joined with ", " by `Headers.get`, which is the same list.
 */
export function parseChallenges(header: string): Result<Challenge[], ParseFailure> {
  return safeTry(function* () {
    const c = new Cursor(header);
    const challenges: Challenge[] = [];
    for (;;) {
      c.skipOwsAndCommas();
      if (c.done) break;
      const at = c.pos;
      const scheme = c.readWhile(TCHAR);
      if (scheme === "") return fail("expected an authentication scheme", at);
      if (!c.done && c.peek() !== " " && c.peek() !== "\t" && c.peek() !== ",") {
        return fail(`unexpected character "${c.peek()}" after scheme "${scheme}"`, c.pos);
      }
      c.skipOws();
      const token68 = readToken68(c);
      if (token68 !== undefined) {
        challenges.push(Object.freeze({ scheme, params: Object.freeze({}), token68 }));
        continue;
      }
      const params = yield* readParams(c, true);
      challenges.push(Object.freeze({ scheme, params: Object.freeze(params) }));
    }
    if (challenges.length === 0) return fail("no challenge found", 0);
    return ok(challenges);
  });
}

/** Parse a list of auth-params with no scheme, as `Authentication-Info` carries (RFC 7615). */
export function parseAuthParams(header: string): Result<Record<string, string>, ParseFailure> {
  return readParams(new Cursor(header), false);
}

// ---------------------------------------------------------------------------------------------
// Digest

function param(challenge: Challenge, name: string): string | undefined {
  return Object.hasOwn(challenge.params, name) ? challenge.params[name] : undefined;
}

/** Why a Digest challenge cannot be answered. */
export type DigestRefusal =
  | { readonly kind: "algorithm"; readonly algorithm: string }
  | { readonly kind: "other"; readonly reason: string };

/** Check a Digest challenge (RFC 7616 §3.3) and reduce it to what answering it needs. */
export function readDigestChallenge(
  challenge: Challenge,
): Result<DigestChallenge, DigestRefusal> {
  const refuse = (reason: string) => err({ kind: "other" as const, reason });
  if (challenge.scheme.toLowerCase() !== "digest") {
    return refuse(`scheme "${challenge.scheme}" is not Digest`);
  }
  if (challenge.token68 !== undefined) return refuse("token68 instead of parameters");
  const realm = param(challenge, "realm");
  if (realm === undefined) return refuse("missing realm");
  const nonce = param(challenge, "nonce");
  if (nonce === undefined || nonce === "") return refuse("missing nonce");
  const algorithmToken = param(challenge, "algorithm");
  // RFC 7616 §3.3: no algorithm means MD5. Algorithm names are compared ignoring case.
  const algorithm = (algorithmToken ?? "MD5").toUpperCase();
  const session = algorithm.endsWith("-SESS");
  const base = session ? algorithm.slice(0, -"-SESS".length) : algorithm;
  if (base !== "MD5" && base !== "SHA-256" && base !== "SHA-512-256") {
    return err({ kind: "algorithm", algorithm: algorithmToken ?? "" });
  }
  const qopOptions = param(challenge, "qop");
  let qop: "auth" | "auth-int" | undefined;
  if (qopOptions !== undefined) {
    const offered = qopOptions.split(",").map((q) => q.trim().toLowerCase());
    // Prefer "auth": it does not depend on the body. "auth-int" is computed when it is all the
    // server offers (RFC 7616 §3.4.3: A2 then includes H(entity-body)).
    if (offered.includes("auth")) qop = "auth";
    else if (offered.includes("auth-int")) qop = "auth-int";
    else return refuse(`unsupported qop "${qopOptions}"`);
  }
  const opaque = param(challenge, "opaque");
  return ok({
    realm,
    nonce,
    hash: base,
    session,
    stale: param(challenge, "stale")?.toLowerCase() === "true",
    userhash: param(challenge, "userhash")?.toLowerCase() === "true",
    ...(algorithmToken === undefined ? {} : { algorithmToken }),
    ...(opaque === undefined ? {} : { opaque }),
    ...(qop === undefined ? {} : { qop }),
  });
}

/** A quoted-string with `\` and `"` escaped (RFC 7230 §3.2.6). */
export function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, "\\$&")}"`;
}

/** `nc`: the count as exactly 8 lower-case hex digits (RFC 7616 §3.4): 0000000a follows 9. */
export function formatNonceCount(nc: number): string {
  return nc.toString(16).padStart(8, "0");
}

/** The largest nonce count 8 hex digits hold. */
export const MAX_NONCE_COUNT = 0xffffffff;

/** `Basic` credentials (RFC 7617 §2): base64 of the UTF-8 `user-id:password`. */
export function computeBasicAuthorization(username: string, password: string): string {
  const bytes = ENCODER.encode(`${username}:${password}`);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/** Why no Digest challenge of a 401 can be answered, for a `MalformedResponse` message. */
export function refusalMessage(refusals: readonly DigestRefusal[]): string {
  const algorithms = refusals.flatMap((r) => r.kind === "algorithm" ? [r.algorithm] : []);
  const others = refusals.flatMap((r) => r.kind === "other" ? [r.reason] : []);
  const reasons = [
    ...(algorithms.length === 0 ? [] : [
      `unsupported algorithm${algorithms.length === 1 ? "" : "s"} ` +
      algorithms.map((a) => JSON.stringify(a)).join(", ") +
      " (supported: MD5, SHA-256, SHA-512-256 and their -sess variants)",
    ]),
    ...others,
  ];
  return `Cannot answer Digest challenge: ${reasons.join("; ")}`;
}
