/**
 * Safe read-modify-write of XCAP documents: {@linkcode updateDocument} reads a document with its
 * ETag, applies a pure change to its typed value, and writes it back under `If-Match`; when
 * someone else wrote in between (412), it reads again and re-applies the change, with a bounded
 * number of attempts and jittered exponential back-off. A document that does not exist yet is
 * created from the usage's empty value under `If-None-Match: *`, so two creators cannot both
 * win. {@linkcode updateElement} does the same for one element addressed by a node selector.
 *
 * The write is the smallest one that expresses the change when the server supports it: element
 * PUTs and DELETEs with node selectors (RFC 4825 §7.4–§7.9), each guarded by the ETag, checked
 * first on a local copy with the same engine the embedded server uses. Otherwise (or with
 * `strategy: "document"`) the whole document is PUT.
 *
 * Both take any {@linkcode XcapResourceClient} (get, put and delete of one user's resources): an
 * `XCAPClient`, or `createXcapResourceClient(executor, { xcapRoot, xui })` over a bare executor.
 * The everyday operations built on them (add an entry, allow a watcher, …) are in
 * `operations.ts`.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import {
  type Err,
  err,
  ok,
  type Result,
  ResultAsync,
  safeTry,
} from "npm:neverthrow@^8.2.0/dist/index.es.js";
import type { ApplicationUsage } from "../client/media_types.ts";
import type { XcapResourceClient } from "../client/client.ts";
import { ignoresIfNoneMatchWildcard } from "../client/_server_quirks.ts";
import {
  internalError,
  invalidArgument,
  malformedResponse,
  type PreconditionFailedError,
  type XcapError,
} from "../client/errors.ts";
import type { XcapResource } from "../client/response.ts";
import {
  formatNodeSelector,
  type NamespaceBindings,
  type NodeSelector,
} from "../client/selector.ts";
import { parseXmlDocument, type XmlDocument } from "../xml/document.ts";
import { describePath } from "./_model.ts";
import { type NodeOperation, planNodeOperations } from "./_plan.ts";
import { findUniquenessViolations } from "./uniqueness.ts";
import type { TypedApplicationUsage } from "./codec.ts";

/** What a server supports, for choosing requests. */
export interface ServerProfile {
  /** What the server does with element PUTs and DELETEs. */
  readonly nodeSupport: {
    /**
     * A new element is inserted where the selector says (RFC 4825 §8.2.3); `false`: the server
     * always appends it as its parent's last child.
     */
    readonly positionalInsert: boolean;
    /** A replaced element stays in place (§8.2.4); `false`: it moves to the end of its parent. */
    readonly inPlaceReplace: boolean;
    /** Prefixed steps with `xmlns()` bindings in the query work (§6.4). */
    readonly prefixedSelectors: boolean;
  };
  /** The `If-None-Match` value that makes a PUT create-only. */
  readonly createIfNoneMatch: string;
}

/**
 * An RFC 4825 server, such as the embedded one: node operations as §8 specifies, and the
 * unquoted `If-None-Match: *` of RFC 7232 §3.2.
 *
 * @example Usage
 * ```ts
 * import { RFC_SERVER_PROFILE } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(RFC_SERVER_PROFILE.createIfNoneMatch, "*");
 * ```
 */
export const RFC_SERVER_PROFILE: ServerProfile = Object.freeze({
  nodeSupport: Object.freeze({
    positionalInsert: true,
    inPlaceReplace: true,
    prefixedSelectors: true,
  }),
  createIfNoneMatch: "*",
});

/**
 * Kamailio's `xcap_server` (see tests/kamailio/README.md): it appends new elements as the last
 * child whatever the selector says, moves replaced elements to the end, fails prefixed
 * selectors, and understands only the quoted `"*"` in `If-None-Match` (the unquoted one is
 * ignored and the PUT overwrites).
 *
 * @example Usage
 * ```ts
 * import { KAMAILIO_SERVER_PROFILE } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(KAMAILIO_SERVER_PROFILE.createIfNoneMatch, '"*"');
 * assertEquals(KAMAILIO_SERVER_PROFILE.nodeSupport.positionalInsert, false);
 * ```
 */
