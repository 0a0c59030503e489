/**
 * `XCAPClient`: python-xcaplib's client API, returning `ResultAsync` values instead of raising.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, errAsync, type Result, ResultAsync } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import type { ApplicationUsage } from "./media_types.ts";
import { withAuthentication } from "./auth.ts";
import {
  invalidArgument,
  type InvalidArgumentError,
  type PreconditionFailedError,
  type UnauthorizedError,
  type XcapError,
} from "./errors.ts";
import { createFetchRunner, type FetchRunner } from "./executor.ts";
import { callExecutor } from "./_call_executor.ts";
import {
  buildDeleteRequest,
  buildGetRequest,
  buildPutRequest,
  type BuildRequestOptions,
  toHeaderEntries,
} from "./request.ts";
import type { XcapTarget } from "./uri.ts";
import { interpretResponse, type XcapResource } from "./response.ts";
import type { NamespaceBindings, NodeSelector } from "./selector.ts";
import type { ExecuteOptions, Executor } from "./types.ts";
import { ignoresIfNoneMatchWildcard } from "./_server_quirks.ts";

/** Options of the {@linkcode XCAPClient} constructor. */
export interface XcapClientOptions {
  /** Password for HTTP Digest (or Basic) authentication; without it no credentials are sent. */
  readonly password?: string;
  /**
   * User name for authentication. @default {the XUI's user part: "alice" for
   * "sip:alice@example.com"}
   */
  readonly username?: string;
  /** The `fetch` the default executor uses. @default {globalThis.fetch} */
  readonly fetch?: typeof globalThis.fetch;
  /**
   * Run requests with this executor instead of the default `fetch` one. Authentication is
   * still added on top when `password` is given.
   */
  readonly executor?: Executor;
  /** Headers sent with every request (per-call headers override them). */
  readonly headers?: HeadersInit;
  /**
   * Give up on a request after this many milliseconds, body included (default executor only);
   * `false` turns the timeout off. See {@linkcode FetchExecutorOptions.timeoutMs}.
   * @default {30000}
   */
  readonly timeoutMs?: number | false;
  /**
   * Refuse response bodies larger than this many bytes (default executor only).
   * @default {16777216}
   */
  readonly maxResponseBytes?: number;
  /**
   * Redirects (default executor only): `"manual"` makes a 3xx a `Redirected` error carrying
   * its `location`; `"follow"` follows them, never taking the body, credentials or custom
   * headers to another origin. See {@linkcode FetchExecutorOptions.redirect}.
   * @default {"manual"}
   */
  readonly redirect?: RequestRedirect;
  /** Answer a Basic challenge over plain `http:` (the password travels in clear). @default {false} */
  readonly allowBasicOverHttp?: boolean;
  /** Application usages for document MIME types. @default {KNOWN_APPLICATIONS} */
  readonly applications?: ReadonlyMap<string, ApplicationUsage>;
}

/** Options of one {@linkcode XCAPClient} call. */
export interface XcapCallOptions extends BuildRequestOptions {
  /** Prefix to namespace URI bindings for prefixed node-selector steps. */
  readonly namespaces?: NamespaceBindings;
  /** Use the `global` tree instead of the user's. @default {false} */
  readonly global?: boolean;
  /** Document name below the tree, sub-folders allowed. @default {"index"} */
  readonly filename?: string;
  /** Aborts the request. */
  readonly signal?: AbortSignal;
}

/** Options of {@linkcode XCAPClient.put}. */
export interface XcapPutOptions extends XcapCallOptions {
  /** Override the Content-Type derived from the target. */
  readonly contentType?: string;
  /**
   * With `ifNoneMatch: "*"` (create only), read the target first and write nothing when it
   * exists, because some servers (Kamailio) ignore `If-None-Match: *` and overwrite. `false`
   * sends the PUT alone, for a caller that has just checked itself. See
   * {@linkcode XCAPClient.put}.
   * @default {true}
   */
  readonly checkBeforeCreate?: boolean;
}

/**
 * What reads and writes one user's XCAP resources: get, put and delete, each a `ResultAsync`.
 * {@linkcode XCAPClient} is one; {@linkcode createXcapResourceClient} makes one from a bare
 * executor. The read-modify-write engine (`updateDocument` in `@xcap/xcap/usages`), the everyday
 * operations and capability discovery take this interface, not the class, so they run on any
 * executor and a test can hand them a stand-in.
 */
