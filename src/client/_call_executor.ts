/**
 * Calling an {@linkcode Executor} that someone else wrote: whatever it does (throws, rejects,
 * returns something that is not a `Result`), the caller gets a `ResultAsync` that resolves.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result, ResultAsync } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { invalidArgument, type MalformedResponseError, type TransportError } from "./errors.ts";
import type { ExecuteOptions, Executor, XcapRequest, XcapResponse } from "./types.ts";
import { isXcapError } from "./response.ts";

function isResult(value: unknown): value is Result<unknown, unknown> {
  try {
    return typeof value === "object" && value !== null &&
      typeof (value as { isOk?: unknown }).isOk === "function" &&
      typeof (value as { isErr?: unknown }).isErr === "function";
  } catch {
    return false;
  }
}

async function call(
  executor: Executor,
  request: XcapRequest,
  options: ExecuteOptions | undefined,
): Promise<Result<XcapResponse, TransportError>> {
  if (typeof executor !== "function") {
    return err(invalidArgument("executor", `The executor is not a function (${typeof executor})`));
  }
  let outcome: unknown;
  try {
    // A synchronous throw lands in the catch below, as does a rejection of what it returns.
    outcome = await executor(request, options);
  } catch (cause) {
    return err({
      _tag: "NetworkError",
      message: `The executor threw instead of returning an error value: ${describe(cause)}`,
      cause,
    });
  }
  if (!isResult(outcome)) {
    const error: MalformedResponseError = {
      _tag: "MalformedResponse",
      message: "The executor returned something that is not a Result",
    };
    return err(error);
  }
  try {
    // Re-wrap: the value may come from another copy of neverthrow.
    if (outcome.isOk()) return ok((outcome as { value: XcapResponse }).value);
    const error = (outcome as { error: unknown }).error;
    if (isXcapError(error)) return err(error as TransportError);
    return err({
      _tag: "NetworkError",
      message: `The executor failed with something that is not an XcapError: ${describe(error)}`,
      cause: error,
    });
  } catch (cause) {
    return err({
      _tag: "NetworkError",
      message: `The executor's result cannot be read: ${describe(cause)}`,
      cause,
    });
  }
}

function describe(cause: unknown): string {
  try {
    return cause instanceof Error ? cause.message : String(cause);
  } catch {
    return "an unprintable value";
  }
}

/**
 * Run `executor` so that nothing escapes: a synchronous throw or a rejection becomes
 * `NetworkError`, a value that is not a `Result` becomes `MalformedResponse`, and a non-function
 * executor `InvalidArgument`.
 */
export function callExecutor(
  executor: Executor,
  request: XcapRequest,
  options?: ExecuteOptions,
): ResultAsync<XcapResponse, TransportError> {
  return new ResultAsync(call(executor, request, options));
}