export const KAMAILIO_SERVER_PROFILE: ServerProfile = Object.freeze({
  nodeSupport: Object.freeze({
    positionalInsert: false,
    inPlaceReplace: false,
    prefixedSelectors: false,
  }),
  createIfNoneMatch: '"*"',
});

/**
 * Tell a server's profile from the headers of one of its responses: a `Server` header naming
 * Kamailio (or its ancestor OpenSER) gives {@linkcode KAMAILIO_SERVER_PROFILE}, anything else
 * {@linkcode RFC_SERVER_PROFILE}.
 *
 * @param headers Response headers (of a 2xx or an error).
 * @returns The profile.
 *
 * @example Usage
 * ```ts
 * import {
 *   detectServerProfile,
 *   KAMAILIO_SERVER_PROFILE,
 *   RFC_SERVER_PROFILE,
 * } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(
 *   detectServerProfile(new Headers({ server: "kamailio (5.6.3 (x86_64/linux))" })),
 *   KAMAILIO_SERVER_PROFILE,
 * );
 * assertEquals(detectServerProfile(new Headers()), RFC_SERVER_PROFILE);
 * ```
 */
export function detectServerProfile(headers: Headers): ServerProfile {
  return ignoresIfNoneMatchWildcard(headers) ? KAMAILIO_SERVER_PROFILE : RFC_SERVER_PROFILE;
}

/**
 * How {@linkcode updateDocument} writes a change:
 *
 * - `"auto"`: node operations when they express the change, the server supports them (see
 *   {@linkcode ServerProfile}) and, unless `convergent`, one operation does it (so the write stays
 *   atomic); the whole document otherwise, and also after the server refused a node operation
 *   (400, 405, 415, 501 or another 5xx).
 * - `"node"`: node operations, however many; an error when none express the change.
 * - `"document"`: always PUT the whole document.
 */
export type UpdateStrategy = "auto" | "node" | "document";

/** Exponential back-off between attempts: a random delay up to the cap of each attempt. */
export interface BackoffOptions {
  /** The cap of the delay after the first conflict, in milliseconds. @default 20 */
  readonly initialMs?: number;
  /** The largest cap, in milliseconds. @default 1000 */
  readonly maxMs?: number;
}

/** Options of {@linkcode updateDocument} and the operations built on it. */
export interface UpdateOptions {
  /** Document name below the user's (or the global) tree. @default {the usage's default name} */
  readonly filename?: string;
  /** Use the global tree instead of the user's. @default false */
  readonly global?: boolean;
  /** Extra request headers. */
  readonly headers?: HeadersInit;
  /** Aborts the requests and the waiting between them. */
  readonly signal?: AbortSignal;
  /** How many read-change-write rounds to try before giving up. @default 10 */
  readonly maxAttempts?: number;
  /** Back-off between rounds after a 412. */
  readonly backoff?: BackoffOptions;
  /** How to write the change. @default "auto" */
  readonly strategy?: UpdateStrategy;
  /** The server's profile. @default {detected from the first response, see detectServerProfile} */
  readonly server?: ServerProfile;
  /**
   * The change is convergent (applying it to a document it was already partly applied to gives
   * the same result), so several node operations may carry it. @default false
   */
  readonly convergent?: boolean;
  /** Source of randomness for the back-off. @default Math.random */
  readonly random?: () => number;
}

/** What a change function is told besides the current value. */
export interface DocumentChangeContext {
  /** Whether the document exists (otherwise the value is the usage's empty value). */
  readonly exists: boolean;
  /** The attempt this is, from 1. */
  readonly attempt: number;
}

/**
 * A pure change: the new value from the current one, or an error value to stop. It may run
 * several times (once per attempt), so it must not have side effects.
 */
export type DocumentChange<T> = (
  current: T,
  context: DocumentChangeContext,
) => T | Result<T, XcapError>;

/** One write an update sent. */
export interface UpdateRequest {
  /** The method. */
  readonly method: "PUT" | "DELETE";
  /** The node selector, absent for a whole-document PUT. */
  readonly node?: string;
  /** The HTTP status of the answer. */
  readonly status: number;
}