export interface XcapResourceClient {
  /** The XCAP User Identifier whose documents the client addresses. */
  readonly xui: string;
  /**
   * Read a whole document: `get(application, options)`, options without a node selector.
   *
   * @param application The AUID.
   * @param options Per-call options.
   * @returns The resource, or an error value.
   */
  get(application: string, options?: XcapCallOptions): ResultAsync<XcapResource, XcapError>;
  /**
   * Read a document, or the node a selector names.
   *
   * @param application The AUID.
   * @param node A node selector; absent (`undefined`) for the whole document.
   * @param options Per-call options.
   * @returns The resource, or an error value.
   */
  get(
    application: string,
    node?: string | NodeSelector,
    options?: XcapCallOptions,
  ): ResultAsync<XcapResource, XcapError>;
  /**
   * Create or replace a whole document: `put(application, resource, options)`.
   *
   * @param application The AUID.
   * @param resource The document.
   * @param options Per-call options.
   * @returns The server's answer, or an error value.
   */
  put(
    application: string,
    resource: string,
    options?: XcapPutOptions,
  ): ResultAsync<XcapResource, XcapError>;
  /**
   * Create or replace a document, or the node a selector names.
   *
   * @param application The AUID.
   * @param resource The document, element or attribute value.
   * @param node A node selector; absent (`undefined`) for the whole document.
   * @param options Per-call options.
   * @returns The server's answer, or an error value.
   */
  put(
    application: string,
    resource: string,
    node?: string | NodeSelector,
    options?: XcapPutOptions,
  ): ResultAsync<XcapResource, XcapError>;
  /**
   * Delete a whole document: `delete(application, options)`.
   *
   * @param application The AUID.
   * @param options Per-call options.
   * @returns The server's answer, or an error value.
   */
  delete(application: string, options?: XcapCallOptions): ResultAsync<XcapResource, XcapError>;
  /**
   * Delete a document, or the node a selector names.
   *
   * @param application The AUID.
   * @param node A node selector; absent (`undefined`) for the whole document.
   * @param options Per-call options.
   * @returns The server's answer, or an error value.
   */
  delete(
    application: string,
    node?: string | NodeSelector,
    options?: XcapCallOptions,
  ): ResultAsync<XcapResource, XcapError>;
}

/** The user part of a SIP or SIPS URI, or the whole XUI when it has none. */
function userPart(xui: string): string {
  const noScheme = xui.replace(/^sips?:/i, "");
  const at = noScheme.lastIndexOf("@");
  return at === -1 ? noScheme : noScheme.slice(0, at);
}

/**
 * Tell a node selector from call options in the `(node?, options?)` tail of a call. A parsed
 * {@linkcode NodeSelector} always has a `steps` array and no options object has one, so an
 * object without `steps` in the node's place, with nothing after it, is the options:
 * `get(app, { etag })` is `get(app, undefined, { etag })`.
 */
function splitNodeAndOptions<O>(
  node: string | NodeSelector | O | undefined,
  options: O | undefined,
): { node: string | NodeSelector | undefined; options: O | undefined } {
  const isOptions = options === undefined && typeof node === "object" && node !== null &&
    !Array.isArray((node as { steps?: unknown }).steps);
  return isOptions
    ? { node: undefined, options: node as O }
    : { node: node as string | NodeSelector | undefined, options };
}

/** The `PreconditionFailed` of a create-only PUT whose target the client found already there. */
function alreadyExists(found: XcapResource, what: string): PreconditionFailedError {
  return Object.freeze({
    _tag: "PreconditionFailed",
    message: `Not written: ${what} exists already (GET ${found.url} answered ${found.status}` +
      `${found.etag === undefined ? "" : `, entity tag ${found.etag}`}), and If-None-Match: * ` +
      "creates only (RFC 7232 §3.2); the client checked before the PUT, since some servers " +
      "(Kamailio) ignore that header",
    status: 412,
    body: "",
    headers: found.headers,
    ...(found.etag === undefined ? {} : { etag: found.etag }),
    exists: true,
  });
}

