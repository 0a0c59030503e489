/**
 * HTTP authentication as executor middleware: Digest (RFC 7616, with the RFC 2069 form for
 * servers that send no `qop`) and Basic (RFC 7617), plus the pure pieces it is built from.
 *
 * {@linkcode withAuthentication} wraps an {@linkcode Executor}: it answers 401 challenges,
 * remembers the last Digest challenge per origin and answers it pre-emptively on the next
 * request (next `nc`, no extra round trip), and falls back to a fresh challenge when a server
 * with single-use nonces (OpenXCAP) refuses the pre-emptive answer.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import {
  err,
  errAsync,
  ok,
  type Result,
  ResultAsync,
} from "npm:neverthrow@^8.2.0/dist/index.es.js";
import {
  invalidArgument,
  type InvalidArgumentError,
  malformedResponse,
  type MalformedResponseError,
  type TransportError,
} from "./errors.ts";
import type { ExecuteOptions, Executor, XcapRequest, XcapResponse } from "./types.ts";
import { callExecutor } from "./_call_executor.ts";
import {
  type Challenge,
  computeBasicAuthorization,
  type DigestChallenge,
  type DigestRefusal,
  HASH_STRENGTH,
  MAX_NONCE_COUNT,
  parseAuthParams,
  parseChallenges,
  randomHex,
  readDigestChallenge,
  refusalMessage,
} from "./_digest.ts";

type DigestAnswer = typeof import("./_digest_answer.ts");
let digestAnswer: DigestAnswer | undefined;
let loadingDigestAnswer: Promise<DigestAnswer> | undefined;

/**
 * The Digest response computation and its hash functions (`@noble/hashes`), loaded the first
 * time a Digest challenge is answered: a client that never meets one neither loads nor
 * initialises them at start-up (issue 13: part of the cold start, tests/bench/RESULTS.md).
 * `deno bundle` (esbuild) keeps the module in the one output file, evaluated on first use.
 */
async function loadDigestAnswer(): Promise<DigestAnswer> {
  digestAnswer ??= await (loadingDigestAnswer ??= import("./_digest_answer.ts"));
  return digestAnswer;
}

/** The user name and password {@linkcode withAuthentication} answers challenges with. */
export interface XcapCredentials {
  /** The user name. */
  readonly username: string;
  /** The password. It never appears in an error message. */
  readonly password: string;
}

/** Options of {@linkcode withAuthentication}. */
export interface AuthenticationOptions {
  /**
   * Answer Basic challenges at all (over https, or over http with `allowBasicOverHttp`).
   * @default {true}
   */
  readonly allowBasic?: boolean;
  /**
   * Answer Basic challenges over plain http, which sends the password in clear text.
   * @default {false}
   */
  readonly allowBasicOverHttp?: boolean;
  /**
   * Answer a Basic challenge from an origin that sent a Digest challenge before. Off, a server
   * (or an attacker in the path) cannot downgrade a Digest client to Basic.
   * @default {false}
   */
  readonly allowBasicAfterDigest?: boolean;
  /**
   * How many 401 responses one request may react to (by answering a challenge, or by retrying
   * without stale credentials). One request causes at most `maxChallenges + 1` round trips;
   * the last 401 is then returned as a normal response.
   * @default {3}
   */
  readonly maxChallenges?: number;
}

const DEFAULT_MAX_CHALLENGES = 3;

