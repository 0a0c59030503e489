/**
 * Interpreting an XCAP response: status, headers and body in, a {@linkcode XcapResource} or a tagged
 * {@linkcode XcapError} out. Pure: no I/O, nothing thrown.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { STATUS_TEXT } from "jsr:@std/http@^1.0.21/status";
import type {
  ConflictError,
  ForbiddenError,
  HttpError,
  MethodNotAllowedError,
  NotFoundError,
  NotModifiedError,
  PreconditionFailedError,
  RedirectedError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  XcapError,
  XcapErrorTag,
} from "./errors.ts";
import type { XcapResponse } from "./types.ts";
import { describeConflictCondition, parseConflictReport } from "./conflict_report.ts";

/** RFC 4825 §15.2.4 (also `XCAP_ERROR_MIME_TYPE` in media_types.ts; kept here to stay standalone). */
const XCAP_ERROR_MEDIA_TYPE = "application/xcap-error+xml";

/** A successful (2xx) XCAP response, frozen. */
export interface XcapResource {
  /** The HTTP status code (200, 201, 204...). */
  readonly status: number;
  /** The response body as text; empty for 204 and for most PUT and DELETE answers. */
  readonly body: string;
  /**
   * The `ETag` header as the server sent it, trimmed: strong `"x"`, weak `W/"x"`, or unquoted
   * `x` (some servers send those). Absent when the server sent none or an unusable one.
   */
  readonly etag?: string;
  /** The media type of `Content-Type` without parameters, lower-cased. */
  readonly contentType?: string;
  /** The response headers. */
  readonly headers: Headers;
  /** The URL the response came from. */
  readonly url: string;
}

/**
 * Turn an HTTP response into a {@linkcode XcapResource} (any 2xx) or the {@linkcode XcapError} its
 * status stands for.
 *
 * | status | result |
 * |---|---|
 * | 2xx | `Ok(XcapResource)` |
 * | 304 | `NotModified`, with the `ETag` if repeated |
 * | 401 / 403 / 404 | `Unauthorized` / `Forbidden` / `NotFound` |
 * | 405 | `MethodNotAllowed`, `allow` from the `Allow` header |
 * | 409 | `Conflict`, `condition` parsed from the xcap-error body (RFC 4825 §11) |
 * | 412 | `PreconditionFailed`, with the `ETag` if sent |
 * | 415 | `UnsupportedMediaType` |
 * | 301, 302, 303, 307, 308 with a `Location` | `Redirected`, `location` resolved against the URL |
 * | anything else | `HttpError` (1xx, other 3xx, other 4xx, 5xx) |
 *
 * A 409 body is parsed as an xcap-error document whatever its `Content-Type` says, since servers
 * differ; when it does not parse (RFC 4825 §11.1: an unknown report is an unqualified 409) the
 * error has no `condition` and keeps the raw body. A malformed `ETag` on a 2xx is dropped rather
 * than turned into an error: the request did succeed, and failing it would invite a retry.
 * Nothing checks that a 2xx body fits the request (servers such as Kamailio answer an element
 * GET with the application usage's MIME type rather than `application/xcap-el+xml`).
 *
 * Every message gives the status, its reason phrase and the URL, then what it means; errors are
 * frozen and carry `status`, `body` and `headers`.
 *
 * @param response The response as an executor returned it.
 * @returns The frozen resource, or the frozen error.
 *
 * @example A 409 with a no-parent report
 * ```ts
 * import { interpretResponse } from "@xcap/xcap";
 * import { assert, assertEquals } from "@std/assert";
 *
 * const result = interpretResponse({
 *   status: 409,
 *   headers: new Headers({ "content-type": "application/xcap-error+xml" }),
 *   body: '<xcap-error xmlns="urn:ietf:params:xml:ns:xcap-error"><no-parent/></xcap-error>',
 *   url: "http://127.0.0.1/xcap-root/resource-lists/users/sip:a@b/index/~~/resource-lists/list",
 * });
 * assert(result.isErr());
 * assertEquals(result.error._tag, "Conflict");
 * assert(result.error._tag === "Conflict");
 * assertEquals(result.error.condition, { tag: "no-parent" });
 * ```
 *
 * @example A 200 with an ETag
 * ```ts
 * import { interpretResponse } from "@xcap/xcap";
 * import { assert, assertEquals } from "@std/assert";
 *
 * const result = interpretResponse({
 *   status: 200,
 *   headers: new Headers({ etag: '"a1"', "content-type": "application/xcap-el+xml; charset=UTF-8" }),
 *   body: '<list name="friends"/>',
 *   url: "http://127.0.0.1/xcap-root/resource-lists/users/sip:a@b/index/~~/resource-lists/list",
 * });
 * assert(result.isOk());
 * assertEquals(result.value.etag, '"a1"');
 * assertEquals(result.value.contentType, "application/xcap-el+xml");
 * ```
 */
