/**
 * The default executor: runs an {@linkcode XcapRequest} on `fetch`, with a timeout that covers
 * the whole exchange, a response size limit that bounds memory, and no redirects unless asked.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result, ResultAsync } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { invalidArgument, type InvalidArgumentError, type TransportError } from "./errors.ts";
import type { ExecuteOptions, Executor, XcapRequest, XcapResponse } from "./types.ts";
import { describeFetchFailure } from "./_fetch_failure.ts";

/**
 * How long {@linkcode createFetchExecutor} (and so {@linkcode XCAPClient} and the `xcap` CLI)
 * waits for a whole exchange by default, in milliseconds: 30 seconds.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_TIMEOUT_MS } from "./executor.ts";
 * import { createFetchExecutor } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * // A server that never answers: the default would wait DEFAULT_TIMEOUT_MS; give a shorter one.
 * const execute = createFetchExecutor({
 *   timeoutMs: Math.min(DEFAULT_TIMEOUT_MS, 20),
 *   fetch: (_input, init) =>
 *     new Promise((_resolve, reject) =>
 *       init?.signal?.addEventListener("abort", () => reject(init.signal?.reason))
 *     ),
 * });
 * const result = await execute({ method: "GET", url: "http://127.0.0.1:9/x", headers: {} });
 * assertEquals(result.isErr() && result.error._tag, "Timeout");
 * ```
 */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * The largest response body {@linkcode createFetchExecutor} reads by default, in bytes (16 MiB,
 * counted after any `Content-Encoding` is undone).
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_MAX_RESPONSE_BYTES } from "./executor.ts";
 * import { createFetchExecutor } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * // A body over the bound is refused; lower it for a client that only reads small documents.
 * const execute = createFetchExecutor({
 *   maxResponseBytes: Math.min(DEFAULT_MAX_RESPONSE_BYTES, 8),
 *   fetch: () => Promise.resolve(new Response("<a>much more than eight bytes</a>")),
 * });
 * const result = await execute({ method: "GET", url: "http://127.0.0.1:9/x", headers: {} });
 * assertEquals(result.isErr() && result.error._tag, "MalformedResponse");
 * ```
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** Options of {@linkcode createFetchExecutor}. */
export interface FetchExecutorOptions {
  /** The `fetch` to use. @default {globalThis.fetch} */
  readonly fetch?: typeof globalThis.fetch;
  /**
   * Give up on a request that has not completed after this many milliseconds: connecting,
   * sending, the response head, every redirect followed and the whole body all count. A
   * positive number up to 2147483647 (about 24.8 days), or `false` for no timeout at all (then
   * a server that never answers keeps the request, and the script, waiting forever).
   * @default {30000}
   */
  readonly timeoutMs?: number | false;
  /**
   * Refuse response bodies larger than this many bytes (after `Content-Encoding` is undone).
   * Reading stops as soon as the limit is passed, so a response never costs much more memory
   * than the limit, whatever the server sends. A non-negative integer.
   * @default {16777216}
   */
  readonly maxResponseBytes?: number;
  /**
   * What to do with a redirect (301, 302, 303, 307, 308 with a `Location`). XCAP (RFC 4825)
   * does not use redirects, so by default none is followed.
   *
   * - `"manual"`: the 3xx comes back as the response; {@linkcode interpretResponse} turns it
   *   into a `Redirected` error that carries the `location`.
   * - `"follow"`: follow up to 20 redirects. Within the origin of the request, it is sent again
   *   as it was (a 303 turns it into a GET without body). To another origin only a GET is ever
   *   sent, and with none of the request's headers: no credentials, no custom headers, no
   *   preconditions, and never a body; a PUT or DELETE redirected elsewhere is not followed (its
   *   3xx comes back as with `"manual"`).
   * - `"error"`: a redirect is a `NetworkError`.
   *
   * @default {"manual"}
   */
  readonly redirect?: RequestRedirect;
}

/** The longest timeout allowed (2^31 - 1 ms, the longest `setTimeout` honours). */
const MAX_TIMEOUT_MS = 2_147_483_647;
/** As many redirects as the Fetch standard follows. */
const MAX_REDIRECTS = 20;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const REDIRECT_MODES: ReadonlySet<unknown> = new Set(["manual", "follow", "error"]);

interface CheckedOptions {
  readonly fetch: typeof globalThis.fetch | undefined;
  readonly timeoutMs: number | false;
  readonly limit: number;
  readonly redirect: RequestRedirect;
}

function describeValue(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null) return "null";
  return `a value of type ${typeof value}`;
}

/** Check the options of {@linkcode createFetchExecutor}, naming the first bad one. */
function checkFetchExecutorOptions(
  options: unknown,
): Result<CheckedOptions, InvalidArgumentError> {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null) {
    return err(
      invalidArgument(
        "options",
        `Executor options must be an object, not ${describeValue(options)}`,
      ),
    );
  }
  const o = options as Record<string, unknown>;
  const fetch = o["fetch"];
  if (fetch !== undefined && typeof fetch !== "function") {
    return err(
      invalidArgument("options.fetch", `fetch must be a function, not ${describeValue(fetch)}`),
    );
  }
  const timeoutMs = o["timeoutMs"] === undefined ? DEFAULT_TIMEOUT_MS : o["timeoutMs"];
  if (
    timeoutMs !== false &&
    (typeof timeoutMs !== "number" || !(timeoutMs > 0) || timeoutMs > MAX_TIMEOUT_MS)
  ) {
    return err(invalidArgument(
      "options.timeoutMs",
      `timeoutMs must be a number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, or false for no ` +
        `timeout, not ${describeValue(timeoutMs)}`,
    ));
  }
  const limit = o["maxResponseBytes"] === undefined
    ? DEFAULT_MAX_RESPONSE_BYTES
    : o["maxResponseBytes"];
  if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 0) {
    return err(invalidArgument(
      "options.maxResponseBytes",
      `maxResponseBytes must be a non-negative integer, not ${describeValue(limit)}`,
    ));
  }
  const redirect = o["redirect"] === undefined ? "manual" : o["redirect"];
  if (!REDIRECT_MODES.has(redirect)) {
    return err(invalidArgument(
      "options.redirect",
      `redirect must be "manual", "follow" or "error", not ${describeValue(redirect)}`,
    ));
  }
  return ok({
    fetch: fetch as typeof globalThis.fetch | undefined,
    timeoutMs: timeoutMs as number | false,
    limit,
    redirect: redirect as RequestRedirect,
  });
}

// Why a request failed, inside the executor; turned into a TransportError at the end.
class BodyTooLarge extends Error {}
class NotUtf8 extends Error {}
class NotAResponse extends Error {}
class TooManyRedirects extends Error {}
class RedirectRefused extends Error {}
class OpaqueRedirect extends Error {}
class AbortedHere extends Error {}

/** One request of a redirect chain. */
interface Hop {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Sent to another origin than the request's: no headers of the caller any more. */
  readonly foreign: boolean;
}

function isResponse(value: unknown): value is Response {
  return typeof Response !== "undefined" && value instanceof Response;
}

function cancelQuietly(response: Response): void {
  try {
    response.body?.cancel().catch(() => {});
  } catch {
    // Locked or already gone: nothing to release.
  }
}

/**
 * The request that follows a redirect, or `undefined` when it is not to be followed and the 3xx
 * goes back to the caller. RFC 9110 §15.4: the target is the Location resolved against the
 * request's; a 303 asks for a GET (§15.4.4), 301/302/307/308 keep the method (§15.4.2, §15.4.3,
 * §15.4.8, §15.4.9; the Fetch standard's POST-to-GET rewrite never applies to XCAP's methods);
 * fields with security implications (credentials, and here every caller-added field) are not
 * sent to another origin (§15.4, item 3), and content fields go with a body that is dropped
 * (item 5).
 */
function nextHop(hop: Hop, status: number, target: URL, origin: string): Hop | undefined {
  if (target.protocol !== "http:" && target.protocol !== "https:") return undefined;
  const toGet = status === 303 && hop.method !== "GET";
  const method = toGet ? "GET" : hop.method;
  if (hop.foreign || target.origin !== origin) {
    // Only a safe method leaves the origin the caller named, and bare: a PUT or DELETE with its
    // preconditions stripped could overwrite or delete the wrong thing.
    if (method !== "GET") return undefined;
    return { method, url: target.href, headers: {}, foreign: true };
  }
  if (!toGet) return { ...hop, url: target.href };
  const headers = Object.fromEntries(
    Object.entries(hop.headers).filter(([name]) => !name.toLowerCase().startsWith("content-")),
  );
  return { method, url: target.href, headers, foreign: false };
}

const DECIMAL = /^\s*(\d{1,15})\s*$/;

function hasKeys(record: object): boolean {
  for (const _ in record) return true;
  return false;
}

/** `Content-Length` as a number, when it is a plain decimal. */
function declaredLength(headers: Headers): number | undefined {
  const value = headers.get("content-length");
  if (value === null) return undefined;
  const digits = DECIMAL.exec(value)?.[1];
  return digits === undefined ? undefined : Number(digits);
}

/**
 * Wait for `promise`, or reject with `AbortedHere` as soon as `signal` aborts, whatever the
 * promise does. The listener goes away when the promise settles: a `Promise.race` against one
 * long-lived "aborted" promise would keep every chunk ever read reachable from it (60,000
 * one-byte chunks, each on its own 64 KiB buffer, were 2.8 GB).
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(new AbortedHere());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedHere());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

const FIRST_SEGMENT_BYTES = 64 * 1024;

/**
 * The runtime's own `fetch`, as this module found it. It ends the request and the response body
 * when the signal it was given aborts (Fetch standard, "abort fetch"), so waiting on it needs no
 * guard of ours, and it delivers exactly the Content-Length it announces (HTTP framing) unless
 * it decoded a Content-Encoding.
 */
const NATIVE_FETCH: typeof globalThis.fetch | undefined = globalThis.fetch;

/** A request's place in a {@linkcode DeadlineTimer}. */
interface Deadline {
  /** When it expires, on the `performance.now()` clock. */
  readonly at: number;
  /** What to run when it expires; released once finished. */
  expire: () => void;
  finished: boolean;
}

/** Expires requests whose time is up; see {@linkcode createDeadlineTimer}. */
interface DeadlineTimer {
  /** Run `expire` `timeoutMs` from now, unless the deadline is finished first. */
  start(expire: () => void): Deadline;
  /** The request ended: its deadline no longer matters. */
  finish(deadline: Deadline): void;
}

function doNothing(): void {}

/**
 * The timeouts of one executor, all of the same length: deadlines come in the order requests
 * start, so one timer at a time serves them all. It is armed for the oldest request still
 * running; when it fires it expires what is due and re-arms for the next. Per request this is a
 * push and a flag instead of a timer armed and cleared.
 *
 * The timer is `AbortSignal.timeout()`, not `setTimeout()`: Deno's `setTimeout` loads its Node
 * timers module on first use (~20 ms of a cold start, tests/bench/RESULTS.md). Such a timer
 * cannot be cleared, but it only keeps a process alive while it has a listener (Deno; Node never
 * lets it): the listener is removed whenever no request is running, and added back for the next.
 */
function createDeadlineTimer(timeoutMs: number): DeadlineTimer {
  const queue: Deadline[] = [];
  let head = 0;
  let armed:
    | { readonly signal: AbortSignal; readonly at: number; readonly fire: () => void; on: boolean }
    | undefined;

  /** Drop finished deadlines at the head; stop listening once none is left. */
  function settle(): void {
    while (head < queue.length && queue[head]!.finished) head++;
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
      if (armed?.on) {
        armed.signal.removeEventListener("abort", armed.fire);
        armed.on = false;
      }
    } else if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
  }

  function expireDue(now: number): void {
    for (; head < queue.length; head++) {
      const deadline = queue[head]!;
      if (deadline.finished) continue;
      if (deadline.at > now) break;
      const expire = deadline.expire;
      deadline.finished = true;
      deadline.expire = doNothing;
      expire();
    }
  }

  function arm(): void {
    const next = queue[head];
    if (next === undefined) return;
    if (armed !== undefined && !armed.signal.aborted && armed.at <= next.at) {
      if (!armed.on) {
        armed.signal.addEventListener("abort", armed.fire, { once: true });
        armed.on = true;
      }
      return;
    }
    if (armed?.on) armed.signal.removeEventListener("abort", armed.fire);
    const at = next.at;
    const timer = {
      signal: AbortSignal.timeout(Math.max(0, Math.ceil(at - performance.now()))),
      at,
      fire: () => {
        if (armed === timer) armed = undefined;
        // The timer says `at` has come, whatever the clock reads.
        expireDue(Math.max(performance.now(), at));
        settle();
        arm();
      },
      on: true,
    };
    armed = timer;
    timer.signal.addEventListener("abort", timer.fire, { once: true });
  }

  return {
    start(expire) {
      const deadline: Deadline = { at: performance.now() + timeoutMs, expire, finished: false };
      queue.push(deadline);
      arm();
      return deadline;
    },
    finish(deadline) {
      if (deadline.finished) return;
      deadline.finished = true;
      deadline.expire = doNothing;
      if (queue[head] === deadline) settle();
    },
  };
}

/**
 * UTF-8 decoding in two steps: the runtime's replacing decoder is several times faster than a
 * strict one (87 KB: 9 µs against 42 µs of CPU here), and only when its output holds U+FFFD
 * (invalid bytes, or a U+FFFD that was sent) does the strict decoder decide.
 */
const REPLACING_UTF8 = new TextDecoder("utf-8", { ignoreBOM: true });
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function decodeStrictly(bytes: Uint8Array): string {
  const text = REPLACING_UTF8.decode(bytes);
  if (!text.includes("\uFFFD")) return text;
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    throw new NotUtf8();
  }
}

/**
 * Read a body of at most `limit` bytes as UTF-8 text.
 *
 * Bytes are counted as they arrive, and the stream is cancelled the moment the limit is passed
 * (a gzip bomb stops there). They are kept in a few compact segments (the declared length, or
 * 64 KiB, then each as large as everything before, never more than the limit in all), which are
 * never copied to grow, then joined once and decoded with a strict UTF-8 decoder. A byte stream
 * (what `fetch` returns) is read with a BYOB reader straight into the segments; any other
 * stream's chunks are copied into them and dropped (`fetch`'s default reader puts every chunk,
 * one byte or not, on its own 64 KiB buffer: 60,000 of them kept were 2.8 GB). A body of at
 * most 64 KiB whose length the runtime's own `fetch` vouches for is read in one call instead.
 */
async function readText(
  response: Response,
  limit: number,
  signal: AbortSignal,
  native: boolean,
): Promise<string> {
  const declared = declaredLength(response.headers);
  if (declared !== undefined && declared > limit) {
    cancelQuietly(response);
    throw new BodyTooLarge(`declared ${declared} bytes`);
  }
  if (response.body === null) return "";
  if (
    native && declared !== undefined && declared <= FIRST_SEGMENT_BYTES &&
    !response.headers.has("content-encoding")
  ) {
    // A small body of a declared length, not decoded (no Content-Encoding), from the runtime's
    // fetch, which delivers exactly that length: one read of the whole body is one round trip
    // to the runtime instead of one per chunk and one for the end (10-entry documents
    // sequentially: 0.85x of bare fetch's throughput instead of 0.63x, tests/bench/RESULTS.md).
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.byteLength > limit) throw new BodyTooLarge(`more than ${limit} bytes`);
    return decodeStrictly(bytes);
  }
  const guard = <T>(promise: Promise<T>): Promise<T> =>
    native ? promise : untilAborted(promise, signal);
  // One byte more than the limit allows shows that the body is too large.
  const ceiling = limit + 1;
  const filled: Uint8Array[] = [];
  let segment = new Uint8Array(
    Math.min(ceiling, declared === undefined ? FIRST_SEGMENT_BYTES : declared + 1),
  );
  let used = 0;
  let size = 0;
  const room = (): Uint8Array => {
    if (used === segment.byteLength) {
      filled.push(segment);
      segment = new Uint8Array(Math.min(ceiling - size, Math.max(FIRST_SEGMENT_BYTES, size)));
      used = 0;
    }
    return segment.subarray(used);
  };
  const counted = (bytes: number) => {
    used += bytes;
    size += bytes;
    if (size > limit) throw new BodyTooLarge(`more than ${limit} bytes`);
  };

  let byob: ReadableStreamBYOBReader | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  try {
    byob = response.body.getReader({ mode: "byob" });
  } catch {
    // Not a byte stream (a custom fetch's ReadableStream): copy its chunks.
    reader = response.body.getReader();
  }
  try {
    for (;;) {
      if (byob !== undefined) {
        const { done, value } = await guard(byob.read(room()));
        // The segment was transferred to the stream and comes back as value's buffer.
        if (value !== undefined) {
          segment = new Uint8Array(value.buffer as ArrayBuffer);
          counted(value.byteLength);
        }
        if (done) break;
      } else {
        const { done, value } = await guard(reader!.read());
        if (done) break;
        if (!(value instanceof Uint8Array)) throw new NotAResponse("the body is not a byte stream");
        if (size + value.byteLength > limit) throw new BodyTooLarge(`more than ${limit} bytes`);
        for (let offset = 0; offset < value.byteLength;) {
          const target = room();
          const n = Math.min(target.byteLength, value.byteLength - offset);
          target.set(value.subarray(offset, offset + n));
          offset += n;
          counted(n);
        }
      }
    }
  } catch (e) {
    (byob ?? reader)?.cancel().catch(() => {});
    throw e;
  }
  filled.push(segment.subarray(0, used));
  // One decode of one contiguous buffer gives one flat string: decoding the segments one by one
  // would hold the pieces and, once the text is used, a flattened copy of them as well.
  let bytes = filled[0]!;
  if (filled.length > 1) {
    bytes = new Uint8Array(size);
    let offset = 0;
    for (const part of filled.splice(0)) {
      bytes.set(part, offset);
      offset += part.byteLength;
    }
  }
  return decodeStrictly(bytes);
}

function checkRequest(request: unknown): InvalidArgumentError | undefined {
  if (typeof request !== "object" || request === null) {
    return invalidArgument(
      "request",
      `The request must be an object, not ${describeValue(request)}`,
    );
  }
  const { method, url, headers, body } = request as Record<string, unknown>;
  if (typeof method !== "string" || typeof url !== "string") {
    return invalidArgument("request", "The request needs a string method and url");
  }
  if (typeof headers !== "object" || headers === null) {
    return invalidArgument("request.headers", "The request's headers must be an object");
  }
  if (body !== undefined && typeof body !== "string") {
    return invalidArgument("request.body", "The request's body must be a string when present");
  }
  return undefined;
}

function checkSignal(options: unknown): AbortSignal | undefined | InvalidArgumentError {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== "object") {
    return invalidArgument(
      "options",
      `Execute options must be an object, not ${describeValue(options)}`,
    );
  }
  const signal = (options as { signal?: unknown }).signal;
  if (signal === undefined) return undefined;
  if (typeof AbortSignal === "undefined" || !(signal instanceof AbortSignal)) {
    return invalidArgument("options.signal", "signal must be an AbortSignal");
  }
  return signal;
}

/**
 * Create an {@linkcode Executor} that runs requests on `fetch`.
 *
 * - **Timeout**: 30 s by default ({@linkcode DEFAULT_TIMEOUT_MS}) for the whole exchange, body
 *   and redirects included; `timeoutMs` changes it, `timeoutMs: false` turns it off. It fires on
 *   time even when a custom `fetch` ignores the abort signal. It gives `Timeout`; the caller's
 *   `AbortSignal` gives `Aborted`.
 * - **Size**: a body over `maxResponseBytes` (16 MiB by default, counted after `Content-Encoding`
 *   is undone) gives `MalformedResponse`; reading stops at the limit, so a hostile server (a
 *   gzip bomb, a body in one-byte chunks) cannot make the response cost much more than the limit.
 *   A body that is not UTF-8 is `MalformedResponse` too.
 * - **Redirects** are not followed unless `redirect: "follow"`; see
 *   {@linkcode FetchExecutorOptions.redirect}.
 * - **Failures** to get a response give `NetworkError` whose message says why: connection
 *   refused to which host and port, a host name that does not resolve, a connection closed
 *   before the response was complete, TLS.
 * - Bad options or a malformed request give `InvalidArgument`, and nothing is sent. Nothing
 *   throws: every call returns a `ResultAsync` that resolves.
 *
 * Bodies are sent as strings, so they go out with `Content-Length` rather than chunked
 * (Kamailio's xcap_server never answers a chunked request). Any HTTP status is a successful
 * execution: interpreting it is {@linkcode interpretResponse}'s job.
 *
 * @param options The `fetch` to use, the timeout, the response size limit, the redirect mode.
 * @returns The executor.
 *
 * @example Usage
 * ```ts
 * import { buildGetRequest, createFetchExecutor } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * // Any fetch-compatible function will do; this one answers without a network.
 * const execute = createFetchExecutor({
 *   fetch: async () => new Response("<xcap-caps/>", { headers: { etag: '"1"' } }),
 *   timeoutMs: 5_000,
 * });
 * const request = buildGetRequest({
 *   xcapRoot: "http://127.0.0.1:8080/xcap-root",
 *   auid: "xcap-caps",
 *   global: true,
 * })._unsafeUnwrap();
 * const response = (await execute(request))._unsafeUnwrap();
 * assertEquals(response.status, 200);
 * assertEquals(response.body, "<xcap-caps/>");
 * ```
 *
 * @example Bad options are error values
 * ```ts
 * import { createFetchExecutor } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const execute = createFetchExecutor({ timeoutMs: -1 });
 * const result = await execute({ method: "GET", url: "http://127.0.0.1:9/", headers: {} });
 * assertEquals(result.isErr() && result.error._tag, "InvalidArgument");
 * ```
 */
export function createFetchExecutor(options: FetchExecutorOptions = {}): Executor {
  const run = createFetchRunner(options);
  return (request: XcapRequest, callOptions?: ExecuteOptions) =>
    new ResultAsync(run(request, callOptions));
}

/**
 * What {@linkcode createFetchExecutor} runs, as a plain promise that always resolves to a
 * `Result` (never rejects). Internal: `XCAPClient` calls it directly when it uses its
 * own executor, which spares a `ResultAsync` and the checks of a foreign executor per request.
 */
export type FetchRunner = (
  request: XcapRequest,
  options?: ExecuteOptions,
) => Promise<Result<XcapResponse, TransportError>>;

/**
 * The runner behind {@linkcode createFetchExecutor}: the same options, the same behaviour, a
 * promise of a `Result` instead of a `ResultAsync`. Internal (not exported by `mod.ts`).
 *
 * @param options As for {@linkcode createFetchExecutor}.
 * @returns The runner; bad options make every call resolve to `InvalidArgument`.
 */
export function createFetchRunner(options: FetchExecutorOptions = {}): FetchRunner {
  const checked = checkFetchExecutorOptions(options);
  if (checked.isErr()) {
    const error = checked.error;
    return () => Promise.resolve(err(error));
  }
  const { timeoutMs, limit, redirect, fetch: givenFetch } = checked.value;
  const deadlines = timeoutMs === false ? undefined : createDeadlineTimer(timeoutMs);
  /**
   * The last URL the runtime's fetch was given, and the `url` of its response. Without a
   * redirect followed (this executor never lets fetch follow one) that is the URL as given,
   * parsed and without its fragment (Fetch standard: the response's URL list is the request's),
   * so it depends on the string alone; reading `Response.url` re-parses it each time (Deno:
   * ~4 µs per request, tests/bench/RESULTS.md).
   */
  let lastUrl: { readonly given: string; readonly url: string } | undefined;
  const nativeUrl = (response: Response, given: string): string => {
    if (lastUrl?.given === given) return lastUrl.url;
    const url = response.url || given;
    lastUrl = { given, url };
    return url;
  };
  return (request: XcapRequest, callOptions?: ExecuteOptions) =>
    execute(request, callOptions).catch((cause: unknown) =>
      err<XcapResponse, TransportError>({
        _tag: "NetworkError",
        message: `The request failed unexpectedly: ${
          cause instanceof Error ? cause.message : "unknown cause"
        }`,
        cause,
      })
    );

  async function execute(
    request: XcapRequest,
    callOptions: ExecuteOptions | undefined,
  ): Promise<Result<XcapResponse, TransportError>> {
    const invalid = checkRequest(request);
    if (invalid !== undefined) return err(invalid);
    const caller = checkSignal(callOptions);
    if (caller !== undefined && !(caller instanceof AbortSignal)) return err(caller);
    const doFetch = givenFetch ?? globalThis.fetch;
    const what = `${request.method} ${request.url}`;
    if (typeof doFetch !== "function") {
      return err({
        _tag: "NetworkError",
        message: `${what} failed: no fetch function is available in this runtime`,
        cause: undefined,
      });
    }
    if (caller?.aborted) {
      return err({
        _tag: "Aborted",
        message: `${what} was aborted by the caller`,
        cause: caller.reason,
      });
    }

    // One controller aborts everything: the caller's signal, or the timer.
    const controller = new AbortController();
    let abortedBy: "caller" | "timeout" | undefined;
    const abort = (by: "caller" | "timeout", reason: unknown) => {
      if (abortedBy !== undefined) return;
      abortedBy = by;
      controller.abort(reason);
    };
    const onCallerAbort = () => abort("caller", caller?.reason);
    caller?.addEventListener("abort", onCallerAbort, { once: true });
    const deadline = deadlines?.start(() =>
      abort("timeout", new DOMException(`Timed out after ${timeoutMs} ms`, "TimeoutError"))
    );
    // Whatever a custom fetch or body stream does with the signal, the abort ends the wait.
    const signal = controller.signal;

    let phase: "request" | "body" = "request";
    try {
      const native = doFetch === NATIVE_FETCH;
      let origin: string | undefined;
      let hop: Hop = { ...request, foreign: false };
      for (let redirects = 0;; redirects++) {
        // For the runtime's own fetch, GET is the default method and no headers the default
        // headers: each member given is one more WebIDL conversion inside fetch, on every
        // request. A fetch of the caller's gets them all, as it always did.
        const init: RequestInit = native
          ? { redirect: "manual", signal }
          : { method: hop.method, headers: hop.headers, redirect: "manual", signal };
        if (native && hop.method !== "GET") init.method = hop.method;
        if (native && hasKeys(hop.headers)) init.headers = hop.headers;
        if (hop.body !== undefined) init.body = hop.body;
        phase = "request";
        const response: unknown = native
          ? await doFetch(hop.url, init)
          : await untilAborted(Promise.resolve(doFetch(hop.url, init)), signal);
        if (!isResponse(response)) throw new NotAResponse("fetch did not resolve to a Response");
        if (response.type === "opaqueredirect") throw new OpaqueRedirect();
        const next = redirect === "manual" || !REDIRECT_STATUSES.has(response.status)
          ? undefined
          : redirectTarget(response, hop.url);
        if (next !== undefined) {
          if (redirect === "error") {
            cancelQuietly(response);
            throw new RedirectRefused(next.href);
          }
          origin ??= new URL(request.url).origin;
          const following = nextHop(hop, response.status, next, origin);
          if (following !== undefined) {
            cancelQuietly(response);
            if (redirects >= MAX_REDIRECTS) throw new TooManyRedirects();
            hop = following;
            continue;
          }
        }
        phase = "body";
        const body = await readText(response, limit, signal, native);
        return ok(Object.freeze({
          status: response.status,
          headers: response.headers,
          body,
          url: native ? nativeUrl(response, hop.url) : response.url || hop.url,
        }));
      }
    } catch (cause) {
      return err(toError(cause, what, request.url, phase, abortedBy, caller));
    } finally {
      if (deadline !== undefined) deadlines!.finish(deadline);
      caller?.removeEventListener("abort", onCallerAbort);
    }
  }

  function toError(
    cause: unknown,
    what: string,
    url: string,
    phase: "request" | "body",
    abortedBy: "caller" | "timeout" | undefined,
    caller: AbortSignal | undefined,
  ): TransportError {
    if (cause instanceof BodyTooLarge) {
      return {
        _tag: "MalformedResponse",
        message: `Response to ${what} is too large (${cause.message}; limit ${limit} bytes)`,
      };
    }
    if (cause instanceof NotUtf8) {
      return { _tag: "MalformedResponse", message: `Response to ${what} is not valid UTF-8` };
    }
    if (cause instanceof NotAResponse) {
      return {
        _tag: "MalformedResponse",
        message: `Response to ${what} is unusable: ${cause.message}`,
      };
    }
    if (abortedBy === "caller") {
      return {
        _tag: "Aborted",
        message: `${what} was aborted by the caller`,
        cause: caller?.reason,
      };
    }
    if (abortedBy === "timeout" && timeoutMs !== false) {
      return {
        _tag: "Timeout",
        message: `${what} did not complete within ${timeoutMs} ms`,
        timeoutMs,
      };
    }
    if (cause instanceof TooManyRedirects) {
      return {
        _tag: "NetworkError",
        message: `${what} failed: more than ${MAX_REDIRECTS} redirects`,
        cause,
      };
    }
    if (cause instanceof RedirectRefused) {
      return {
        _tag: "NetworkError",
        message: `${what} was redirected to ${cause.message}, and redirects are refused ` +
          `(redirect: "error")`,
        cause,
      };
    }
    if (cause instanceof OpaqueRedirect) {
      return {
        _tag: "NetworkError",
        message: `${what} was redirected, and this runtime does not say where (opaque redirect)`,
        cause,
      };
    }
    return {
      _tag: "NetworkError",
      message: `${what} failed: ${describeFetchFailure(cause, url, phase)}`,
      cause,
    };
  }
}

/** The Location of a redirect resolved against the request URL, if it has a usable one. */
function redirectTarget(response: Response, base: string): URL | undefined {
  const location = response.headers.get("location");
  if (location === null || location.trim() === "") return undefined;
  try {
    return new URL(location.trim(), base);
  } catch {
    return undefined;
  }
}
