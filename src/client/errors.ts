/**
 * Tagged error values returned by every fallible operation of this module.
 *
 * Nothing in the public API throws: failures come back as `Err(XcapError)` and a caller decides
 * with a `switch` on `_tag`.
 *
 * @module
 */

/**
 * One `<exists>` child of a `uniqueness-failure` condition (RFC 4825 §11): the field that was
 * not unique and the alternative values the server suggests.
 */
export interface NonUniqueField {
  /** Relative node selector of the element or attribute that was not unique. */
  readonly field: string;
  /** Values the server suggests instead (`<alt-value>` elements), possibly empty. */
  readonly altValues: readonly string[];
}

/**
 * The condition carried by an `application/xcap-error+xml` body (RFC 4825 §11).
 *
 * `tag` is the local name of the condition element; `phrase` its optional `phrase` attribute.
 * `no-parent` carries the `ancestor` URI when the server sends one, `uniqueness-failure` its
 * `exists` fields, and `extension` the raw XML of its content.
 */
export type ConflictCondition =
  | {
    readonly tag:
      | "not-well-formed"
      | "not-xml-frag"
      | "schema-validation-error"
      | "not-xml-att-value"
      | "cannot-insert"
      | "cannot-delete"
      | "constraint-failure"
      | "not-utf-8";
    readonly phrase?: string;
  }
  | { readonly tag: "no-parent"; readonly phrase?: string; readonly ancestor?: string }
  | {
    readonly tag: "uniqueness-failure";
    readonly phrase?: string;
    readonly exists: readonly NonUniqueField[];
  }
  | { readonly tag: "extension"; readonly phrase?: string; readonly content: string };

/** The tag names of {@linkcode ConflictCondition}. */
export type ConflictConditionTag = ConflictCondition["tag"];

/** Fields every HTTP-level error carries. */
export interface HttpErrorFields {
  /** A readable explanation: what failed and why. */
  readonly message: string;
  /** The HTTP status code. */
  readonly status: number;
  /** The response body as text (empty when the server sent none). */
  readonly body: string;
  /** The response headers. */
  readonly headers: Headers;
}

/** 409: the server refused the change; `condition` is the parsed xcap-error body, if any. */
export interface ConflictError extends HttpErrorFields {
  /** Discriminant. */
  readonly _tag: "Conflict";
  /** The parsed `application/xcap-error+xml` condition; absent when the body did not parse. */
  readonly condition?: ConflictCondition;
}

/** 412: an `If-Match` or `If-None-Match` precondition failed. */
export interface PreconditionFailedError extends HttpErrorFields {
  /** Discriminant. */
  readonly _tag: "PreconditionFailed";
  /** The ETag the server reported with the 412, if any. */
  readonly etag?: string;
  /**
   * `true` when no request was refused: before a create-only PUT (`ifNoneMatch: "*"`), the
   * client read the target and found it, so it wrote nothing. `status` is then 412, what an
   * RFC 7232 §3.2 server answers, `etag` the one found, and `headers` those of that read.
   */
  readonly exists?: boolean;
}

/** 304: the resource still has the ETag given in `If-None-Match`. */
export interface NotModifiedError extends HttpErrorFields {
  /** Discriminant. */
  readonly _tag: "NotModified";
  /** The unchanged ETag, if the server repeated it. */
  readonly etag?: string;
}

/** 404: no document, or the node selector selects no node (or several; RFC 4825 §8.3). */
export interface NotFoundError extends HttpErrorFields {
  /** Discriminant. */
  readonly _tag: "NotFound";
}

/**
 * How a 401 came about, as the client that sent the request knows it: `"none"`, no
 * credentials were given (no password); `"refused"`, credentials were sent and the server
 * refused them; `"unanswered"`, a password was given, but the server's challenge could not or
 * may not be answered (Basic over plain http without `allowBasicOverHttp`, an unknown scheme).
 */
export type UnauthorizedCredentials = "none" | "refused" | "unanswered";

/** 401: credentials missing or refused. */
export interface UnauthorizedError extends HttpErrorFields {
  /** Discriminant. */
  readonly _tag: "Unauthorized";
  /**
   * Which of missing, refused or unanswered; set by `XCAPClient` (the message says it too),
   * absent from `interpretResponse`, which sees only the response.
   */
  readonly credentials?: UnauthorizedCredentials;
}