/** The outcome of {@linkcode updateDocument}. */
export interface UpdateResult<T> {
  /** The value now stored (parsed from `text`). */
  readonly value: T;
  /** The document text this client wrote (or found unchanged). */
  readonly text: string;
  /** The document's ETag afterwards, when the server sent one. */
  readonly etag?: string;
  /** How many read-change-write rounds it took, from 1. */
  readonly attempts: number;
  /** Whether the document was created. */
  readonly created: boolean;
  /** Whether anything was written (false when the change changed nothing). */
  readonly changed: boolean;
  /** The writes of the successful round, in order. */
  readonly requests: readonly UpdateRequest[];
}

function isResult<T>(value: unknown): value is Result<T, XcapError> {
  return typeof value === "object" && value !== null &&
    typeof (value as { isOk?: unknown }).isOk === "function" &&
    typeof (value as { isErr?: unknown }).isErr === "function" &&
    ("value" in value || "error" in value);
}

function applyChange<T, R>(
  change: (current: T, context: DocumentChangeContext) => R | Result<R, XcapError>,
  current: T,
  context: DocumentChangeContext,
): Result<R, XcapError> {
  try {
    const next = change(current, context);
    return isResult<R>(next) ? next : ok(next);
  } catch (e) {
    return err(invalidArgument("change", `The change function threw: ${String(e)}`));
  }
}