/** Whether `headers` (a request's, as an executor received it) carry credentials. */
function hasAuthorization(headers: unknown): boolean {
  return typeof headers === "object" && headers !== null &&
    Object.keys(headers).some((name) => name.toLowerCase() === "authorization");
}

/** How a 401 came about, from what the client knows: a password given, credentials sent. */
function explainUnauthorized(
  error: UnauthorizedError,
  passwordGiven: boolean,
  credentialsSent: boolean,
  username: string,
): UnauthorizedError {
  const credentials = credentialsSent ? "refused" : passwordGiven ? "unanswered" : "none";
  const detail = credentials === "refused"
    ? passwordGiven
      ? `the credentials of user ${
        JSON.stringify(username)
      } were refused (wrong user name or password)`
      : "the credentials in the request's Authorization header were refused"
    : credentials === "unanswered"
    ? "a password was given but not sent: the client cannot or may not answer the server's " +
      "challenge (Basic over plain http needs allowBasicOverHttp)"
    : "no credentials were given (the client has no password)";
  // interpretResponse's message is "<status line>: authentication is required, or ...".
  const generic = "authentication is required, or the credentials were refused";
  const message = error.message.includes(generic)
    ? error.message.replace(generic, detail)
    : `${error.message} (${detail})`;
  return Object.freeze({ ...error, message, credentials });
}

function mergeHeaders(
  base: HeadersInit | undefined,
  call: HeadersInit | undefined,
): HeadersInit | undefined {
  if (base === undefined) return call;
  if (call === undefined) return base;
  const first = toHeaderEntries(base);
  const second = toHeaderEntries(call);
  // Not header collections: the request builder says what is wrong.
  if (typeof first === "string") return base;
  if (typeof second === "string") return call;
  const merged: Record<string, string> = {};
  for (const [k, v] of [...first, ...second]) merged[k.toLowerCase()] = v;
  return merged;
}

/**
 * An XCAP client bound to one XCAP root and one user (python-xcaplib's `XCAPClient`).
 *
 * Every method returns a `ResultAsync<XcapResource, XcapError>`: await it and check `isOk()`, or
 * `match` on it. A 409 is `Err({ _tag: "Conflict", condition })` with the parsed
 * `application/xcap-error+xml` condition, a 412 is `Err({ _tag: "PreconditionFailed" })`.
 * Nothing throws, whatever the arguments: unusable options come back as `InvalidArgument`.
 *
 * Safe defaults (default executor): a request gives up after 30 s, body included
 * (`timeoutMs`, `false` for none); a response body over 16 MiB is refused without being read
 * further (`maxResponseBytes`); a redirect is `Err({ _tag: "Redirected", location })` rather
 * than followed (`redirect: "follow"` follows, never taking the body, credentials or custom
 * headers to another origin).
 *
 * @example Usage
 * ```ts
 * import { XCAPClient } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * // A stand-in server: echoes the method and path. Any fetch-compatible function works.
 * const client = new XCAPClient("http://127.0.0.1:8080/xcap-root", "sip:alice@example.com", {
 *   fetch: async (input, init) =>
 *     new Response(`${init?.method} ${new URL(String(input)).pathname}`, {
 *       headers: { etag: '"e1"' },
 *     }),
 * });
 * const got = await client.get("resource-lists");
 * assertEquals(got.map((r) => r.body).unwrapOr(undefined), "GET /xcap-root/resource-lists/users/sip:alice@example.com/index");
 * assertEquals(got.map((r) => r.etag).unwrapOr(undefined), '"e1"');
 * ```
 */
export class XCAPClient implements XcapResourceClient {
  /** The XCAP root every URI starts with. */
  readonly xcapRoot: string;
  /** The XCAP User Identifier whose documents this client addresses. */
  readonly xui: string;
  readonly #execute: Executor;
  /** The client's own fetch runner, when no middleware (a password) or executor stands between. */
  readonly #direct: FetchRunner | undefined;
  readonly #options: XcapClientOptions;
  /** Why the options cannot be used; every call returns it. */
  readonly #invalid: InvalidArgumentError | undefined;
  /** The user name credentials are sent with. */
  readonly #username: string;
  /**
   * Per call (keyed by the call's own execute-options object, which the authentication
   * middleware hands through unchanged): whether the last request sent carried credentials.
   */
  readonly #credentialsSent = new WeakMap<ExecuteOptions, boolean>();
  /** Requests of `get(application)` with no node and no options, by application (at most 64). */
  readonly #plainGets = new Map<
    string,
    {
      readonly xcapRoot: string;
      readonly xui: string;
      readonly request: ReturnType<typeof buildGetRequest>;
    }
  >();

