/**
 * Answering a Digest challenge (RFC 7616 §3.4): the hash functions (`@noble/hashes`) and the
 * response computation. `withAuthentication` loads this module with a dynamic `import()` the
 * first time it answers a Digest challenge, so a client that never meets one does not load or
 * initialise the hashes at start-up (issue 13, tests/bench/RESULTS.md). The server imports it
 * statically.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { md5 } from "npm:@noble/hashes@^2.0.0/legacy.js";
import { sha256, sha512_256 } from "npm:@noble/hashes@^2.0.0/sha2.js";
import { bytesToHex } from "npm:@noble/hashes@^2.0.0/utils.js";
import {
  invalidArgument,
  type InvalidArgumentError,
  malformedResponse,
  type MalformedResponseError,
} from "./errors.ts";
import {
  type Challenge,
  type DigestChallenge,
  type DigestParams,
  formatNonceCount,
  type HashName,
  MAX_NONCE_COUNT,
  quote,
  readDigestChallenge,
  refusalMessage,
} from "./_digest.ts";

const ENCODER = new TextEncoder();

const HASHES: Readonly<Record<HashName, (data: Uint8Array) => Uint8Array>> = {
  "MD5": md5,
  "SHA-256": sha256,
  "SHA-512-256": sha512_256,
};

/** Hex digest of the UTF-8 bytes of `data` (RFC 7616 §3.4: the charset is UTF-8). */
export function hashHex(hash: HashName, data: string): string {
  return bytesToHex(HASHES[hash](ENCODER.encode(data)));
}

/** Whether `value` can go into a quoted-string as it is (printable ASCII only). */
function isPlainAscii(value: string): boolean {
  return /^[\x20-\x7e]*$/.test(value);
}

