/**
 * The actions of `xcap` on an {@linkcode XCAPClient}: plain `get`, `put`, `delete`, `caps`, and
 * the read-check-write sequences of `insert` and `replace`. No Deno APIs: the client's `fetch`
 * decides where requests go.
 *
 * ## Why `insert` and `replace` read first
 *
 * RFC 7232 §3.1/§3.2 give `If-Match: *` (only if it exists) and `If-None-Match: *` (only if it
 * does not). Kamailio's xcap_server only recognises entity tags in double quotes: it answers 412
 * to every `If-Match: *` and ignores `If-None-Match: *`, and its quoted `"*"` means "the
 * document exists", which is wrong for an element. What works on every server is an entity tag
 * that was just read: in XCAP every element and attribute of a document carries the document's
 * entity tag (RFC 4825 §7.11), so `If-Match: <that tag>` on the final PUT fails with 412 if
 * anything in the document changed after the check.
 *
 * - `replace`: GET the target (404: nothing to replace), then PUT with `If-Match: <its ETag>`.
 * - `insert`: the client's create-only PUT (`ifNoneMatch: "*"`, see `XCAPClient.put`): it
 *   reads the target first (found: nothing is written) and guards the PUT with what the
 *   server honours: `If-None-Match: *`, Kamailio's quoted `"*"` for a document, or for a node
 *   on Kamailio `If-Match: <the document's ETag>` read just before.
 *
 * When the document changes between the check and the PUT (412) and no `--etag` was given, the
 * sequence starts again, up to three times.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import type { XcapCallOptions, XCAPClient, XcapPutOptions } from "../client/client.ts";
import type { XcapError } from "../client/errors.ts";
import type { XcapResource } from "../client/response.ts";
import type { Action } from "./args.ts";
import type { PreconditionNotMetError } from "./output.ts";

/** One action to perform. */
export interface ActionRequest {
  /** The action. */
  readonly action: Action;
  /** The AUID. */
  readonly app: string;
  /** The node selector, absent for the whole document. */
  readonly selector?: string;
  /** The body to send (`put`, `insert`, `replace`). */
  readonly body?: string;
  /** Tree, filename, namespaces, extra headers, Content-Type override. */
  readonly call?: Omit<XcapPutOptions, "etag" | "ifNoneMatch">;
  /** `--etag`: If-Match for the request (for `insert`/`replace`: the version to act on). */
  readonly etag?: string;
  /** `--if-none-match` (`get`, `put`, `delete`). */
  readonly ifNoneMatch?: string;
}

/**
 * How often `insert` and `replace` start over when the document changes under them.
 *
 * @example Usage
 * ```ts
 * import { CHECK_AND_WRITE_ATTEMPTS } from "./actions.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(CHECK_AND_WRITE_ATTEMPTS, 3);
 * ```
 */
export const CHECK_AND_WRITE_ATTEMPTS = 3;

function notMet(
  reason: "exists" | "missing",
  message: string,
  etag?: string,
): Result<never, PreconditionNotMetError> {
  return err(Object.freeze({
    _tag: "PreconditionNotMet",
    reason,
    message,
    ...(etag === undefined ? {} : { etag }),
  }));
}

function what(request: ActionRequest): string {
  return request.selector === undefined
    ? `the ${request.app} document`
    : `node ${request.selector}`;
}

/**
 * Perform one action and return the final response.
 *
 * @param client The client to send requests with.
 * @param request What to do.
 * @returns The resource of the last request, or why it failed: any `XcapError`, or
 * `PreconditionNotMet` when `insert` found the target present or `replace` found it absent.
 *
 * @example Usage
 * ```ts
 * import { XCAPClient } from "@xcap/xcap";
 * import { performAction } from "./actions.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const seen: string[] = [];
 * const client = new XCAPClient("http://127.0.0.1:1/xcap-root", "sip:alice@example.com", {
 *   fetch: async (input, init) => {
 *     seen.push(`${init?.method} ${new Headers(init?.headers).get("if-match") ?? "-"}`);
 *     return new Response("<resource-lists/>", { headers: { etag: '"v1"' } });
 *   },
 * });
 * const result = await performAction(client, {
 *   action: "replace",
 *   app: "resource-lists",
 *   body: "<resource-lists/>",
 * });
 * assertEquals(result.isOk(), true);
 * assertEquals(seen, ["GET -", 'PUT "v1"']);
 * ```
 */