  /**
   * Create a client. Nothing is validated or sent here: a bad XCAP root or XUI comes back as
   * `InvalidArgument` from the first call.
   *
   * @param xcapRoot The XCAP root URL, e.g. `https://xcap.example.com/xcap-root`.
   * @param xui The XCAP User Identifier, e.g. `sip:alice@example.com`.
   * @param options Credentials, transport and defaults.
   */
  constructor(xcapRoot: string, xui: string, options: XcapClientOptions = {}) {
    this.xcapRoot = xcapRoot;
    this.xui = xui;
    const usable = typeof options === "object" && options !== null;
    this.#options = usable ? options : {};
    this.#invalid = usable ? undefined : invalidArgument(
      "options",
      `XCAPClient options must be an object, not ${options === null ? "null" : typeof options}`,
    );
    const o = this.#options;
    // The client's own executor is trusted: called without the guard a foreign one needs.
    const runner = o.executor === undefined
      ? createFetchRunner({
        ...(o.fetch === undefined ? {} : { fetch: o.fetch }),
        ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
        ...(o.maxResponseBytes === undefined ? {} : { maxResponseBytes: o.maxResponseBytes }),
        ...(o.redirect === undefined ? {} : { redirect: o.redirect }),
      })
      : undefined;
    const base: Executor = o.executor ??
      ((request, callOptions) => new ResultAsync(runner!(request, callOptions)));
    const observed: Executor = (request, callOptions) => {
      if (callOptions !== undefined) {
        const headers = typeof request === "object" && request !== null ? request.headers : {};
        this.#credentialsSent.set(callOptions, hasAuthorization(headers));
      }
      return runner === undefined
        ? callExecutor(base, request, callOptions)
        : base(request, callOptions);
    };
    // Without a password nothing sits between the client and its own runner: each request is
    // one promise, not a chain of ResultAsync wrappers (tests/bench/RESULTS.md, issue 13).
    this.#direct = o.password === undefined ? runner : undefined;
    this.#username = o.username ?? (typeof xui === "string" ? userPart(xui) : "");
    this.#execute = o.password === undefined ? observed : withAuthentication(observed, {
      username: this.#username,
      password: o.password,
    }, { allowBasicOverHttp: o.allowBasicOverHttp ?? false });
  }

  /**
   * Run `build` unless the options are unusable; anything it throws (a getter on a caller's
   * object, a value of the wrong type) becomes an error value rather than an exception.
   */
  #guard<T>(
    options: unknown,
    build: () => ResultAsync<T, XcapError>,
  ): ResultAsync<T, XcapError> {
    if (this.#invalid !== undefined) return errAsync(this.#invalid);
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      return errAsync(invalidArgument(
        "options",
        `Call options must be an object, not ${options === null ? "null" : typeof options}`,
      ));
    }
    try {
      return build();
    } catch (cause) {
      return errAsync(invalidArgument(
        "options",
        `Cannot build the request: ${cause instanceof Error ? cause.message : String(cause)}`,
      ));
    }
  }

  #target(
    application: string,
    node: string | NodeSelector | undefined,
    options: XcapCallOptions,
  ): XcapTarget {
    return {
      xcapRoot: this.xcapRoot,
      auid: application,
      ...(options.global ? { global: true } : { xui: this.xui }),
      ...(options.filename === undefined ? {} : { filename: options.filename }),
      ...(node === undefined ? {} : { node }),
      ...(options.namespaces === undefined ? {} : { namespaces: options.namespaces }),
    };
  }

  #requestOptions(options: XcapCallOptions): BuildRequestOptions {
    const headers = mergeHeaders(this.#options.headers, options.headers);
    return {
      ...(options.etag === undefined ? {} : { etag: options.etag }),
      ...(options.ifNoneMatch === undefined ? {} : { ifNoneMatch: options.ifNoneMatch }),
      ...(headers === undefined ? {} : { headers }),
    };
  }

  #run(
    request: ReturnType<typeof buildGetRequest>,
    options: XcapCallOptions,
  ): ResultAsync<XcapResource, XcapError> {
    // A fresh object per call: the key under which the call's credentials are observed.
    const executeOptions: ExecuteOptions = options.signal === undefined
      ? {}
      : { signal: options.signal };
    return new ResultAsync(this.#send(request, executeOptions));
  }

  /** Send a built request and interpret the response: what {@linkcode XCAPClient.#run} awaits. */
  async #send(
    request: ReturnType<typeof buildGetRequest>,
    executeOptions: ExecuteOptions,
  ): Promise<Result<XcapResource, XcapError>> {
    if (request.isErr()) return err(request.error);
    const sent = request.value;
    const direct = this.#direct;
    const response = direct !== undefined
      ? await direct(sent, executeOptions)
      : await callExecutor(this.#execute, sent, executeOptions);
    const result = response.isErr() ? err(response.error) : interpretResponse(response.value);
    if (result.isOk() || result.error._tag !== "Unauthorized") return result;
    return err(explainUnauthorized(
      result.error,
      this.#options.password !== undefined,
      // No middleware between the client and its runner: what was sent is what it built.
      direct !== undefined
        ? hasAuthorization(sent.headers)
        : this.#credentialsSent.get(executeOptions) ?? false,
      this.#username,
    ));
  }

  /**
   * Read a whole document: `get(application, options)`, the same as
   * `get(application, undefined, options)`.
   *
   * @param application The AUID, e.g. `resource-lists`.
   * @param options `etag`, `ifNoneMatch`, `headers`, `namespaces`, `global`, `filename`,
   * `signal`.
   * @returns The resource (`body`, `etag`, `contentType`, `status`) or an error value.
   *
   * @example Options without a node selector
   * ```ts
   * import { XCAPClient } from "@xcap/xcap";
   * import { assertEquals } from "@std/assert";
   *
   * const client = new XCAPClient("http://127.0.0.1:8080/xcap-root", "sip:alice@example.com", {
   *   fetch: async (input) => new Response(new URL(String(input)).pathname),
   * });
   * const got = await client.get("xcap-caps", { global: true });
   * assertEquals(got.isOk() && got.value.body, "/xcap-root/xcap-caps/global/index");
   * ```
   */
  get(application: string, options?: XcapCallOptions): ResultAsync<XcapResource, XcapError>;
  /**
   * Read a document, or the element, attribute or namespace bindings a node selector names.
   *
   * @param application The AUID, e.g. `resource-lists`.
   * @param node A node selector (text or parsed); absent (`undefined`) for the whole document.
   * @param options `etag`, `ifNoneMatch` (a 304 is `Err({ _tag: "NotModified" })`), `headers`,
   * `namespaces`, `global`, `filename`, `signal`.
   * @returns The resource (`body`, `etag`, `contentType`, `status`) or an error value.
   *
   * @example Usage
   * ```ts
   * import { XCAPClient } from "@xcap/xcap";
   * import { assertEquals } from "@std/assert";
   *
   * const client = new XCAPClient("http://127.0.0.1:8080/xcap-root", "sip:alice@example.com", {
   *   fetch: async () => new Response(null, { status: 404 }),
   * });
   * const got = await client.get("resource-lists", "/resource-lists/list/entry/@uri");
   * assertEquals(got.isErr() && got.error._tag, "NotFound");
   * ```
   */
  get(
    application: string,
    node?: string | NodeSelector,
    options?: XcapCallOptions,
  ): ResultAsync<XcapResource, XcapError>;
  get(
    application: string,
    nodeOrOptions?: string | NodeSelector | XcapCallOptions,
    maybeOptions?: XcapCallOptions,
  ): ResultAsync<XcapResource, XcapError> {
    const { node, options = {} } = splitNodeAndOptions(nodeOrOptions, maybeOptions);
    return this.#guard(options, () => this.#get(application, node, options));
  }

  #get(
    application: string,
    node: string | NodeSelector | undefined,
    options: XcapCallOptions,
  ): ResultAsync<XcapResource, XcapError> {
    const plain = node === undefined && typeof application === "string" &&
      this.#options.headers === undefined && options.headers === undefined &&
      options.etag === undefined && options.ifNoneMatch === undefined &&
      options.global === undefined && options.filename === undefined &&
      options.namespaces === undefined;
    if (plain) {
      // A whole document with no options: the same frozen request every time, built once.
      const cached = this.#plainGets.get(application);
      if (cached?.xcapRoot === this.xcapRoot && cached.xui === this.xui) {
        return this.#run(cached.request, options);
      }
    }
    const request = buildGetRequest(
      this.#target(application, node, options),
      this.#requestOptions(options),
    );
    if (plain && request.isOk()) {
      if (this.#plainGets.size >= 64) this.#plainGets.clear();
      this.#plainGets.set(application, { xcapRoot: this.xcapRoot, xui: this.xui, request });
    }
    return this.#run(request, options);
  }

  /**
   * Create or replace a whole document: `put(application, resource, options)`, the same as
   * `put(application, resource, undefined, options)`.
   *
   * @param application The AUID, e.g. `resource-lists`.
   * @param resource The document to store.
   * @param options `etag` (If-Match), `ifNoneMatch` (`*` creates only if absent, checked first:
   * see the other signature), `checkBeforeCreate`, `headers`, `global`, `filename`,
   * `contentType`, `signal`.
   * @returns The server's answer (201 created or 200 replaced, with the new `etag`).
   *
   * @example Create only
   * ```ts
   * import { XCAPClient } from "@xcap/xcap";
   * import { assertEquals } from "@std/assert";
   *
   * // A stand-in server where the document exists already.
   * const client = new XCAPClient("http://127.0.0.1:8080/xcap-root", "sip:alice@example.com", {
   *   fetch: async () => new Response("<resource-lists/>", { headers: { etag: '"e1"' } }),
   * });
   * const created = await client.put("resource-lists", "<resource-lists/>", { ifNoneMatch: "*" });
   * assertEquals(created.isErr() && created.error._tag, "PreconditionFailed");
   * ```
   */
  put(
    application: string,
    resource: string,
    options?: XcapPutOptions,
  ): ResultAsync<XcapResource, XcapError>;
  /**
   * Create or replace a document, or the element or attribute a node selector names.
   *
   * Create only (`ifNoneMatch: "*"`, RFC 7232 §3.2): some servers ignore `If-None-Match: *`
   * and overwrite (Kamailio), so the client reads the target first and, when it exists,
   * writes nothing and answers `PreconditionFailed` with `exists: true` (and the ETag it
   * found). When it is absent, the PUT goes out under `If-None-Match: *` and a condition the
   * server honours even if it ignores that one: for a document on Kamailio its quoted `"*"`;
   * for a node, on any server, `If-Match` with the document's ETag read just before (RFC 4825
   * §7.11: a node's entity tag is its document's), so any change to the document after the
   * check is a 412 (`PreconditionFailed` without `exists`: read again and retry if you like).
   * The race window left: a document created between the check and the PUT is overwritten on
   * a server that ignores `If-None-Match: *` and is not recognised as Kamailio (by its
   * `Server` header). A node costs two GETs (the document's ETag, then the node under
   * `If-Match`), a document one.
   * `checkBeforeCreate: false` sends the PUT alone.
   *
   * @param application The AUID, e.g. `resource-lists`.
   * @param resource The document, element or attribute value to store.
   * @param node A node selector (text or parsed); absent (`undefined`) for the whole document.
   * @param options `etag` (If-Match), `ifNoneMatch` (`*` creates only if absent), `headers`,
   * `namespaces`, `global`, `filename`, `contentType`, `checkBeforeCreate`, `signal`.
   * @returns The server's answer (201 created or 200 replaced, with the new `etag`).
   *
   * @example Usage
   * ```ts
   * import { XCAPClient } from "@xcap/xcap";
   * import { assertEquals } from "@std/assert";
   *
   * const client = new XCAPClient("http://127.0.0.1:8080/xcap-root", "sip:alice@example.com", {
   *   fetch: async () =>
   *     new Response(
   *       '<xcap-error xmlns="urn:ietf:params:xml:ns:xcap-error"><not-xml-frag/></xcap-error>',
   *       { status: 409, headers: { "content-type": "application/xcap-error+xml" } },
   *     ),
   * });
   * const put = await client.put("resource-lists", "<entry", "/resource-lists/list/entry[1]");
   * assertEquals(put.isErr() && put.error._tag === "Conflict" && put.error.condition?.tag, "not-xml-frag");
   * ```
   */
  put(
    application: string,
    resource: string,
    node?: string | NodeSelector,
    options?: XcapPutOptions,
  ): ResultAsync<XcapResource, XcapError>;
  put(
    application: string,
    resource: string,
    nodeOrOptions?: string | NodeSelector | XcapPutOptions,
    maybeOptions?: XcapPutOptions,
  ): ResultAsync<XcapResource, XcapError> {
    const { node, options = {} } = splitNodeAndOptions(nodeOrOptions, maybeOptions);
    return this.#guard(
      options,
      () =>
        options.ifNoneMatch?.trim() === "*" && options.checkBeforeCreate !== false
          ? this.#createOnly(application, resource, node, options)
          : this.#put(application, resource, node, options),
    );
  }

  #put(
    application: string,
    resource: string,
    node: string | NodeSelector | undefined,
    options: XcapPutOptions,
  ): ResultAsync<XcapResource, XcapError> {
    const request = buildPutRequest(this.#target(application, node, options), resource, {
      ...this.#requestOptions(options),
      ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
      ...(this.#options.applications === undefined
        ? {}
        : { applications: this.#options.applications }),
    });
    return this.#run(request, options);
  }

  /** `put` with `ifNoneMatch: "*"`: check that the target is absent, then PUT (see `put`). */
  #createOnly(
    application: string,
    resource: string,
    node: string | NodeSelector | undefined,
    options: XcapPutOptions,
  ): ResultAsync<XcapResource, XcapError> {
    const { ifNoneMatch: _, contentType: __, checkBeforeCreate: ___, ...read } = options;
    const what = node === undefined
      ? `the ${application} document`
      : `the node ${typeof node === "string" ? node : "selected"}`;
    return new ResultAsync((async (): Promise<Result<XcapResource, XcapError>> => {
      const document = await this.#get(application, undefined, read);
      if (document.isErr() && document.error._tag !== "NotFound") return err(document.error);
      if (node === undefined) {
        if (document.isOk()) return err(alreadyExists(document.value, what));
        // Kamailio honours only the quoted "*" (for a whole document it means "exists").
        const headers = document.error._tag === "NotFound" ? document.error.headers : undefined;
        const wildcard = headers !== undefined && ignoresIfNoneMatchWildcard(headers) ? '"*"' : "*";
        return await this.#put(application, resource, undefined, {
          ...options,
          ifNoneMatch: wildcard,
        });
      }
      // No document: no node either; the PUT gets the server's own answer (409 no-parent).
      if (document.isErr()) return await this.#put(application, resource, node, options);
      const etag = options.etag ?? document.value.etag;
      const found = await this.#get(application, node, {
        ...read,
        ...(etag === undefined ? {} : { etag }),
      });
      if (found.isOk()) return err(alreadyExists(found.value, what));
      if (found.error._tag !== "NotFound") return err(found.error);
      // RFC 4825 §7.11: a node's entity tag is its document's, so If-Match on the node's PUT
      // fails if anything changed since the check: the guard on a server that ignores
      // If-None-Match: * (Kamailio), kept on every server since not every one says what it is.
      return await this.#put(application, resource, node, {
        ...options,
        ...(etag === undefined ? {} : { etag }),
      });
    })());
  }

  /**
   * Delete a whole document: `delete(application, options)`, the same as
   * `delete(application, undefined, options)`.
   *
   * @param application The AUID, e.g. `resource-lists`.
   * @param options `etag` (If-Match), `ifNoneMatch`, `headers`, `global`, `filename`, `signal`.
   * @returns The server's answer, or an error value.
   *
   * @example Usage
   * ```ts
   * import { XCAPClient } from "@xcap/xcap";
   * import { assertEquals } from "@std/assert";
   *
   * const client = new XCAPClient("http://127.0.0.1:8080/xcap-root", "sip:alice@example.com", {
   *   fetch: async () => new Response(null, { status: 412 }),
   * });
   * const deleted = await client.delete("resource-lists", { etag: '"old"' });
   * assertEquals(deleted.isErr() && deleted.error._tag, "PreconditionFailed");
   * ```
   */
  delete(application: string, options?: XcapCallOptions): ResultAsync<XcapResource, XcapError>;
  /**
   * Delete a document, or the element or attribute a node selector names.
   *
   * @param application The AUID, e.g. `resource-lists`.
   * @param node A node selector (text or parsed); absent (`undefined`) for the whole document.
   * @param options `etag` (If-Match), `ifNoneMatch`, `headers`, `namespaces`, `global`,
   * `filename`, `signal`.
   * @returns The server's answer, or an error value.
   *
   * @example Usage
   * ```ts
   * import { XCAPClient } from "@xcap/xcap";
   * import { assertEquals } from "@std/assert";
   *
   * const client = new XCAPClient("http://127.0.0.1:8080/xcap-root", "sip:alice@example.com", {
   *   fetch: async () => new Response(null, { status: 412 }),
   * });
   * const deleted = await client.delete("resource-lists", "/resource-lists/list", { etag: "old" });
   * assertEquals(deleted.isErr() && deleted.error._tag, "PreconditionFailed");
   * ```
   */
  delete(
    application: string,
    node?: string | NodeSelector,
    options?: XcapCallOptions,
  ): ResultAsync<XcapResource, XcapError>;
  delete(
    application: string,
    nodeOrOptions?: string | NodeSelector | XcapCallOptions,
    maybeOptions?: XcapCallOptions,
  ): ResultAsync<XcapResource, XcapError> {
    const { node, options = {} } = splitNodeAndOptions(nodeOrOptions, maybeOptions);
    return this.#guard(options, () => {
      const request = buildDeleteRequest(
        this.#target(application, node, options),
        this.#requestOptions(options),
      );
      return this.#run(request, options);
    });
  }
}