export function interpretResponse(response: XcapResponse): Result<XcapResource, XcapError> {
  if (
    response === null || typeof response !== "object" || typeof response.status !== "number" ||
    !(response.headers instanceof Headers)
  ) {
    return err(Object.freeze({
      _tag: "MalformedResponse",
      message: "Cannot interpret the response: it is not a { status, headers, body, url } value",
    }));
  }
  const status = response.status;
  const headers = response.headers;
  const body = typeof response.body === "string" ? response.body : "";
  const url = typeof response.url === "string" ? response.url : "";
  const etag = readEntityTag(headers.get("etag"));
  const contentType = readMediaType(headers.get("content-type"));

  if (status >= 200 && status <= 299) {
    // Built field by field rather than with spreads: this runs on every successful request.
    const resource = { status, body } as Mutable<XcapResource>;
    if (etag !== undefined) resource.etag = etag;
    if (contentType !== undefined) resource.contentType = contentType;
    resource.headers = headers;
    resource.url = url;
    return ok(Object.freeze(resource));
  }

  const base = { status, body, headers };
  const say = (detail: string) => `${statusLine(status, url)}: ${detail}`;
  switch (status) {
    case 304:
      return fail<NotModifiedError>({
        _tag: "NotModified",
        message: say(
          "the resource still has the entity tag given in If-None-Match" +
            (etag === undefined ? "" : ` (${etag})`),
        ),
        ...base,
        ...(etag === undefined ? {} : { etag }),
      });
    case 401: {
      const scheme = headers.get("www-authenticate")?.trim().split(/[\s,]/, 1)[0];
      return fail<UnauthorizedError>({
        _tag: "Unauthorized",
        message: say(
          "authentication is required, or the credentials were refused" +
            (scheme ? ` (the server asks for ${scheme})` : "") + bodyHint(body, contentType),
        ),
        ...base,
      });
    }
    case 403:
      return fail<ForbiddenError>({
        _tag: "Forbidden",
        message: say(
          "the server refuses this request for these credentials" + bodyHint(body, contentType),
        ),
        ...base,
      });
    case 404:
      // RFC 4825 §8: no such document, or a node selector that selects no node or several.
      return fail<NotFoundError>({
        _tag: "NotFound",
        message: say(
          "there is no such document, or the node selector selects no node or more than one" +
            bodyHint(body, contentType),
        ),
        ...base,
      });
    case 405: {
      const allowHeader = headers.get("allow");
      const allow = Object.freeze(
        (allowHeader ?? "").split(",").map((m) => m.trim()).filter((m) => m !== ""),
      );
      const allowed = allowHeader === null
        ? " (the server sent no Allow header)"
        : allow.length === 0
        ? " (the server allows no method here)"
        : ` (allowed: ${allow.join(", ")})`;
      return fail<MethodNotAllowedError>({
        _tag: "MethodNotAllowed",
        message: say(`the method is not allowed on this resource${allowed}`),
        ...base,
        allow,
      });
    }
    case 409:
      return conflict(base, contentType, say);
    case 412:
      return fail<PreconditionFailedError>({
        _tag: "PreconditionFailed",
        message: say(
          "the resource's entity tag does not satisfy the request's If-Match or If-None-Match " +
            "condition" +
            (etag === undefined ? "" : ` (current entity tag: ${etag})`),
        ),
        ...base,
        ...(etag === undefined ? {} : { etag }),
      });
    case 415:
      return fail<UnsupportedMediaTypeError>({
        _tag: "UnsupportedMediaType",
        message: say(
          "the server does not accept the request's Content-Type" + bodyHint(body, contentType),
        ),
        ...base,
      });
    case 301:
    case 302:
    case 303:
    case 307:
    case 308: {
      const location = resolveLocation(headers.get("location"), url);
      if (location === undefined) break;
      return fail<RedirectedError>({
        _tag: "Redirected",
        message: say(
          `the server redirects to ${location}; XCAP does not use redirects, and this one was ` +
            "not followed",
        ),
        ...base,
        location,
      });
    }
  }
  return fail<HttpError>({
    _tag: "HttpError",
    message: say(describeOtherStatus(status, headers) + bodyHint(body, contentType)),
    ...base,
  });
}

/** A Location value resolved against the request URL (RFC 9110 §10.2.2), if it is one. */
function resolveLocation(value: string | null, base: string): string | undefined {
  const location = value?.trim();
  if (location === undefined || location === "") return undefined;
  try {
    return new URL(location, base === "" ? undefined : base).href;
  } catch {
    return undefined;
  }
}

