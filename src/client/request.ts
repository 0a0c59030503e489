/**
 * Pure request builders: an XCAP operation in, a frozen {@linkcode XcapRequest} out. No I/O.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import {
  type ApplicationUsage,
  documentMimeType,
  KNOWN_APPLICATIONS,
  XCAP_ATTRIBUTE_MIME_TYPE,
  XCAP_ELEMENT_MIME_TYPE,
} from "./media_types.ts";
import { invalidArgument, type InvalidArgumentError } from "./errors.ts";
import { formatEntityTag } from "./etag.ts";
import { type NodeSelector, parseNodeSelector } from "./selector.ts";
import type { XcapMethod, XcapRequest } from "./types.ts";
import { buildXcapUri, type XcapTarget } from "./uri.ts";

/** Options every request builder takes. */
export interface BuildRequestOptions {
  /** Send `If-Match` with this entity-tag (quoted for you if it is not). */
  readonly etag?: string | undefined;
  /** Send `If-None-Match` with this entity-tag, or `*` (create only if absent). */
  readonly ifNoneMatch?: string | undefined;
  /** Extra request headers. Names are lower-cased; `etag`/`ifNoneMatch` take precedence. */
  readonly headers?: HeadersInit;
}

/** Options of {@linkcode buildPutRequest}. */
export interface BuildPutRequestOptions extends BuildRequestOptions {
  /**
   * The Content-Type to send, overriding the one derived from the target: the application
   * usage's MIME type for a document, `application/xcap-el+xml` for an element and
   * `application/xcap-att+xml` for an attribute (RFC 4825 §7.1, §7.4, §7.7).
   */
  readonly contentType?: string;
  /** Where document MIME types are looked up. @default {KNOWN_APPLICATIONS} */
  readonly applications?: ReadonlyMap<string, ApplicationUsage>;
}

// RFC 9110 §5.1 field-name = token; §5.5 field-value: no CR, LF or NUL.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\r\n\0]/;

/** `String(value)`, or `undefined` for a value that has no text form (a null-prototype object). */
function asText(value: unknown): string | undefined {
  try {
    return String(value);
  } catch {
    return undefined;
  }
}

/**
 * The `[name, value]` pairs of any `HeadersInit`, in order, or a message saying why it is none.
 * The one place that flattens caller headers (the request builders and the client's merge of
 * its default headers with a call's).
 */
export function toHeaderEntries(
  init: HeadersInit | undefined,
): Array<[string, string]> | string {
  if (init === undefined) return [];
  if (typeof init !== "object" || init === null) {
    return "headers must be a Headers object, an array of [name, value] pairs or a record";
  }
  if (Array.isArray(init)) {
    const entries: Array<[string, string]> = [];
    for (const pair of init) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        return "each header must be a [name, value] pair";
      }
      const [name, value] = [asText(pair[0]), asText(pair[1])];
      if (name === undefined || value === undefined) return "a header name or value is not text";
      entries.push([name, value]);
    }
    return entries;
  }
  // A Headers object would already have rejected CR/LF; copy its normalised entries.
  if (typeof Headers !== "undefined" && init instanceof Headers) return [...init.entries()];
  const entries: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(init as Record<string, unknown>)) {
    const text = asText(value);
    if (text === undefined) return `the value of header ${JSON.stringify(name)} is not text`;
    entries.push([name, text]);
  }
  return entries;
}

