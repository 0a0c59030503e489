/**
 * The data types shared by the request builders, executors and response interpretation.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import type { ResultAsync } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import type { TransportError } from "./errors.ts";

/** The HTTP methods XCAP uses (RFC 4825 §7). */
export type XcapMethod = "GET" | "PUT" | "DELETE";

/**
 * An XCAP request as plain, frozen data: what to send, with no I/O attached.
 *
 * Header names are lower-case. Keys without a value are left out.
 */
export interface XcapRequest {
  /** The HTTP method. */
  readonly method: XcapMethod;
  /** The absolute request URL, percent-encoded as RFC 4825 §6 requires. */
  readonly url: string;
  /** Request headers, names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The request body (PUT only). */
  readonly body?: string;
}

/** An HTTP response as an executor hands it back: status, headers and the whole body as text. */
export interface XcapResponse {
  /** The HTTP status code. */
  readonly status: number;
  /** The response headers. */
  readonly headers: Headers;
  /** The response body decoded as UTF-8 (empty when there was none). */
  readonly body: string;
  /** The final URL the response came from. */
  readonly url: string;
}

/** Per-call options an executor honours. */
export interface ExecuteOptions {
  /** Aborts the request; the executor answers `Err({ _tag: "Aborted" })`. */
  readonly signal?: AbortSignal;
}

/**
 * Runs an {@linkcode XcapRequest}. Any HTTP status is a successful execution; only the failure
 * to obtain a response is an error. Middleware (authentication, timeouts, logging) wraps an
 * executor and returns another.
 */
export type Executor = (
  request: XcapRequest,
  options?: ExecuteOptions,
) => ResultAsync<XcapResponse, TransportError>;
