/**
 * The default executor: runs an {@linkcode XcapRequest} on `fetch`.
 *
 * @module
 */
import { errAsync, ResultAsync } from "npm:neverthrow@^8.2.0";
import type { TransportError } from "./errors.ts";
import type { ExecuteOptions, Executor, XcapRequest, XcapResponse } from "./types.ts";

/** Options of {@linkcode createFetchExecutor}. */
export interface FetchExecutorOptions {
  /** The `fetch` to use. @default {globalThis.fetch} */
  readonly fetch?: typeof globalThis.fetch;
  /** Abort a request that has not completed (body included) after this many milliseconds. */
  readonly timeoutMs?: number;
  /** Refuse response bodies larger than this many bytes. @default {16777216} */
  readonly maxResponseBytes?: number;
  /** What to do with redirects, as `fetch` understands it. @default {"follow"} */
  readonly redirect?: RequestRedirect;
}

const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

class BodyTooLarge extends Error {}
class NotUtf8 extends Error {}

async function readBody(response: Response, limit: number): Promise<Uint8Array> {
  const header = response.headers.get("content-length");
  const declared = header === null ? NaN : Number(header);
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel();
    throw new BodyTooLarge(`declared ${declared} bytes`);
  }
  if (response.body === null) return new Uint8Array(0);
  // With a Content-Length, the HTTP stack reads exactly that many bytes: take the body in one
  // call, which keeps up with a bare fetch() (a reader loop halves the throughput under load;
  // tests/bench/RESULTS.md). The size is checked again in case a custom fetch lied.
  if (Number.isFinite(declared)) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.byteLength > limit) throw new BodyTooLarge(`more than ${limit} bytes`);
    return bytes;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new BodyTooLarge(`more than ${limit} bytes`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new NotUtf8();
  }
}

/**
 * Create an {@linkcode Executor} that runs requests on `fetch`.
 *
 * Bodies are sent as strings, so they go out with `Content-Length` rather than chunked
 * (Kamailio's xcap_server never answers a chunked request). A caller's `AbortSignal` gives
 * `Aborted`, the timeout gives `Timeout`, a failure to connect gives `NetworkError`, and a body
 * that is too large or not UTF-8 gives `MalformedResponse`. Any HTTP status is a successful
 * execution: interpreting it is {@linkcode interpretResponse}'s job.
 *
 * @param options The `fetch` to use, a timeout and a response size limit.
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
 */
export function createFetchExecutor(options: FetchExecutorOptions = {}): Executor {
  const limit = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const timeoutMs = options.timeoutMs;
  return (request: XcapRequest, callOptions: ExecuteOptions = {}) => {
    const doFetch = options.fetch ?? globalThis.fetch;
    if (typeof doFetch !== "function") {
      return errAsync<XcapResponse, TransportError>({
        _tag: "NetworkError",
        message: "No fetch function is available in this runtime",
        cause: undefined,
      });
    }
    const caller = callOptions.signal;
    const timeout = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
    const signals = [caller, timeout].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length === 0
      ? undefined
      : signals.length === 1
      ? signals[0]
      : AbortSignal.any(signals);

    const run = async (): Promise<XcapResponse> => {
      const init: RequestInit = {
        method: request.method,
        headers: request.headers,
        redirect: options.redirect ?? "follow",
      };
      if (request.body !== undefined) init.body = request.body;
      if (signal !== undefined) init.signal = signal;
      const response = await doFetch(request.url, init);
      const bytes = await readBody(response, limit);
      return Object.freeze({
        status: response.status,
        headers: response.headers,
        body: decodeUtf8(bytes),
        url: response.url || request.url,
      });
    };

    const toError = (cause: unknown): TransportError => {
      const what = `${request.method} ${request.url}`;
      if (cause instanceof BodyTooLarge) {
        return {
          _tag: "MalformedResponse",
          message: `Response to ${what} is too large (${cause.message}; limit ${limit} bytes)`,
        };
      }
      if (cause instanceof NotUtf8) {
        return { _tag: "MalformedResponse", message: `Response to ${what} is not valid UTF-8` };
      }
      if (caller?.aborted) {
        return {
          _tag: "Aborted",
          message: `${what} was aborted by the caller`,
          cause: caller.reason,
        };
      }
      if (timeout?.aborted && timeoutMs !== undefined) {
        return {
          _tag: "Timeout",
          message: `${what} did not complete within ${timeoutMs} ms`,
          timeoutMs,
        };
      }
      const detail = cause instanceof Error ? cause.message : String(cause);
      return { _tag: "NetworkError", message: `${what} failed: ${detail}`, cause };
    };

    return ResultAsync.fromThrowable(run, toError)();
  };
}