/**
 * An {@linkcode XcapResourceClient} over a bare executor: the requests go to `xcapRoot` for `xui`
 * through `executor` as they are, with no authentication or defaults added (wrap the executor
 * with `withAuthentication` for that). Give it to `updateDocument`, the everyday operations or
 * `discoverCapabilities` when you run requests your own way.
 *
 * @param executor Runs the requests.
 * @param options The XCAP root and XUI, plus `headers` for every request and the `applications`
 * that give document MIME types.
 * @returns The resource client. Nothing is checked or sent here: a bad XCAP root or XUI comes
 * back as `InvalidArgument` from the first call.
 *
 * @example A typed update over a custom executor
 * ```ts
 * import { createFetchExecutor, createXcapResourceClient } from "@xcap/xcap";
 * import { addEntry } from "@xcap/xcap/usages";
 * import { startXcapServer } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const started = await startXcapServer();
 * if (started.isErr()) throw new Error(started.error.message);
 * const server = started.value;
 * const sent: string[] = [];
 * const fetchExecutor = createFetchExecutor();
 * const client = createXcapResourceClient((request, options) => {
 *   sent.push(request.method);
 *   return fetchExecutor(request, options);
 * }, { xcapRoot: server.xcapRoot, xui: "sip:alice@example.com" });
 * const added = await addEntry(client, { list: "friends", uri: "sip:bob@example.com" });
 * assertEquals(added.isOk(), true);
 * assertEquals(sent, ["GET", "PUT"]);
 * await server.close();
 * ```
 */
export function createXcapResourceClient(
  executor: Executor,
  options:
    & { readonly xcapRoot: string; readonly xui: string }
    & Pick<
      XcapClientOptions,
      "headers" | "applications"
    >,
): XcapResourceClient {
  const o = typeof options === "object" && options !== null ? options : undefined;
  return new XCAPClient(o?.xcapRoot ?? "", o?.xui ?? "", {
    executor,
    ...(o?.headers === undefined ? {} : { headers: o.headers }),
    ...(o?.applications === undefined ? {} : { applications: o.applications }),
  });
}