/** Whether a failed node operation means the server does not do node operations. */
function refusedNodeOperation(e: XcapError): boolean {
  switch (e._tag) {
    case "MethodNotAllowed":
    case "UnsupportedMediaType":
      return true;
    case "HttpError":
      return e.status === 400 || e.status >= 500;
    default:
      return false;
  }
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function backoffDelay(attempt: number, options: UpdateOptions): number {
  const initial = Math.max(0, options.backoff?.initialMs ?? 20);
  const max = Math.max(initial, options.backoff?.maxMs ?? 1000);
  const cap = Math.min(max, initial * 2 ** Math.max(0, attempt - 1));
  const random = options.random ?? Math.random;
  return Math.floor(random() * cap);
}

function gaveUp(last: PreconditionFailedError, attempts: number, what: string): XcapError {
  return Object.freeze({
    ...last,
    message: `Gave up updating ${what} after ${attempts} attempt${
      attempts === 1 ? "" : "s"
    }: it kept changing between the read and the write (${last.message})`,
  });
}

function checkAttempts(options: UpdateOptions): Result<number, XcapError> {
  const max = options.maxAttempts ?? 10;
  if (!Number.isSafeInteger(max) || max < 1) {
    return err(invalidArgument(
      "options.maxAttempts",
      `maxAttempts must be a whole number from 1, not ${String(max)}`,
    ));
  }
  return ok(max);
}

function callOptions(options: UpdateOptions) {
  return {
    ...(options.filename === undefined ? {} : { filename: options.filename }),
    ...(options.global ? { global: true } : {}),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
}

function nodeText(node: NodeSelector): string {
  return formatNodeSelector(node).unwrapOr("(node selector)");
}

/**
 * Run a `safeTry` body; an exception escaping it is a bug here (the change function's own
 * exceptions are caught where it is called), reported as `Internal`.
 */
function guarded<T>(
  what: string,
  body: () => AsyncGenerator<Err<never, XcapError>, Result<T, XcapError>>,
): ResultAsync<T, XcapError> {
  return ResultAsync.fromPromise(safeTry(body), (cause) => internalError(what, cause))
    .andThen((result) => result);
}

/**
 * Read a document, apply a pure change to its typed value and write it back, safely under
 * concurrency (RFC 4825 §7.11: ETags and conditional requests).
 *
 * Each round: GET the document (its ETag), parse it with the usage's codec, run `change`,
 * build the new text (unchanged parts byte for byte), check the usage's uniqueness constraints,
 * and write: `If-Match` with the ETag read, or `If-None-Match: *` when the document did not
 * exist (the change then starts from the usage's empty value). A 412 means someone else wrote
 * in between: wait a random time up to a cap that doubles each round (20 ms, 40 ms, … up to
 * 1 s by default) and go again, at most `maxAttempts` rounds. A change that changes nothing
 * writes nothing.
 *
 * See {@linkcode UpdateStrategy} for how the write is chosen; "supports it" comes from
 * `options.server`, else from the `Server` header of the first answer
 * ({@linkcode detectServerProfile}), and a node operation the server refuses switches to the
 * whole document.
 *
 * @param client The client (its XCAP root and XUI).
 * @param usage The typed application usage, e.g. `RESOURCE_LISTS`.
 * @param change The pure change.
 * @param options Document, attempts, back-off, strategy, server profile.
 * @returns What was written and how many attempts it took; or the error: the server's (e.g.
 * `Conflict` with its condition), `PreconditionFailed` after the last attempt, `InvalidArgument`
 * from the change or the usage's constraints, `MalformedResponse` when the stored document
 * cannot be read.
 *
 * @example Add an entry, safely
 * ```ts
 * import { XCAPClient } from "@xcap/xcap";
 * import { findList, RESOURCE_LISTS, updateDocument, withEntry } from "@xcap/xcap/usages";
 * import { startXcapServer } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const started = await startXcapServer({ hostname: "127.0.0.1", port: 0 });
 * if (started.isErr()) throw new Error(started.error.message);
 * const server = started.value;
 * const client = new XCAPClient(server.xcapRoot, "sip:alice@example.com");
 * const result = await updateDocument(
 *   client,
 *   RESOURCE_LISTS,
 *   (lists) => withEntry(lists, "friends", { kind: "entry", uri: "sip:bob@example.com" }),
 * );
 * assertEquals(result.map((r) => r.created).unwrapOr(undefined), true);
 * assertEquals(result.map((r) => findList(r.value, "friends")?.items.length).unwrapOr(undefined), 1);
 * await server.close();
 * ```
 */
export function updateDocument<T>(
  client: XcapResourceClient,
  usage: TypedApplicationUsage<T>,
  change: DocumentChange<T>,
  options: UpdateOptions = {},
): ResultAsync<UpdateResult<T>, XcapError> {
  return guarded(`Cannot update the ${usage.auid} document`, async function* () {
    const maxAttempts = yield* checkAttempts(options);
    const strategy = options.strategy ?? "auto";
    const common = callOptions(options);
    const what = `${usage.auid} document ${options.filename ?? usage.defaultDocumentName}`;
    const withName = options.filename === undefined
      ? { ...common, filename: usage.defaultDocumentName }
      : common;
    let profile = options.server;
    let documentOnly = strategy === "document";
    let last: PreconditionFailedError | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (options.signal?.aborted) {
        return err({
          _tag: "Aborted",
          message: "The update was aborted",
          cause: options.signal.reason,
        });
      }
      const got = await client.get(usage.auid, undefined, withName);
      let exists = true;
      let resource: XcapResource | undefined;
      if (got.isErr()) {
        if (got.error._tag !== "NotFound") return err(got.error);
        exists = false;
        profile ??= detectServerProfile(got.error.headers);
      } else {
        resource = got.value;
        profile ??= detectServerProfile(resource.headers);
      }
      let before: XmlDocument | undefined;
      let current: T;
      if (resource !== undefined) {
        before = yield* parseXmlDocument(resource.body).mapErr((c) =>
          malformedResponse(`The stored ${what} is not well-formed XML: ${c.phrase ?? c.tag}`)
        );
        current = yield* usage.codec.parse(before).mapErr((e) => malformedResponse(e.message));
        if (resource.etag === undefined) {
          return err(malformedResponse(
            `The server sent no ETag with the ${what}, so it cannot be updated safely (RFC 4825 §7.11)`,
          ));
        }
      } else {
        current = usage.codec.empty(options.global ? {} : { xui: client.xui });
      }
      const next = yield* applyChange(change, current, { exists, attempt });
      const text = yield* usage.codec.build(next);
      if (resource !== undefined && text === resource.body) {
        return ok({
          value: current,
          text,
          etag: resource.etag!,
          attempts: attempt,
          created: false,
          changed: false,
          requests: [],
        });
      }
      const after = yield* parseXmlDocument(text).mapErr((c) =>
        invalidArgument(
          "change",
          `The change gives a document that is not well-formed: ${c.phrase}`,
        )
      );
      const violation = findUniquenessViolations(usage, after)[0];
      if (violation !== undefined) {
        return err(invalidArgument(
          "change",
          `The change breaks a uniqueness constraint of ${usage.auid} (RFC 4825 §5.3): ${violation.constraint.attribute} ${
            JSON.stringify(violation.value)
          } repeats at ${describePath(violation.element)}`,
        ));
      }
      const value = yield* usage.codec.parse(after);
      const done = (etag: string | undefined, created: boolean, requests: UpdateRequest[]) =>
        ok({
          value,
          text,
          ...(etag === undefined ? {} : { etag }),
          attempts: attempt,
          created,
          changed: true,
          requests,
        });

      if (resource === undefined) {
        const put = await client.put(usage.auid, text, undefined, {
          ...withName,
          ifNoneMatch: profile.createIfNoneMatch,
          // The GET above was the check; the profile's condition closes the race.
          checkBeforeCreate: false,
          contentType: usage.mimeType,
        });
        if (put.isOk()) {
          return done(put.value.etag, true, [{ method: "PUT", status: put.value.status }]);
        }
        if (put.error._tag !== "PreconditionFailed") return err(put.error);
        last = put.error;
        await delay(backoffDelay(attempt, options), options.signal);
        continue;
      }

      let operations: readonly NodeOperation[] | undefined;
      if (!documentOnly) {
        const plan = planNodeOperations(usage, before!, after, {
          support: profile.nodeSupport,
          maxOperations: strategy === "node" || options.convergent ? Infinity : 1,
        });
        if (plan.isErr() && strategy === "node") return err(plan.error);
        if (plan.isOk()) operations = plan.value;
      }

      if (operations !== undefined && operations.length > 0) {
        let etag: string | undefined = resource.etag;
        const requests: UpdateRequest[] = [];
        let outcome: "done" | "conflict" | "reread" = "done";
        for (const [index, op] of operations.entries()) {
          if (etag === undefined) {
            outcome = "reread"; // no ETag to guard the next operation with
            break;
          }
          const opOptions = {
            ...withName,
            etag,
            ...(Object.keys(op.namespaces).length === 0 ? {} : { namespaces: op.namespaces }),
          };
          const answer = op.method === "PUT"
            ? await client.put(usage.auid, op.body, op.node, opOptions)
            : await client.delete(usage.auid, op.node, opOptions);
          if (answer.isOk()) {
            requests.push({
              method: op.method,
              node: nodeText(op.node),
              status: answer.value.status,
            });
            etag = answer.value.etag;
            continue;
          }
          if (answer.error._tag === "PreconditionFailed") {
            last = answer.error;
            outcome = "conflict";
            break;
          }
          if (strategy === "auto" && refusedNodeOperation(answer.error)) {
            documentOnly = true;
            outcome = "reread";
            break;
          }
          if (index > 0 && strategy === "auto") {
            // Part of a convergent change is written; read again and finish it.
            outcome = "reread";
            break;
          }
          return err(answer.error);
        }
        if (outcome === "done") return done(etag, false, requests);
        if (outcome === "conflict") await delay(backoffDelay(attempt, options), options.signal);
        continue;
      }

      const put = await client.put(usage.auid, text, undefined, {
        ...withName,
        etag: resource.etag!,
        contentType: usage.mimeType,
      });
      if (put.isOk()) {
        return done(put.value.etag, false, [{ method: "PUT", status: put.value.status }]);
      }
      if (put.error._tag !== "PreconditionFailed") return err(put.error);
      last = put.error;
      await delay(backoffDelay(attempt, options), options.signal);
    }
    if (last !== undefined) return err(gaveUp(last, maxAttempts, what));
    return err(
      malformedResponse(`Could not update the ${what}: the server kept refusing node operations`),
    );
  });
}

/** A change of one element: its text (undefined when it does not exist) in, the new text out. */
export type ElementChange = (
  current: string | undefined,
  context: DocumentChangeContext,
) => string | undefined | Result<string | undefined, XcapError>;

/** Options of {@linkcode updateElement}. */
export interface UpdateElementOptions
  extends Omit<UpdateOptions, "strategy" | "convergent" | "server"> {
  /** Prefix bindings for prefixed steps of the selector (RFC 4825 §6.4). */
  readonly namespaces?: NamespaceBindings;
}

/** The outcome of {@linkcode updateElement}. */
export interface UpdateElementResult {
  /** The element's text now (undefined: deleted or still absent). */
  readonly value: string | undefined;
  /** The document's ETag afterwards, when the server sent one. */
  readonly etag?: string;
  /** How many rounds it took. */
  readonly attempts: number;
  /** Whether anything was written. */
  readonly changed: boolean;
}

/**
 * Read-modify-write of one element by node selector: GET the element (its ETag is the
 * document's, RFC 4825 §7.11), apply `change` to its text, then PUT the new element or, when
 * `change` returns `undefined`, DELETE it, under `If-Match`; on 412 read again, as
 * {@linkcode updateDocument} does. When the element does not exist, `change` gets `undefined`
 * and the document's ETag guards the creation; a missing document is `NotFound`.
 *
 * @param client The client.
 * @param usage The application usage (its AUID and default document name).
 * @param node The node selector of the element.
 * @param change The pure change of the element's text.
 * @param options Document, attempts, back-off, `namespaces`.
 * @returns The element's new text and the attempts it took, or the error.
 *
 * @example Rename a display name in place
 * ```ts
 * import { XCAPClient } from "@xcap/xcap";
 * import { RESOURCE_LISTS, updateElement } from "@xcap/xcap/usages";
 * import { startXcapServer } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const started = await startXcapServer({ hostname: "127.0.0.1", port: 0 });
 * if (started.isErr()) throw new Error(started.error.message);
 * const server = started.value;
 * const client = new XCAPClient(server.xcapRoot, "sip:alice@example.com");
 * await client.put(
 *   "resource-lists",
 *   '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="f">' +
 *     '<entry uri="sip:bob@example.com"><display-name>Bob</display-name></entry></list>' +
 *     "</resource-lists>",
 * );
 * const node = '/resource-lists/list[@name="f"]/entry[@uri="sip:bob@example.com"]/display-name';
 * const result = await updateElement(client, RESOURCE_LISTS, node, (el) => el?.replace("Bob", "Robert"));
 * assertEquals(result.map((r) => r.value).unwrapOr(undefined), "<display-name>Robert</display-name>");
 * await server.close();
 * ```
 */
export function updateElement(
  client: XcapResourceClient,
  usage: ApplicationUsage,
  node: string | NodeSelector,
  change: ElementChange,
  options: UpdateElementOptions = {},
): ResultAsync<UpdateElementResult, XcapError> {
  return guarded(`Cannot update an element of ${usage.auid}`, async function* () {
    const maxAttempts = yield* checkAttempts(options);
    const common = {
      ...callOptions(options),
      filename: options.filename ?? usage.defaultDocumentName,
      ...(options.namespaces === undefined ? {} : { namespaces: options.namespaces }),
    };
    const what = `the element ${typeof node === "string" ? node : nodeText(node)} of ${usage.auid}`;
    let last: PreconditionFailedError | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const got = await client.get(usage.auid, node, common);
      let current: string | undefined;
      let etag: string | undefined;
      if (got.isOk()) {
        current = got.value.body;
        etag = got.value.etag;
      } else {
        if (got.error._tag !== "NotFound") return err(got.error);
        etag = (yield* client.get(usage.auid, undefined, common)).etag;
      }
      if (etag === undefined) {
        return err(
          malformedResponse(`The server sent no ETag with ${what}, so it cannot be updated safely`),
        );
      }
      const next = yield* applyChange(change, current, { exists: current !== undefined, attempt });
      if (next === current) {
        return ok({ value: current, etag, attempts: attempt, changed: false });
      }
      const write = next === undefined
        ? await client.delete(usage.auid, node, { ...common, etag })
        : await client.put(usage.auid, next, node, { ...common, etag });
      if (write.isOk()) {
        return ok({
          value: next,
          ...(write.value.etag === undefined ? {} : { etag: write.value.etag }),
          attempts: attempt,
          changed: true,
        });
      }
      if (write.error._tag !== "PreconditionFailed") return err(write.error);
      last = write.error;
      await delay(backoffDelay(attempt, options), options.signal);
    }
    return err(gaveUp(last!, maxAttempts, what));
  });
}
