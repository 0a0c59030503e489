/**
 * An XCAP (RFC 4825) client for Deno and every runtime with `fetch`: read, write and change XML
 * configuration documents (buddy lists, presence rules) and their elements and attributes on an
 * XCAP server. The successor of python-xcaplib's `XCAPClient`.
 *
 * Start with {@linkcode XCAPClient}: bound to an XCAP root and a user, it has `get`, `put` and
 * `delete`, and each returns a neverthrow `ResultAsync` whose error is an {@linkcode XcapError}
 * tagged by `_tag` (`Conflict` with its parsed condition, `PreconditionFailed`, `NotFound`, …).
 * Nothing throws.
 *
 * Underneath, every call is three steps you can use on their own: build a request (pure data),
 * execute it (any {@linkcode Executor}: the default wraps `fetch`; middleware such as
 * {@linkcode withAuthentication} wraps one and returns another), interpret the response (pure).
 *
 * The other entry points:
 *
 * - `@xcap/xcap/usages`: typed documents (resource-lists, rls-services, pres-rules,
 *   pidf-manipulation, xcap-directory, OpenXCAP's), safe read-modify-write (`updateDocument`),
 *   the everyday operations (`addEntry`, `allowWatcher`, `setPresenceNote`, …), capability
 *   discovery (`discoverCapabilities`).
 * - `@xcap/xcap/diff`: xcap-diff documents (RFC 5874): keep cached documents in sync from
 *   change notifications.
 * - `@xcap/xcap/xml`: the XML engine the client, the usages and the server share: parse, select
 *   by node selector, edit by splicing, RFC 5261 patches.
 * - `@xcap/xcap/server`: an embeddable XCAP server (a fetch handler, stores, authentication).
 * - `@xcap/xcap/server/postgres`: the server's store on PostgreSQL, in Kamailio's `xcap` table.
 * - `@xcap/xcap/cli`: the `xcap` command, for programs that embed it.
 *
 * `Result`, `ResultAsync`, `ok`, `err`, `okAsync` and `errAsync` are neverthrow's, re-exported so
 * that an executor you write returns the very types this module uses.
 *
 * @example Read and write a document
 * ```ts
 * import { XCAPClient } from "@xcap/xcap";
 * import { startXcapServer } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const started = await startXcapServer(); // 127.0.0.1, a free port
 * if (started.isErr()) throw new Error(started.error.message);
 * const server = started.value;
 * const client = new XCAPClient(server.xcapRoot, "sip:alice@example.com");
 *
 * const put = await client.put(
 *   "resource-lists",
 *   '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="friends"/></resource-lists>',
 * );
 * assertEquals(put.isOk() && put.value.status, 201);
 *
 * const got = await client.get("resource-lists", '/resource-lists/list[@name="friends"]/@name');
 * const name = got.match(
 *   (resource) => resource.body,
 *   (error) => `${error._tag}: ${error.message}`,
 * );
 * assertEquals(name, "friends");
 * await server.close();
 * ```
 *
 * @example The pipeline: build → execute → interpret
 * ```ts
 * import { buildGetRequest, createFetchExecutor, interpretResponse } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const request = buildGetRequest({
 *   xcapRoot: "http://127.0.0.1:9/xcap-root",
 *   auid: "resource-lists",
 *   xui: "sip:alice@example.com",
 * });
 * // Any fetch-compatible function can stand in for the network:
 * const execute = createFetchExecutor({
 *   fetch: async () => new Response(null, { status: 412 }),
 * });
 * const result = await request.asyncAndThen((r) => execute(r)).andThen(interpretResponse);
 * assertEquals(result.isErr() && result.error._tag, "PreconditionFailed");
 * ```
 *
 * @module
 */
export {
  createXcapResourceClient,
  type XcapCallOptions,
  XCAPClient,
  type XcapClientOptions,
  type XcapPutOptions,
  type XcapResourceClient,
} from "./src/client/client.ts";
export {
  buildDeleteRequest,
  buildGetRequest,
  buildPutRequest,
  type BuildPutRequestOptions,
  type BuildRequestOptions,
} from "./src/client/request.ts";
export {
  buildXcapUri,
  type ParsedXcapUri,
  parseXcapUri,
  type XcapTarget,
} from "./src/client/uri.ts";
export type {
  ExecuteOptions,
  Executor,
  XcapMethod,
  XcapRequest,
  XcapResponse,
} from "./src/client/types.ts";
export { createFetchExecutor, type FetchExecutorOptions } from "./src/client/executor.ts";
export {
  type AuthenticationOptions,
  withAuthentication,
  type XcapCredentials,
} from "./src/client/auth.ts";
export { interpretResponse, type XcapResource } from "./src/client/response.ts";
export {
  type AttributePredicate,
  attributeSelector,
  formatNodeSelector,
  type NamespaceBindings,
  namespaceSelector,
  type NodeSelector,
  nodeSelector,
  parseNodeSelector,
  type QualifiedName,
  type SelectorStep,
  selectorStep,
  type SelectorStepOptions,
  type TerminalSelector,
} from "./src/client/selector.ts";
export type {
  AbortedError,
  ConflictCondition,
  ConflictConditionTag,
  ConflictError,
  ForbiddenError,
  HttpError,
  HttpErrorFields,
  InternalError,
  InvalidArgumentError,
  MalformedResponseError,
  MethodNotAllowedError,
  NetworkError,
  NonUniqueField,
  NotFoundError,
  NotModifiedError,
  PreconditionFailedError,
  RedirectedError,
  TimeoutError,
  TransportError,
  UnauthorizedCredentials,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  XcapError,
} from "./src/client/errors.ts";
export {
  buildConflictReport,
  describeConflictCondition,
  parseConflictReport,
} from "./src/client/conflict_report.ts";
export { type ApplicationUsage, KNOWN_APPLICATIONS } from "./src/client/media_types.ts";
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
export {
  err,
  errAsync,
  ok,
  okAsync,
  Result,
  ResultAsync,
} from "npm:neverthrow@^8.2.0/dist/index.es.js";