/** 403: authenticated, but not allowed. */
export interface ForbiddenError extends HttpErrorFields {
  /** Discriminant. */
  readonly _tag: "Forbidden";
}

/** 405: the method is not allowed on that resource; `allow` lists the ones that are. */
export interface MethodNotAllowedError extends HttpErrorFields {
  /** Discriminant. */
  readonly _tag: "MethodNotAllowed";
  /** Methods from the `Allow` header. */
  readonly allow: readonly string[];
}

/** 415: the server did not accept the request's Content-Type. */
export interface UnsupportedMediaTypeError extends HttpErrorFields {
  /** Discriminant. */
  readonly _tag: "UnsupportedMediaType";
}

/**
 * 301, 302, 303, 307 or 308 with a `Location`: the server says the resource is elsewhere. XCAP
 * (RFC 4825) does not use redirects, so the client does not follow them unless asked
 * (`redirect: "follow"`); this error carries where the server points, for the caller to decide.
 * A 3xx without a usable `Location` is an `HttpError`.
 */
export interface RedirectedError extends HttpErrorFields {
  /** Discriminant. */
  readonly _tag: "Redirected";
  /** The `Location`, resolved against the request URL. */
  readonly location: string;
}

/** Any other non-2xx status. */
export interface HttpError extends HttpErrorFields {
  /** Discriminant. */
  readonly _tag: "HttpError";
}

/** The request never produced a response: DNS, connection refused or reset, TLS, abort. */
export interface NetworkError {
  /** Discriminant. */
  readonly _tag: "NetworkError";
  /** A readable explanation. */
  readonly message: string;
  /** The underlying error. */
  readonly cause: unknown;
}

/** The request took longer than the configured timeout. */
export interface TimeoutError {
  /** Discriminant. */
  readonly _tag: "Timeout";
  /** A readable explanation. */
  readonly message: string;
  /** The timeout that fired, in milliseconds. */
  readonly timeoutMs: number;
}

/** The caller's `AbortSignal` aborted the request. */
export interface AbortedError {
  /** Discriminant. */
  readonly _tag: "Aborted";
  /** A readable explanation. */
  readonly message: string;
  /** The signal's abort reason. */
  readonly cause: unknown;
}

/** A value given to the library was invalid; nothing was sent. */
export interface InvalidArgumentError {
  /** Discriminant. */
  readonly _tag: "InvalidArgument";
  /** What was wrong, and where. */
  readonly message: string;
  /** The name of the offending argument or option. */
  readonly argument: string;
}

/** A 2xx response (or an authentication challenge) that cannot be understood. */
export interface MalformedResponseError {
  /** Discriminant. */
  readonly _tag: "MalformedResponse";
  /** What was wrong with it. */
  readonly message: string;
  /** The HTTP status code, if a response arrived. */
  readonly status?: number;
}

/** Every error this module returns, told apart by `_tag`. */
export type XcapError =
  | ConflictError
  | PreconditionFailedError
  | NotModifiedError
  | NotFoundError
  | UnauthorizedError
  | ForbiddenError
  | MethodNotAllowedError
  | UnsupportedMediaTypeError
  | RedirectedError
  | HttpError
  | NetworkError
  | TimeoutError
  | AbortedError
  | InvalidArgumentError
  | MalformedResponseError;

/** The `_tag` values of {@linkcode XcapError}. */
export type XcapErrorTag = XcapError["_tag"];

/** Errors an {@linkcode Executor} may return: no HTTP response was obtained or understood. */
export type TransportError =
  | NetworkError
  | TimeoutError
  | AbortedError
  | InvalidArgumentError
  | MalformedResponseError;

/**
 * Build an `InvalidArgument` error value.
 *
 * @param argument The name of the offending argument or option.
 * @param message What was wrong, and where.
 * @returns The frozen error value.
 *
 * @example Usage
 * ```ts
 * import { invalidArgument } from "./errors.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const e = invalidArgument("xui", 'XUI "" is empty');
 * assertEquals(e._tag, "InvalidArgument");
 * assertEquals(e.argument, "xui");
 * ```
 */
export function invalidArgument(argument: string, message: string): InvalidArgumentError {
  return Object.freeze({ _tag: "InvalidArgument", argument, message });
}