/**
 * Parse a `WWW-Authenticate` header value into its challenges (RFC 7235 §2.1, §4.1).
 *
 * Several challenges may share one value, and several header lines arrive joined with ", " by
 * `Headers.get`; both are the same comma-separated list. Scheme and parameter names are
 * case-insensitive: parameter names come back in lower case, the scheme as sent. Values may be
 * tokens or quoted-strings (escapes undone, commas inside quotes kept); unquoted values that
 * are not tokens (such as a base64 `opaque`) are accepted up to the next comma or space.
 *
 * @param header The header value.
 * @returns The challenges in the order sent, or `MalformedResponse` saying what is wrong
 * where (empty value, unterminated quoted string, repeated parameter, stray character).
 *
 * @example Usage
 * ```ts
 * import { parseWwwAuthenticate } from "./auth.ts";
 * import { assert, assertEquals } from "@std/assert";
 *
 * const result = parseWwwAuthenticate(
 *   'Basic realm="xcap", DIGEST Realm="a, \\"b\\"", nonce="n1", opaque=YWJj/==',
 * );
 * assert(result.isOk());
 * assertEquals(result.value, [
 *   { scheme: "Basic", params: { realm: "xcap" } },
 *   { scheme: "DIGEST", params: { realm: 'a, "b"', nonce: "n1", opaque: "YWJj/==" } },
 * ]);
 * assert(parseWwwAuthenticate('Digest realm="open').isErr());
 * ```
 */
export function parseWwwAuthenticate(header: string): Result<Challenge[], MalformedResponseError> {
  if (typeof header !== "string") {
    return err(malformedResponse("Cannot parse WWW-Authenticate header: it is not a string", 401));
  }
  return parseChallenges(header).mapErr((failure) => {
    const shown = header.length > 120 ? `${header.slice(0, 120)}...` : header;
    return malformedResponse(
      `Cannot parse WWW-Authenticate header ${JSON.stringify(shown)}: ` +
        `${failure.reason} at offset ${failure.offset}`,
      401,
    );
  });
}

/**
 * The best Digest challenge of a 401: the strongest hash (SHA-512-256, then SHA-256, then
 * MD5), the server's order among equals. A challenge whose algorithm is not understood is
 * ignored and another one used (RFC 2617 §3.2.1, "algorithm").
 */
function chooseDigest(
  challenges: readonly Challenge[],
): Result<DigestChallenge, MalformedResponseError> {
  let best: DigestChallenge | undefined;
  const refusals: DigestRefusal[] = [];
  for (const challenge of challenges) {
    const checked = readDigestChallenge(challenge);
    if (checked.isErr()) refusals.push(checked.error);
    else if (best === undefined || HASH_STRENGTH[checked.value.hash] > HASH_STRENGTH[best.hash]) {
      best = checked.value;
    }
  }
  return best === undefined ? err(malformedResponse(refusalMessage(refusals), 401)) : ok(best);
}

/** A Digest challenge being answered: its nonce count, and the cnonce a `-sess` key uses. */
interface DigestSession {
  readonly challenge: DigestChallenge;
  nc: number;
  readonly cnonce?: string;
}

/** What one wrapped executor remembers about one origin. */
interface OriginState {
  digestSeen: boolean;
  session: DigestSession | undefined;
  basic: boolean;
}

type Answer =
  | { readonly kind: "digest"; readonly session: DigestSession; readonly preemptive: boolean }
  | { readonly kind: "basic"; readonly preemptive: boolean };

function newSession(challenge: DigestChallenge): DigestSession {
  // For -sess the session key H(H(A1):nonce:cnonce) is fixed by the first cnonce (RFC 7616
  // §3.4.2), so keep that cnonce for the nonce's lifetime; otherwise every request draws one.
  return challenge.session ? { challenge, nc: 0, cnonce: randomHex(16) } : { challenge, nc: 0 };
}

function withHeader(request: XcapRequest, authorization: string): XcapRequest {
  return Object.freeze({
    ...request,
    headers: Object.freeze({ ...request.headers, authorization }),
  });
}