/** RFC 8187 ext-value of `value` in UTF-8, for `username*` (RFC 7616 §3.4.4). */
function extValue(value: string): string {
  // toWellFormed: encodeURIComponent throws on a lone surrogate.
  const encoded = encodeURIComponent(value.toWellFormed()).replace(
    /['()*!]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `UTF-8''${encoded}`;
}

/**
 * The `Authorization` value answering `challenge` (RFC 7616 §3.4), with its parameters in the
 * order of the RFC's examples and joined with ", " (OpenXCAP splits on exactly that).
 */
export function computeDigestAuthorization(
  challenge: DigestChallenge,
  params: DigestParams,
): string {
  const h = (data: string) => hashHex(challenge.hash, data);
  const { username, password, method, uri, cnonce } = params;
  const { realm, nonce } = challenge;
  const nc = formatNonceCount(params.nc);
  // RFC 7616 §3.4.2: A1, and for -sess variants the session key H(A1-base):nonce:cnonce.
  let ha1 = h(`${username}:${realm}:${password}`);
  if (challenge.session) ha1 = h(`${ha1}:${nonce}:${cnonce}`);
  // RFC 7616 §3.4.3: A2 = method:uri, plus H(entity-body) for auth-int.
  const ha2 = challenge.qop === "auth-int"
    ? h(`${method}:${uri}:${h(params.body ?? "")}`)
    : h(`${method}:${uri}`);
  // RFC 7616 §3.4.1; without qop, the RFC 2069 form KD(H(A1), nonce:H(A2)).
  const response = challenge.qop === undefined
    ? h(`${ha1}:${nonce}:${ha2}`)
    : h(`${ha1}:${nonce}:${nc}:${cnonce}:${challenge.qop}:${ha2}`);

  const parts: string[] = [];
  // RFC 7616 §3.4.4: with userhash the username is H(username:realm); a name that cannot be a
  // quoted-string goes into username* as an RFC 8187 ext-value instead.
  if (challenge.userhash) parts.push(`username=${quote(h(`${username}:${realm}`))}`);
  else if (isPlainAscii(username)) parts.push(`username=${quote(username)}`);
  else parts.push(`username*=${extValue(username)}`);
  parts.push(`realm=${quote(realm)}`, `uri=${quote(uri)}`);
  // RFC 7616 §3.4: algorithm, qop and nc are never quoted; the others always are.
  if (challenge.algorithmToken !== undefined) parts.push(`algorithm=${challenge.algorithmToken}`);
  parts.push(`nonce=${quote(nonce)}`);
  if (challenge.qop !== undefined) {
    parts.push(`nc=${nc}`, `cnonce=${quote(cnonce)}`, `qop=${challenge.qop}`);
  } else if (challenge.session) {
    parts.push(`cnonce=${quote(cnonce)}`);
  }
  parts.push(`response=${quote(response)}`);
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  if (challenge.userhash) parts.push("userhash=true");
  return `Digest ${parts.join(", ")}`;
}

/**
 * Compute the `Authorization` header value answering a Digest challenge (RFC 7616 §3.4).
 *
 * Deterministic given `cnonce` and `nc`. Supports the algorithms MD5, SHA-256 and SHA-512-256
 * and their `-sess` variants, `qop=auth` (preferred) and `qop=auth-int` (hashing `body`), the
 * RFC 2069 form when the challenge has no `qop`, `userhash`, and `username*` (RFC 8187) for a
 * user name that is not printable ASCII. `nc` goes out as 8 hex digits (`0000000a` after
 * `00000009`); `username`, `realm`, `uri`, `nonce`, `cnonce`, `response` and `opaque` are
 * quoted, `algorithm`, `nc` and `qop` are not, and parameters are joined with ", ".
 *
 * @param challenge A Digest challenge from {@linkcode parseWwwAuthenticate}.
 * @param params Credentials, the request method and target, `cnonce`, `nc`, and the body.
 * @returns The header value; `MalformedResponse` naming the algorithm (or the missing nonce or
 * realm, or the unsupported `qop`) when the challenge cannot be answered, `InvalidArgument`
 * when `nc` is not an integer from 1 to 4294967295. Credentials never appear in messages.
 *
 * @example RFC 7616 §3.9.1
 * ```ts
 * import { digestAuthorization } from "./_digest_answer.ts";
 * import { parseWwwAuthenticate } from "./auth.ts";
 * import { assert, assertStringIncludes } from "@std/assert";
 *
 * const challenges = parseWwwAuthenticate(
 *   'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, ' +
 *     'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", ' +
 *     'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
 * );
 * assert(challenges.isOk());
 * const header = digestAuthorization(challenges.value[0]!, {
 *   username: "Mufasa",
 *   password: "Circle of Life",
 *   method: "GET",
 *   uri: "/dir/index.html",
 *   cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
 *   nc: 1,
 * });
 * assert(header.isOk());
 * assertStringIncludes(
 *   header.value,
 *   'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"',
 * );
 * ```
 */
export function digestAuthorization(
  challenge: Challenge,
  params: DigestParams,
): Result<string, MalformedResponseError | InvalidArgumentError> {
  const invalid = checkDigestArguments(challenge, params);
  if (invalid !== undefined) return err(invalid);
  if (!Number.isInteger(params.nc) || params.nc < 1 || params.nc > MAX_NONCE_COUNT) {
    return err(
      invalidArgument(
        "params.nc",
        `Nonce count ${params.nc} is not an integer from 1 to 4294967295`,
      ),
    );
  }
  return readDigestChallenge(challenge).map((checked) =>
    computeDigestAuthorization(checked, params)
  ).mapErr((refusal) => malformedResponse(refusalMessage([refusal]), 401));
}

/** The shapes {@linkcode digestAuthorization} relies on; credentials are never quoted. */
function checkDigestArguments(
  challenge: unknown,
  params: unknown,
): InvalidArgumentError | undefined {
  const c = challenge as { scheme?: unknown; params?: unknown; token68?: unknown } | null;
  if (
    typeof c !== "object" || c === null || typeof c.scheme !== "string" ||
    (c.token68 !== undefined && typeof c.token68 !== "string") ||
    typeof c.params !== "object" || c.params === null ||
    Object.values(c.params).some((v) => typeof v !== "string")
  ) {
    return invalidArgument(
      "challenge",
      "The challenge must be { scheme, params } as parseWwwAuthenticate returns it",
    );
  }
  if (typeof params !== "object" || params === null) {
    return invalidArgument("params", "The Digest parameters must be an object");
  }
  const p = params as Record<string, unknown>;
  for (const name of ["username", "password", "method", "uri", "cnonce"]) {
    if (typeof p[name] !== "string") {
      return invalidArgument(`params.${name}`, `params.${name} must be a string`);
    }
  }
  if (p["body"] !== undefined && typeof p["body"] !== "string") {
    return invalidArgument("params.body", "params.body must be a string when given");
  }
  return undefined;
}