const XCAP_ERROR_TAGS: Readonly<Record<XcapErrorTag, true>> = {
  Conflict: true,
  PreconditionFailed: true,
  NotModified: true,
  NotFound: true,
  Unauthorized: true,
  Forbidden: true,
  MethodNotAllowed: true,
  UnsupportedMediaType: true,
  HttpError: true,
  NetworkError: true,
  Timeout: true,
  Aborted: true,
  Redirected: true,
  InvalidArgument: true,
  MalformedResponse: true,
  Internal: true,
};

/**
 * Tell whether a value is one of this module's {@linkcode XcapError} values: an object with a
 * known `_tag` and a string `message`.
 *
 * @param value Anything.
 * @returns `true` when `value` is an `XcapError`.
 *
 * @example Usage
 * ```ts
 * import { invalidArgument } from "./errors.ts";
 * import { isXcapError } from "./response.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(isXcapError(invalidArgument("xui", "XUI is empty")), true);
 * assertEquals(isXcapError(new Error("boom")), false);
 * assertEquals(isXcapError({ _tag: "Nope", message: "x" }), false);
 * ```
 */
export function isXcapError(value: unknown): value is XcapError {
  if (value === null || typeof value !== "object") return false;
  const { _tag: tag, message } = value as { _tag?: unknown; message?: unknown };
  return typeof tag === "string" && Object.hasOwn(XCAP_ERROR_TAGS, tag) &&
    typeof message === "string";
}

function conflict(
  base: { readonly status: number; readonly body: string; readonly headers: Headers },
  contentType: string | undefined,
  say: (detail: string) => string,
): Result<never, XcapError> {
  const body = base.body;
  if (body.trim() === "") {
    return fail<ConflictError>({
      _tag: "Conflict",
      message: say("the server refused the change and sent no xcap-error report"),
      ...base,
    });
  }
  const parsed = parseConflictReport(body);
  if (parsed.isOk()) {
    return fail<ConflictError>({
      _tag: "Conflict",
      message: say(describeConflictCondition(parsed.value)),
      ...base,
      condition: parsed.value,
    });
  }
  const detail = contentType === XCAP_ERROR_MEDIA_TYPE
    ? `the server refused the change, and its xcap-error report is unreadable (${
      parsed.error.message.replace(/^Cannot parse xcap-error document: /, "")
    })`
    : "the server refused the change without an xcap-error report" + bodyHint(body, contentType);
  return fail<ConflictError>({ _tag: "Conflict", message: say(detail), ...base });
}

function fail<E extends XcapError>(error: E): Result<never, XcapError> {
  Object.freeze(error);
  return err<never, XcapError>(error);
}

function statusLine(status: number, url: string): string {
  const reason = STATUS_TEXT[status];
  const line = reason === undefined ? `HTTP ${status}` : `HTTP ${status} ${reason}`;
  return url === "" ? line : `${line} from ${url}`;
}

function describeOtherStatus(status: number, headers: Headers): string {
  if (status >= 100 && status <= 199) return "an interim response is not an answer";
  if (status >= 300 && status <= 399) {
    const location = headers.get("location");
    return location === null || location.trim() === ""
      ? "the server redirects elsewhere"
      : `the server redirects to ${location.trim()}`;
  }
  if (status >= 400 && status <= 499) return "the server rejected the request";
  if (status >= 500 && status <= 599) return "the server failed to handle the request";
  return "the status code is not a valid HTTP status";
}

/** A short quote of a plain-text body, which often says more than the status (OpenXCAP 404). */
function bodyHint(body: string, contentType: string | undefined): string {
  if (contentType !== "text/plain") return "";
  const text = body.replace(/\s+/g, " ").trim();
  if (text === "") return "";
  return `; the server says ${JSON.stringify(text.length > 200 ? `${text.slice(0, 199)}…` : text)}`;
}

// entity-tag = [ W/ ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3).
const ENTITY_TAG = /^(?:W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/;
// Unquoted tags, as some servers send them: the same characters, no quotes at all.
const UNQUOTED_ENTITY_TAG = /^[\x21\x23-\x7e\x80-\xff]+$/;

/** The ETag header trimmed, or `undefined` when absent, empty or unusable (e.g. `"abc`). */
function readEntityTag(value: string | null): string | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  // `*` and a bare `W/` look like unquoted tags but can never be sent back in If-Match.
  if (trimmed === "*" || trimmed === "W/") return undefined;
  return ENTITY_TAG.test(trimmed) || UNQUOTED_ENTITY_TAG.test(trimmed) ? trimmed : undefined;
}

/** `type/subtype` of a Content-Type value, lower-cased, without parameters. */
function readMediaType(value: string | null): string | undefined {
  if (value === null) return undefined;
  const end = value.indexOf(";");
  const mediaType = (end < 0 ? value : value.slice(0, end)).trim().toLowerCase();
  return mediaType === "" ? undefined : mediaType;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