export async function performAction(
  client: XCAPClient,
  request: ActionRequest,
): Promise<Result<XcapResource, XcapError | PreconditionNotMetError>> {
  const call: XcapCallOptions = request.call ?? {};
  const conditions = {
    ...(request.etag === undefined ? {} : { etag: request.etag }),
    ...(request.ifNoneMatch === undefined ? {} : { ifNoneMatch: request.ifNoneMatch }),
  };
  switch (request.action) {
    case "get":
      return await client.get(request.app, request.selector, { ...call, ...conditions });
    case "caps":
      return await client.get("xcap-caps", request.selector, {
        ...call,
        ...conditions,
        global: true,
      });
    case "delete":
      return await client.delete(request.app, request.selector, { ...call, ...conditions });
    case "put":
      return await client.put(request.app, request.body ?? "", request.selector, {
        ...call,
        ...conditions,
      });
    case "insert":
    case "replace": {
      let last: Result<XcapResource, XcapError | PreconditionNotMetError> | undefined;
      for (let attempt = 1; attempt <= CHECK_AND_WRITE_ATTEMPTS; attempt++) {
        last = request.action === "insert"
          ? await insertOnce(client, request, call)
          : await replaceOnce(client, request, call);
        const retry = last.isErr() && last.error._tag === "PreconditionFailed" &&
          request.etag === undefined;
        if (!retry) return last;
      }
      return last!;
    }
  }
}

async function replaceOnce(
  client: XCAPClient,
  request: ActionRequest,
  call: XcapCallOptions,
): Promise<Result<XcapResource, XcapError | PreconditionNotMetError>> {
  const current = await client.get(request.app, request.selector, {
    ...call,
    ...(request.etag === undefined ? {} : { etag: request.etag }),
  });
  if (current.isErr()) {
    if (current.error._tag === "NotFound") {
      return notMet(
        "missing",
        `Nothing to replace: ${what(request)} does not exist (GET answered 404)`,
      );
    }
    return err(current.error);
  }
  const etag = request.etag ?? current.value.etag;
  // RFC 4825 §7.11: the ETag of any node is the document's, so If-Match on the node's PUT
  // fails if anything changed since the GET. Without an ETag there is nothing to hold on to:
  // fall back to RFC 7232 §3.1's "If-Match: *" (present at all).
  return await client.put(request.app, request.body ?? "", request.selector, {
    ...call,
    ...(etag === undefined ? { headers: withHeader(call.headers, "if-match", "*") } : { etag }),
  });
}

async function insertOnce(
  client: XCAPClient,
  request: ActionRequest,
  call: XcapCallOptions,
): Promise<Result<XcapResource, XcapError | PreconditionNotMetError>> {
  // The client's create-only PUT checks first and guards the write on every server (see
  // XCAPClient.put); --etag pins the document version a node is inserted into.
  const put = await client.put(request.app, request.body ?? "", request.selector, {
    ...call,
    ifNoneMatch: "*",
    ...(request.etag === undefined || request.selector === undefined ? {} : { etag: request.etag }),
  });
  if (put.isErr() && put.error._tag === "PreconditionFailed" && put.error.exists === true) {
    return notMet(
      "exists",
      `Not inserted: ${what(request)} exists already` +
        (request.selector === undefined ? ` (ETag ${put.error.etag ?? "none"})` : "") +
        "; use put or replace to overwrite it",
      put.error.etag,
    );
  }
  return put;
}

function withHeader(
  headers: HeadersInit | undefined,
  name: string,
  value: string,
): HeadersInit {
  const merged = new Headers(headers);
  merged.set(name, value);
  return merged;
}