function checkAuthenticationArguments(
  executor: unknown,
  credentials: unknown,
  options: unknown,
): InvalidArgumentError | undefined {
  if (typeof executor !== "function") {
    return invalidArgument(
      "executor",
      `The executor to wrap is not a function (${typeof executor})`,
    );
  }
  if (typeof credentials !== "object" || credentials === null) {
    return invalidArgument("credentials", "Credentials must be an object { username, password }");
  }
  const { username, password } = credentials as Record<string, unknown>;
  if (typeof username !== "string") {
    return invalidArgument("credentials.username", "The user name must be a string");
  }
  if (typeof password !== "string") {
    // Never say what it was: it may be the password in the wrong type.
    return invalidArgument("credentials.password", "The password must be a string");
  }
  if (typeof options !== "object" || options === null) {
    return invalidArgument("options", "Authentication options must be an object");
  }
  for (const name of ["allowBasic", "allowBasicOverHttp", "allowBasicAfterDigest"] as const) {
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined && typeof value !== "boolean") {
      return invalidArgument(`options.${name}`, `${name} must be true or false`);
    }
  }
  return undefined;
}

/**
 * Wrap an {@linkcode Executor} so that it answers HTTP authentication challenges.
 *
 * - A 401 with `WWW-Authenticate` is answered once with the strongest Digest challenge offered
 *   (RFC 7616 §3.4), or, when no Digest challenge is offered, with Basic.
 * - The challenge is remembered per origin: the next request answers it at once with the next
 *   nonce count. Concurrent requests each get their own `nc`. A `nextnonce` in
 *   `Authentication-Info` (RFC 7616 §3.5) replaces the remembered nonce.
 * - A pre-emptive answer refused with a 401 that carries no challenge (OpenXCAP's nonces are
 *   single-use) makes the middleware forget the challenge and send the request once more
 *   without credentials to obtain a fresh one. `stale=true` is answered with the new nonce.
 * - Otherwise a 401 after an answer means the credentials were refused: it is returned as a
 *   normal response, as is any 401 it cannot or may not answer, and the last 401 once
 *   `maxChallenges` is reached. The response layer turns it into `Unauthorized`.
 * - Basic over plain http, Basic from an origin that sent Digest before, and Basic with
 *   `allowBasic: false` are refused the same way: the 401 comes back untouched, and nothing
 *   is sent. A user name containing ":" cannot be sent with Basic: `InvalidArgument`.
 * - A challenge that cannot be parsed, or Digest challenges none of which can be answered
 *   (unknown algorithm, no nonce), give `MalformedResponse`; messages never hold credentials.
 * - A request that already has an `authorization` header is passed through untouched.
 *
 * The caller's request is never modified: credentials go into a new frozen request.
 *
 * @param executor The executor to wrap.
 * @param credentials The user name and password.
 * @param options Basic policy and the round-trip bound. An unusable argument (an executor that
 * is not a function, a user name or password that is not a string, a `maxChallenges` that is
 * not a non-negative integer) makes every call return `InvalidArgument`.
 * @returns An executor that authenticates.
 *
 * @example Usage
 * ```ts
 * import { type Executor, withAuthentication, type XcapRequest } from "@xcap/xcap";
 * import { okAsync } from "npm:neverthrow@^8.2.0";
 * import { assert, assertEquals } from "@std/assert";
 *
 * // A stand-in server: challenges requests without credentials, accepts the rest.
 * const sent: XcapRequest[] = [];
 * const server: Executor = (request) => {
 *   sent.push(request);
 *   const challenge = 'Digest realm="xcap", nonce="n1", qop="auth", algorithm=SHA-256';
 *   const headers = new Headers(
 *     request.headers.authorization === undefined ? { "www-authenticate": challenge } : {},
 *   );
 *   const status = request.headers.authorization === undefined ? 401 : 200;
 *   return okAsync({ status, headers, body: "", url: request.url });
 * };
 *
 * const execute = withAuthentication(server, { username: "alice", password: "secret" });
 * const request: XcapRequest = {
 *   method: "GET",
 *   url: "https://xcap.example.com/xcap-root/xcap-caps/global/index",
 *   headers: {},
 * };
 * const first = await execute(request);
 * assert(first.isOk());
 * assertEquals(first.value.status, 200);
 * assertEquals(sent.length, 2); // the challenge, then the answer
 * assert(sent[1]!.headers.authorization!.startsWith('Digest username="alice", realm="xcap"'));
 *
 * // The next request answers the remembered challenge at once, with the next nonce count.
 * await execute(request);
 * assertEquals(sent.length, 3);
 * assert(sent[2]!.headers.authorization!.includes("nc=00000002"));
 * ```
 */
