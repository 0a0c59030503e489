/**
 * The typed read: {@linkcode readDocument} GETs a document and parses it with its usage's codec,
 * so a caller gets the model and its ETag in one call, and the usage's empty model when the
 * document does not exist yet.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import {
  err,
  errAsync,
  ok,
  type Result,
  type ResultAsync,
} from "npm:neverthrow@^8.2.0/dist/index.es.js";
import type { XcapResourceClient } from "../client/client.ts";
import { invalidArgument, type MalformedResponseError, type XcapError } from "../client/errors.ts";
import type { XcapResource } from "../client/response.ts";
import { parseXmlDocument } from "../xml/document.ts";
import type { TypedApplicationUsage } from "./codec.ts";

/** Options of {@linkcode readDocument}. */
export interface ReadDocumentOptions {
  /** Document name below the user's (or the global) tree. @default {the usage's default name} */
  readonly filename?: string;
  /** Use the global tree instead of the user's. @default false */
  readonly global?: boolean;
  /** Extra request headers. */
  readonly headers?: HeadersInit;
  /** Aborts the request. */
  readonly signal?: AbortSignal;
}

/** What {@linkcode readDocument} read. */
export interface ReadDocumentResult<T> {
  /** The typed model: parsed from the document, or the usage's empty model when it is absent. */
  readonly value: T;
  /** Whether the document exists (a 404 is `false`). */
  readonly exists: boolean;
  /** The document's ETag; absent when the document does not exist or the server sent none. */
  readonly etag?: string;
  /** The document text as stored (empty when it does not exist). */
  readonly text: string;
}

function malformed(message: string): MalformedResponseError {
  return Object.freeze({ _tag: "MalformedResponse", message });
}

function decode<T>(
  usage: TypedApplicationUsage<T>,
  resource: XcapResource,
  what: string,
): Result<ReadDocumentResult<T>, XcapError> {
  const parsed = parseXmlDocument(resource.body);
  if (parsed.isErr()) {
    return err(malformed(
      `The stored ${what} is not well-formed XML: ${parsed.error.phrase ?? parsed.error.tag}`,
    ));
  }
  return usage.codec.parse(parsed.value).mapErr((e) =>
    malformed(`The stored ${what} does not fit the ${usage.auid} model: ${e.message}`)
  ).map((value) =>
    Object.freeze({
      value,
      exists: true,
      ...(resource.etag === undefined ? {} : { etag: resource.etag }),
      text: resource.body,
    })
  );
}

/**
 * Read a document as its typed model: GET it, parse it with the usage's codec, and return the
 * model with the document's ETag (hand that ETag to a conditional write). A document that does
 * not exist (404) is not an error: the result is the usage's empty model, `exists: false` and no
 * ETag, which is where a first write starts from. Any other failure stays an error: the
 * server's (`Unauthorized`, `Forbidden`, …), the transport's, or `MalformedResponse` when the
 * stored document is not well-formed or does not fit the model.
 *
 * @param client The client (its XCAP root and XUI): an `XCAPClient`, or
 * `createXcapResourceClient(executor, …)`.
 * @param usage The typed application usage, e.g. `RESOURCE_LISTS`.
 * @param options Document name, tree, headers, signal.
 * @returns The model, whether the document exists, its ETag and text; or the error.
 *
 * @example Read a buddy list, present or not
 * ```ts
 * import { XCAPClient } from "@xcap/xcap";
 * import { addEntry, findList, readDocument, RESOURCE_LISTS } from "@xcap/xcap/usages";
 * import { startXcapServer } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const server = (await startXcapServer())._unsafeUnwrap();
 * const client = new XCAPClient(server.xcapRoot, "sip:alice@example.com");
 *
 * const before = await readDocument(client, RESOURCE_LISTS);
 * before.match(
 *   ({ value, exists, etag }) => {
 *     assertEquals(exists, false);
 *     assertEquals(etag, undefined);
 *     assertEquals(value.lists.length, 0);
 *   },
 *   (error) => assertEquals(error, undefined),
 * );
 *
 * await addEntry(client, { list: "friends", uri: "sip:bob@example.com" });
 * const after = await readDocument(client, RESOURCE_LISTS);
 * assertEquals(after.map(({ value }) => findList(value, "friends")?.items.length).unwrapOr(0), 1);
 * assertEquals(after.map(({ etag }) => etag !== undefined).unwrapOr(false), true);
 * await server.close();
 * ```
 */
export function readDocument<T>(
  client: XcapResourceClient,
  usage: TypedApplicationUsage<T>,
  options: ReadDocumentOptions = {},
): ResultAsync<ReadDocumentResult<T>, XcapError> {
  if (
    typeof usage !== "object" || usage === null || typeof usage.auid !== "string" ||
    typeof usage.codec?.parse !== "function" || typeof usage.codec.empty !== "function"
  ) {
    return errAsync(invalidArgument(
      "usage",
      "The usage must be a typed application usage with a codec, such as RESOURCE_LISTS",
    ));
  }
  if (typeof options !== "object" || options === null) {
    return errAsync(invalidArgument("options", "The read options must be an object"));
  }
  const filename = options.filename ?? usage.defaultDocumentName;
  const what = `${usage.auid} document ${filename}`;
  return client.get(usage.auid, {
    filename,
    ...(options.global ? { global: true } : {}),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  }).andThen((resource) => decode(usage, resource, what)).orElse((error) =>
    error._tag === "NotFound"
      ? ok(Object.freeze({
        value: usage.codec.empty(options.global ? {} : { xui: client.xui }),
        exists: false,
        text: "",
      }))
      : err(error)
  );
}