function buildHeaders(
  options: BuildRequestOptions,
  extra: Readonly<Record<string, string>>,
): Result<Readonly<Record<string, string>>, InvalidArgumentError> {
  const headers: Record<string, string> = {};
  const entries = toHeaderEntries(options.headers);
  if (typeof entries === "string") {
    return err(invalidArgument("headers", `Invalid headers: ${entries}`));
  }
  for (const [name, value] of entries) {
    if (!TOKEN.test(name)) {
      return err(
        invalidArgument("headers", `Header name ${JSON.stringify(name)} is not a valid token`),
      );
    }
    if (BAD_VALUE.test(value)) {
      return err(
        invalidArgument(
          "headers",
          `Header ${JSON.stringify(name)} has a CR, LF or NUL in its value`,
        ),
      );
    }
    headers[name.toLowerCase()] = value.trim();
  }
  Object.assign(headers, extra);
  if (options.etag !== undefined) {
    const tag = formatEntityTag(options.etag, { argument: "etag" });
    if (tag.isErr()) return err(tag.error);
    headers["if-match"] = tag.value;
  }
  if (options.ifNoneMatch !== undefined) {
    const tag = formatEntityTag(options.ifNoneMatch, { argument: "ifNoneMatch", allowStar: true });
    if (tag.isErr()) return err(tag.error);
    headers["if-none-match"] = tag.value;
  }
  return ok(Object.freeze(headers));
}

function resolveNode(
  node: string | NodeSelector | undefined,
): Result<NodeSelector | undefined, InvalidArgumentError> {
  if (node === undefined) return ok(undefined);
  if (typeof node === "string") return parseNodeSelector(node);
  return ok(node);
}

/** A JavaScript caller can pass anything: the target and options must at least be objects. */
function checkShapes(target: unknown, options: unknown): InvalidArgumentError | undefined {
  if (typeof target !== "object" || target === null) {
    return invalidArgument("target", "The target must be an object { xcapRoot, auid, ... }");
  }
  if (typeof options !== "object" || options === null) {
    return invalidArgument("options", "Request options must be an object");
  }
  return undefined;
}

function buildRequest(
  method: XcapMethod,
  target: XcapTarget,
  options: BuildRequestOptions,
  body?: { readonly text: string; readonly contentType: (node?: NodeSelector) => string },
): Result<XcapRequest, InvalidArgumentError> {
  const invalid = checkShapes(target, options);
  if (invalid !== undefined) return err(invalid);
  const node = resolveNode(target.node);
  if (node.isErr()) return err(node.error);
  if (method !== "GET" && node.value?.terminal?.kind === "namespace") {
    return err(
      invalidArgument(
        "node",
        `Namespace bindings (namespace::*) are read-only: RFC 4825 §7.10 allows only GET, not ${method}`,
      ),
    );
  }
  const url = buildXcapUri(
    node.value === undefined ? omitNode(target) : { ...target, node: node.value },
  );
  if (url.isErr()) return err(url.error);
  const extra: Record<string, string> = {};
  if (body !== undefined) extra["content-type"] = body.contentType(node.value);
  const headers = buildHeaders(options, extra);
  if (headers.isErr()) return err(headers.error);
  const request: XcapRequest = body === undefined
    ? { method, url: url.value, headers: headers.value }
    : { method, url: url.value, headers: headers.value, body: body.text };
  return ok(Object.freeze(request));
}

function omitNode(target: XcapTarget): XcapTarget {
  const { node: _node, ...rest } = target;
  return rest;
}

/**
 * Build a GET of a document, element, attribute or namespace bindings (RFC 4825 §7.3, §7.6,
 * §7.9, §7.10).
 *
 * @param target What to read.
 * @param options Conditional headers and extra headers.
 * @returns The frozen request, or `InvalidArgument` naming what was wrong.
 *
 * @example Usage
 * ```ts
 * import { buildGetRequest } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const request = buildGetRequest({
 *   xcapRoot: "https://xcap.example.com/xcap-root",
 *   auid: "resource-lists",
 *   xui: "sip:alice@example.com",
 *   node: '/resource-lists/list[@name="friends"]',
 * }, { ifNoneMatch: "abc" });
 * assertEquals(request.isOk() && request.value, {
 *   method: "GET",
 *   url: "https://xcap.example.com/xcap-root/resource-lists/users/sip:alice@example.com/index/~~" +
 *     "/resource-lists/list%5B@name=%22friends%22%5D",
 *   headers: { "if-none-match": '"abc"' },
 * });
 * ```
 */
export function buildGetRequest(
  target: XcapTarget,
  options: BuildRequestOptions = {},
): Result<XcapRequest, InvalidArgumentError> {
  return buildRequest("GET", target, options);
}