export function withAuthentication(
  executor: Executor,
  credentials: XcapCredentials,
  options: AuthenticationOptions = {},
): Executor {
  const invalid = checkAuthenticationArguments(executor, credentials, options);
  if (invalid !== undefined) return () => errAsync(invalid);
  const allowBasic = options.allowBasic ?? true;
  const allowBasicOverHttp = options.allowBasicOverHttp ?? false;
  const allowBasicAfterDigest = options.allowBasicAfterDigest ?? false;
  const maxChallenges = options.maxChallenges ?? DEFAULT_MAX_CHALLENGES;
  if (!Number.isInteger(maxChallenges) || maxChallenges < 0) {
    const error = invalidArgument(
      "options.maxChallenges",
      `maxChallenges ${
        typeof maxChallenges === "number" ? maxChallenges : typeof maxChallenges
      } is not a non-negative integer`,
    );
    return () => errAsync(error);
  }
  const { username, password } = credentials;
  const origins = new Map<string, OriginState>();

  function stateFor(origin: string): OriginState {
    let state = origins.get(origin);
    if (state === undefined) {
      state = { digestSeen: false, session: undefined, basic: false };
      origins.set(origin, state);
    }
    return state;
  }

  /**
   * The header for an answer; the nonce count is taken here, synchronously. `digest` is the
   * loaded Digest computation, present whenever `answer` is a Digest one.
   */
  function authorize(
    answer: Answer,
    request: XcapRequest,
    url: URL,
    digest: DigestAnswer | undefined,
  ): Result<string, InvalidArgumentError> {
    if (answer.kind === "basic") {
      // RFC 7617 §2: the user-id cannot contain a colon.
      if (username.includes(":")) {
        return err(invalidArgument(
          "credentials.username",
          "Cannot answer a Basic challenge: the user name contains a colon (RFC 7617 §2)",
        ));
      }
      return ok(computeBasicAuthorization(username, password));
    }
    const session = answer.session;
    session.nc += 1;
    return ok(digest!.computeDigestAuthorization(session.challenge, {
      username,
      password,
      method: request.method,
      // RFC 7616 §3.4: uri is the request-target; fetch sends path and query as URL
      // serializes them.
      uri: url.pathname + url.search,
      cnonce: session.cnonce ?? randomHex(16),
      nc: session.nc,
      ...(request.body === undefined ? {} : { body: request.body }),
    }));
  }

  /** A pre-emptive answer from what the origin told us before, if any. */
  function remembered(state: OriginState): Answer | undefined {
    const session = state.session;
    if (session !== undefined && session.nc < MAX_NONCE_COUNT) {
      return { kind: "digest", session, preemptive: true };
    }
    return state.basic ? { kind: "basic", preemptive: true } : undefined;
  }

  function forget(state: OriginState, answer: Answer): void {
    if (answer.kind === "digest") {
      if (state.session === answer.session) state.session = undefined;
    } else {
      state.basic = false;
    }
  }

  /** RFC 7616 §3.5: `nextnonce` in Authentication-Info is the nonce for the next request. */
  function takeNextNonce(state: OriginState, session: DigestSession, headers: Headers): void {
    const info = headers.get("authentication-info");
    if (info === null || state.session !== session) return;
    const parsed = parseAuthParams(info);
    if (parsed.isErr()) return;
    if (!Object.hasOwn(parsed.value, "nextnonce")) return;
    const nextnonce = parsed.value["nextnonce"];
    if (nextnonce === undefined || nextnonce === "") return;
    state.session = newSession({ ...session.challenge, nonce: nextnonce, stale: false });
  }

  async function run(
    request: XcapRequest,
    callOptions: ExecuteOptions | undefined,
  ): Promise<Result<XcapResponse, TransportError>> {
    if (
      typeof request !== "object" || request === null || typeof request.url !== "string" ||
      typeof request.headers !== "object" || request.headers === null
    ) {
      // Not ours to report: the wrapped executor says what is wrong with the request.
      return await callExecutor(executor, request, callOptions);
    }
    const callerHandlesAuth = Object.keys(request.headers).some((name) =>
      name.toLowerCase() === "authorization"
    );
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      // Not ours to report: the wrapped executor says what is wrong with the URL.
      return await callExecutor(executor, request, callOptions);
    }
    if (callerHandlesAuth) return await callExecutor(executor, request, callOptions);

    const state = stateFor(url.origin);
    let answer = remembered(state);
    let reactions = 0;
    let staleAnswered = false;
    for (;;) {
      let sent = request;
      if (answer !== undefined) {
        // Loaded once per process; before it, no Digest session can exist, so no nonce count
        // moves while this waits.
        const digest = answer.kind === "digest"
          ? digestAnswer ?? await loadDigestAnswer()
          : undefined;
        const header = authorize(answer, request, url, digest);
        if (header.isErr()) return err(header.error);
        sent = withHeader(request, header.value);
      }
      const result = await callExecutor(executor, sent, callOptions);
      if (result.isErr()) return result;
      const response = result.value;
      if (response.status !== 401) {
        if (answer?.kind === "digest") takeNextNonce(state, answer.session, response.headers);
        if (answer?.kind === "basic") state.basic = true;
        return ok(response);
      }
      if (reactions >= maxChallenges) return ok(response);
      reactions += 1;

      const header = response.headers.get("www-authenticate");
      if (header === null || header.trim() === "") {
        // OpenXCAP refuses a reused nonce with a bare 401: start over without credentials to
        // get a fresh challenge. A bare 401 to a fresh answer means the credentials are wrong.
        if (answer?.preemptive) {
          forget(state, answer);
          answer = undefined;
          continue;
        }
        return ok(response);
      }
      const parsed = parseWwwAuthenticate(header);
      if (parsed.isErr()) return err(parsed.error);
      const challenges = parsed.value;

      if (challenges.some((c) => c.scheme.toLowerCase() === "digest")) {
        state.digestSeen = true;
        const chosen = chooseDigest(challenges);
        if (chosen.isErr()) return err(chosen.error);
        const challenge = chosen.value;
        if (answer !== undefined && !answer.preemptive) {
          // RFC 7616 §3.3: stale=true means the nonce expired but the digest was right, so
          // retry with the new nonce (once); otherwise the credentials were refused.
          if (!challenge.stale || staleAnswered) {
            forget(state, answer);
            return ok(response);
          }
          staleAnswered = true;
        }
        const session = newSession(challenge);
        state.session = session;
        answer = { kind: "digest", session, preemptive: false };
        continue;
      }

      if (challenges.some((c) => c.scheme.toLowerCase() === "basic")) {
        const refused = !allowBasic ||
          (state.digestSeen && !allowBasicAfterDigest) ||
          (url.protocol !== "https:" && !allowBasicOverHttp) ||
          (answer?.kind === "basic" && !answer.preemptive);
        if (refused) {
          if (answer !== undefined) forget(state, answer);
          return ok(response);
        }
        answer = { kind: "basic", preemptive: false };
        continue;
      }
      // Only schemes we do not speak (Bearer, Negotiate, ...): the caller sees the 401.
      return ok(response);
    }
  }

  // Per request, so the cheapest form: `run` returns a Result and only a bug of ours can make it
  // reject. ResultAsync.fromPromise(...).andThen(...) would allocate two more ResultAsyncs and an
  // Ok per request for the same outcome.
  return (request, callOptions) =>
    new ResultAsync(
      run(request, callOptions).catch((cause: unknown) =>
        err<XcapResponse, TransportError>({
          _tag: "NetworkError",
          message: "The authentication middleware failed unexpectedly",
          cause,
        })
      ),
    );
}