/**
 * Build a PUT that creates or replaces a document, element or attribute (RFC 4825 §7.1, §7.4,
 * §7.7). The Content-Type follows the target: the application usage's MIME type for a document,
 * `application/xcap-el+xml` for an element, `application/xcap-att+xml` for an attribute.
 * Namespace bindings cannot be written, so a `namespace::*` target is refused before sending.
 *
 * @param target What to write.
 * @param body The new document, element or attribute value.
 * @param options Conditional headers, extra headers and a Content-Type override.
 * @returns The frozen request, or `InvalidArgument` naming what was wrong.
 *
 * @example Usage
 * ```ts
 * import { buildPutRequest } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const request = buildPutRequest({
 *   xcapRoot: "http://127.0.0.1:8080/xcap-root",
 *   auid: "resource-lists",
 *   xui: "sip:alice@example.com",
 *   node: '/resource-lists/list/entry[@uri="sip:bob@example.com"]/@uri',
 * }, "sip:bob@example.com", { etag: "x1" });
 * assertEquals(request.isOk() && request.value, {
 *   method: "PUT",
 *   url: "http://127.0.0.1:8080/xcap-root/resource-lists/users/sip:alice@example.com/index/~~" +
 *     "/resource-lists/list/entry%5B@uri=%22sip:bob@example.com%22%5D/@uri",
 *   headers: { "content-type": "application/xcap-att+xml", "if-match": '"x1"' },
 *   body: "sip:bob@example.com",
 * });
 * ```
 */
export function buildPutRequest(
  target: XcapTarget,
  body: string,
  options: BuildPutRequestOptions = {},
): Result<XcapRequest, InvalidArgumentError> {
  if (typeof body !== "string") {
    return err(invalidArgument("body", "The PUT body must be a string"));
  }
  const invalid = checkShapes(target, options);
  if (invalid !== undefined) return err(invalid);
  const applications = options.applications ?? KNOWN_APPLICATIONS;
  const contentType = (selector?: NodeSelector): string => {
    if (options.contentType !== undefined) return options.contentType;
    if (selector === undefined) return documentMimeType(target.auid, applications);
    return selector.terminal?.kind === "attribute"
      ? XCAP_ATTRIBUTE_MIME_TYPE
      : XCAP_ELEMENT_MIME_TYPE;
  };
  if (options.contentType !== undefined && typeof options.contentType !== "string") {
    return err(invalidArgument("contentType", "Content-Type must be a string"));
  }
  if (options.contentType !== undefined && BAD_VALUE.test(options.contentType)) {
    return err(invalidArgument("contentType", "Content-Type has a CR, LF or NUL in it"));
  }
  return buildRequest("PUT", target, options, { text: body, contentType });
}

/**
 * Build a DELETE of a document, element or attribute (RFC 4825 §7.2, §7.5, §7.8).
 *
 * @param target What to delete.
 * @param options Conditional headers and extra headers.
 * @returns The frozen request, or `InvalidArgument` naming what was wrong.
 *
 * @example Usage
 * ```ts
 * import { buildDeleteRequest } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const request = buildDeleteRequest({
 *   xcapRoot: "http://127.0.0.1:8080/xcap-root/",
 *   auid: "resource-lists",
 *   xui: "sip:alice@example.com",
 *   node: "/resource-lists/list/entry[2]",
 * }, { etag: '"x2"' });
 * assertEquals(request.isOk() && request.value, {
 *   method: "DELETE",
 *   url: "http://127.0.0.1:8080/xcap-root/resource-lists/users/sip:alice@example.com/index/~~" +
 *     "/resource-lists/list/entry%5B2%5D",
 *   headers: { "if-match": '"x2"' },
 * });
 * ```
 */
export function buildDeleteRequest(
  target: XcapTarget,
  options: BuildRequestOptions = {},
): Result<XcapRequest, InvalidArgumentError> {
  return buildRequest("DELETE", target, options);
}
