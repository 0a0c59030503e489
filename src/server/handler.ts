/**
 * The XCAP server as a fetch handler: `(request: Request) => Promise<Response>`, RFC 4825 §7–§8
 * on Web APIs only, so it runs in `Deno.serve`, on Deno Deploy, in other edge runtimes and in a
 * test without a socket.
 *
 * @module
 */
import { ifMatch, ifNoneMatch } from "jsr:@std/http@^1.0.21/etag";
import {
  XCAP_ATTRIBUTE_MIME_TYPE,
  XCAP_ELEMENT_MIME_TYPE,
  XCAP_ERROR_MIME_TYPE,
  XCAP_NAMESPACE_MIME_TYPE,
} from "../client/media_types.ts";
import type { ConflictCondition } from "../client/errors.ts";
import type { NamespaceBindings, NodeSelector } from "../client/selector.ts";
import { buildXcapUri, type ParsedXcapUri, parseXcapUri } from "../client/uri.ts";
import { buildConflictReport } from "../client/conflict_report.ts";
import {
  decodeUtf8,
  parseXmlDocument,
  type XmlDocument,
  type XmlParseLimits,
} from "../xml/document.ts";
import { deleteNode, getNode, putNode } from "../xml/edit.ts";
import type { NodeOperationError } from "../xml/errors.ts";
import {
  type Authenticator,
  createAuthenticator,
  ownsXui,
  type ServerAuthenticationOptions,
} from "./auth.ts";
import { DocumentCache } from "./_document_cache.ts";
import { staticResponse } from "./_response.ts";
import { type CorsOptions, withCors } from "./cors.ts";
import { buildXcapCaps } from "./caps.ts";
import {
  type DocumentKey,
  type DocumentStore,
  type DocumentStoreError,
  formatDocumentKey,
  MemoryStore,
  type StoredDocument,
  type UserQuota,
} from "./store.ts";
import { utf8Length } from "./_usage.ts";
import {
  DEFAULT_SERVER_APPLICATIONS,
  type ServerApplicationUsage,
  validateDocument,
} from "./usages.ts";

/** Size and shape limits that protect the server. */
export interface ServerLimits {
  /** Largest document, in UTF-8 bytes, a write may leave behind (413 otherwise). @default 1_048_576 */
  readonly maxDocumentBytes?: number;
  /** Largest request body, in bytes (413 otherwise). @default maxDocumentBytes */
  readonly maxRequestBytes?: number;
  /** Deepest element nesting of a document (409 `constraint-failure` otherwise). @default 100 */
  readonly maxDepth?: number;
  /** Most elements in a document (409 `constraint-failure` otherwise). @default 100_000 */
  readonly maxElements?: number;
  /**
   * Longest document name: the UTF-8 bytes of the XUI and the document path (folders and
   * name) together (414 otherwise). Deno KV keys hold 2,048 bytes; the default leaves room
   * for the rest of the key. @default 1_024
   */
  readonly maxNameBytes?: number;
  /**
   * Most documents in one user's tree (`users/<XUI>`, all application usages together; 409
   * `constraint-failure` otherwise). Global documents have no quota. @default 100
   */
  readonly maxUserDocuments?: number;
  /**
   * Most bytes in one user's tree: the UTF-8 lengths of its documents, summed (413
   * otherwise). @default 16_777_216 (16 MiB)
   */
  readonly maxUserBytes?: number;
}

/** Bounds of the cache of parsed documents (keyed by document and entity-tag). */
export interface DocumentCacheOptions {
  /** Most documents kept parsed. `0` turns the cache off. @default 256 */
  readonly maxEntries?: number;
  /**
   * Most memory the parsed documents may hold, in bytes, as estimated from their size and
   * shape (a parsed element costs about 330 bytes of heap: a 594 KB document of 99,000
   * elements is estimated at 38 MB, measured 30 MB). A document whose estimate alone is larger
   * is not cached. `0` turns the cache off. @default 67_108_864 (64 MiB)
   */
  readonly maxBytes?: number;
}

/** Options of {@linkcode createXcapHandler}. */
export interface XcapHandlerOptions {
  /** Where documents are kept. @default a new `MemoryStore` */
  readonly store?: DocumentStore;
  /** The path of the XCAP root in request URLs (`""` for the origin itself). @default "/xcap-root" */
  readonly xcapRootPath?: string;
  /**
   * The application usages served; `xcap-caps` is always served in addition, generated from
   * these. @default DEFAULT_SERVER_APPLICATIONS
   */
  readonly applications?: readonly ServerApplicationUsage[];
  /** How to authenticate requests; without it, every request is anonymous and allowed. */
  readonly authentication?: ServerAuthenticationOptions;
  /** Allow PUT and DELETE in `global` trees (403 otherwise). @default false */
  readonly globalWritable?: boolean;
  /**
   * Refuse (415) every document PUT whose Content-Type is not the application usage's MIME type,
   * exactly as RFC 4825 §8.2.2 says. By default a document PUT without a Content-Type, or with
   * `application/x-www-form-urlencoded`, `application/xml` or `text/xml`, is taken for a document
   * of the usage (python-xcaplib sends no type, so urllib adds the form type); any other type
   * stays 415. @default false
   */
  readonly strictContentType?: boolean;
  /** Size and shape limits. */
  readonly limits?: ServerLimits;
  /** Bounds of the parsed-document cache. */
  readonly documentCache?: DocumentCacheOptions;
  /**
   * How often an unconditional write is re-applied after another writer changed the document
   * between the read and the compare-and-set write (503 once exhausted). @default 16
   */
  readonly maxWriteAttempts?: number;
  /** Called with whatever went wrong when the handler answers 500 (for logging). */
  readonly onError?: (error: unknown) => void;
  /**
   * Let pages of these origins use the server from a browser (the CORS protocol; see
   * {@linkcode withCors}). Without it, no CORS header is sent and OPTIONS is answered like any
   * other method XCAP does not use.
   */
  readonly cors?: CorsOptions;
}

const ALL_METHODS = "GET, HEAD, PUT, DELETE";
/** Content-Types a document PUT may carry instead of its usage's MIME type (see handlePut). */
const UNTYPED_DOCUMENT_TYPES: ReadonlySet<string> = new Set([
  "",
  "application/x-www-form-urlencoded",
  "application/xml",
  "text/xml",
]);
const READ_METHODS = "GET, HEAD";
const DEFAULT_MAX_DOCUMENT_BYTES = 1_048_576;
const DEFAULT_CACHE_BYTES = 67_108_864;
const UTF8 = new TextEncoder();

/**
 * Runs the writes to one document one after the other within this handler, so they do not
 * compete for the store's compare-and-set; writers on other instances still can, and lose
 * cleanly.
 */
class WriteQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: DocumentKey, write: () => Promise<T>): Promise<T> {
    const id = formatDocumentKey(key);
    const previous = this.#tails.get(id) ?? Promise.resolve();
    const result = previous.then(write, write);
    const tail = result.then(() => {}, () => {});
    this.#tails.set(id, tail);
    tail.then(() => {
      if (this.#tails.get(id) === tail) this.#tails.delete(id);
    });
    return result;
  }
}

/** Wait a little, more after each lost race, so competing instances spread out. */
function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(100, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

interface Context {
  readonly store: DocumentStore;
  readonly root: string;
  readonly applications: ReadonlyMap<string, ServerApplicationUsage>;
  readonly authenticator?: Authenticator;
  readonly owns: (username: string, xui: string) => boolean;
  readonly globalWritable: boolean;
  readonly strictContentType: boolean;
  readonly maxDocumentBytes: number;
  readonly maxRequestBytes: number;
  readonly parseLimits: XmlParseLimits;
  readonly cache: DocumentCache;
  readonly maxNameBytes: number;
  readonly quota: UserQuota;
  readonly writes: WriteQueue;
  readonly maxWriteAttempts: number;
  readonly caps: { readonly text: string; readonly etag: string; doc?: XmlDocument };
  /** Passes an error to `onError` (a failing `onError` changes nothing). */
  readonly report: (error: unknown) => void;
}

/** What one request is about, once its URI is understood. */
interface Target {
  readonly request: Request;
  readonly url: URL;
  /** The path segments after the XCAP root, as sent (still percent-encoded). */
  readonly rawSegments: readonly string[];
  readonly uri: ParsedXcapUri;
  readonly key: DocumentKey;
  readonly usage: ServerApplicationUsage;
  readonly ns: NamespaceBindings;
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

function plain(status: number, message: string, headers: Record<string, string> = {}): Response {
  return staticResponse(`${message}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

/** 409 with a detailed conflict report (RFC 4825 §11). */
function conflict(condition: ConflictCondition): Response {
  return staticResponse(buildConflictReport(condition), {
    status: 409,
    headers: { "content-type": XCAP_ERROR_MIME_TYPE },
  });
}

function preconditionFailed(etag: string | undefined): Response {
  return plain(
    412,
    "Precondition failed: the resource does not match If-Match or If-None-Match",
    etag === undefined ? {} : { etag },
  );
}

/**
 * The answer to a store error other than `EtagMismatch`. A quota is a limit like the others:
 * too many documents is a `constraint-failure` conflict (RFC 4825 §11.2, as for too many
 * elements; RFC 9110 §15.5.10: the user can resolve it by deleting documents), too many bytes
 * is 413 (RFC 9110 §15.5.14, as for too large a document). A name the store cannot key is 414
 * (RFC 9110 §15.5.15: a target URI longer than the server is willing to interpret). A store
 * that cannot be reached now (a database that is down) is 503 with Retry-After.
 */
function storeFailure(error: DocumentStoreError): Response {
  switch (error._tag) {
    case "StoreUnavailable":
      // RFC 9110 §15.6.4: a temporary condition; Retry-After says when to try again.
      return plain(503, "The document store is unavailable; try again later", {
        "retry-after": String(error.retryAfterSeconds),
      });
    case "QuotaExceeded":
      if (error.limit === "documents") {
        return conflict({
          tag: "constraint-failure",
          phrase: `Quota exceeded: ${error.message}`,
        });
      }
      return plain(413, `Quota exceeded: ${error.message}`);
    case "KeyTooLong":
      return plain(414, `URI too long: ${error.message}`);
    default:
      // The message may name the document; it carries no credential.
      return plain(500, `Internal server error: the document store failed (${error._tag})`);
  }
}

/**
 * {@linkcode storeFailure}'s answer; a store that failed (not busy, not a limit: a 500) is also
 * reported to `onError`, with what failed.
 */
function storeError(ctx: Context, error: DocumentStoreError): Response {
  if (error._tag === "StoreFailure") ctx.report(error);
  return storeFailure(error);
}

function tooManyWriters(): Response {
  return plain(503, "The document is being changed by other requests; try again", {
    "retry-after": "1",
  });
}

function tooLarge(what: string, limit: number): Response {
  return plain(413, `${what} exceeds the limit of ${limit} bytes`);
}

function unchangedOrWritten(status: 200 | 201, etag: string): Response {
  return staticResponse(null, { status, headers: { etag } });
}

// ---------------------------------------------------------------------------------------------
// Preconditions (RFC 7232 §3, §6)
// ---------------------------------------------------------------------------------------------

function isStar(value: string): boolean {
  return value.trim() === "*";
}

/**
 * Evaluate `If-Match` and `If-None-Match` (RFC 7232 §6: If-Match first). Every resource of a
 * document shares the document's entity-tag (RFC 4825 §7.11), so a listed tag is compared with
 * the document's tag, also for an element that a PUT is about to create: "insert this if the
 * document is still the version I read". `*` asks whether the selected resource itself exists.
 * A failed If-None-Match is 304 for GET and HEAD, 412 otherwise.
 */
function checkPreconditions(
  request: Request,
  documentEtag: string | undefined,
  targetExists: boolean,
): Response | undefined {
  const read = request.method === "GET" || request.method === "HEAD";
  const match = request.headers.get("if-match");
  if (match !== null) {
    const tag = isStar(match) ? (targetExists ? documentEtag : undefined) : documentEtag;
    if (!ifMatch(match, tag)) return preconditionFailed(documentEtag);
  }
  const noneMatch = request.headers.get("if-none-match");
  if (noneMatch !== null) {
    const tag = targetExists ? documentEtag : undefined;
    if (!ifNoneMatch(noneMatch, tag)) {
      return read
        ? staticResponse(null, { status: 304, headers: documentEtag ? { etag: documentEtag } : {} })
        : preconditionFailed(documentEtag);
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** The media type of a Content-Type value, lower case, without parameters. */
function mediaType(value: string | null): string {
  return (value ?? "").split(";")[0]!.trim().toLowerCase();
}

function safeDecode(segment: string | undefined): string | undefined {
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Size of the blocks a body of unknown length is copied into, and of the BYOB read buffer. */
const BODY_BLOCK_BYTES = 65_536;

/**
 * Read a body up to `limit` bytes, never trusting Content-Length alone.
 *
 * The body never costs much more than its own size. Chunks are copied out at once and never
 * kept: a runtime may hand each one over as a view on a much larger buffer (`Deno.serve`
 * allocates 64 KiB for each read, so keeping the 100,000 one-byte chunks of a chunked PUT kept
 * 4.7 GB). A valid Content-Length within the limit sizes the buffer exactly; otherwise the
 * bytes go into 64 KiB blocks, joined at the end (reading costs the size plus one block, the
 * join briefly twice the size). Where the body is a byte stream, a BYOB reader reads into one
 * reused 64 KiB buffer, so the runtime allocates nothing per chunk (the buffer is never handed
 * over small: `Deno.serve` 2.9 stalls on BYOB reads into views of a few bytes).
 */
async function readBody(
  request: Request,
  limit: number,
): Promise<Uint8Array | "too-large" | "unreadable"> {
  const header = request.headers.get("content-length");
  const declared = header !== null && /^\s*\d{1,15}\s*$/.test(header) ? Number(header) : undefined;
  if (declared !== undefined && declared > limit) return "too-large";
  const stream = request.body;
  if (stream === null) return new Uint8Array(0);
  const full: Uint8Array[] = [];
  let block = new Uint8Array(declared ?? Math.min(limit, BODY_BLOCK_BYTES));
  let filled = 0;
  let total = 0;
  /** Copy a chunk in; `false` once the body is over the limit. */
  const take = (chunk: Uint8Array): boolean => {
    if (total + chunk.length > limit) return false;
    total += chunk.length;
    for (let at = 0; at < chunk.length;) {
      if (filled === block.length) {
        if (block.length > 0) full.push(block);
        block = new Uint8Array(Math.min(BODY_BLOCK_BYTES, limit - total + chunk.length - at));
        filled = 0;
      }
      const n = Math.min(block.length - filled, chunk.length - at);
      block.set(chunk.subarray(at, at + n), filled);
      filled += n;
      at += n;
    }
    return true;
  };
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = stream.getReader({ mode: "byob" });
  } catch {
    // Not a byte stream: read its chunks.
  }
  const reader = byob ?? stream.getReader();
  try {
    let scratch: Uint8Array = new Uint8Array(byob === undefined ? 0 : BODY_BLOCK_BYTES);
    for (;;) {
      const { done, value }: ReadableStreamReadResult<Uint8Array> = byob === undefined
        ? await (reader as ReadableStreamDefaultReader<Uint8Array>).read()
        : await byob.read(scratch);
      if (done) break;
      if (!(value instanceof Uint8Array)) return "unreadable";
      if (!take(value)) {
        await reader.cancel().catch(() => {});
        return "too-large";
      }
      // A BYOB read takes the buffer over and gives it back under `value`.
      if (byob !== undefined) scratch = new Uint8Array(value.buffer);
    }
  } catch {
    return "unreadable";
  }
  if (full.length === 0 && filled === block.length) return block;
  full.push(block.subarray(0, filled));
  const body = new Uint8Array(total);
  let at = 0;
  for (const part of full) {
    body.set(part, at);
    at += part.length;
  }
  return body;
}

/** FNV-1a over the text, twice with different seeds: a stable tag for generated documents. */
function stableTag(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x5bd1e995) >>> 0;
  }
  return `"caps-${a.toString(16).padStart(8, "0")}${b.toString(16).padStart(8, "0")}"`;
}

function parsedDocument(
  ctx: Context,
  key: DocumentKey,
  stored: StoredDocument,
): XmlDocument | Response {
  const cached = ctx.cache.get(key, stored.etag);
  if (cached !== undefined) return cached;
  const parsed = parseXmlDocument(stored.text, ctx.parseLimits);
  if (parsed.isErr()) {
    return plain(500, "Internal server error: the stored document cannot be parsed");
  }
  ctx.cache.set(key, stored.etag, parsed.value);
  return parsed.value;
}

/** The absolute URI of the document (no node selector). */
function documentUri(ctx: Context, target: Target): string {
  const { uri, url } = target;
  const built = buildXcapUri({
    xcapRoot: url.origin + ctx.root,
    auid: uri.auid,
    ...(uri.xui === undefined ? {} : { xui: uri.xui }),
    global: uri.tree === "global",
    filename: uri.documentPath,
  });
  return built.unwrapOr(url.origin + url.pathname.split("/~~/")[0]);
}

/**
 * The closest existing ancestor of a missing parent, as an absolute HTTP URI (RFC 4825 §8.2.1,
 * §11): an element's URI, or the document's when no element of the path exists.
 */
function ancestorUri(ctx: Context, target: Target, ancestor: NodeSelector | undefined): string {
  const documentLocation = documentUri(ctx, target);
  if (ancestor === undefined || ancestor.steps.length === 0) return documentLocation;
  const { uri, url } = target;
  return buildXcapUri({
    xcapRoot: url.origin + ctx.root,
    auid: uri.auid,
    ...(uri.xui === undefined ? {} : { xui: uri.xui }),
    global: uri.tree === "global",
    filename: uri.documentPath,
    node: ancestor,
    namespaces: uri.namespaces,
  }).unwrapOr(documentLocation);
}

/**
 * The directory a missing document would be created in, as an absolute HTTP URI: RFC 4825
 * §8.2.1 makes the user's (or the global) directory the parent of a document, and it always
 * exists; so does every folder below it here, since a document PUT creates its folders.
 */
function directoryUri(ctx: Context, target: Target): string {
  const separator = target.rawSegments.indexOf("~~");
  const documentSegments = separator < 0
    ? target.rawSegments
    : target.rawSegments.slice(0, separator);
  return `${target.url.origin}${ctx.root}/${documentSegments.slice(0, -1).join("/")}/`;
}

function nodeError(ctx: Context, target: Target, error: NodeOperationError): Response {
  switch (error.kind) {
    case "not-found":
      return plain(404, `Not found: ${error.message}`);
    case "bad-request":
      return plain(400, `Bad request: ${error.message}`);
    case "not-allowed": {
      const allow = error.allow.includes("GET") && !error.allow.includes("HEAD")
        ? [...error.allow, "HEAD"]
        : error.allow;
      return plain(405, `Method not allowed: ${error.message}`, { allow: allow.join(", ") });
    }
    case "conflict":
      if (error.condition.tag === "no-parent") {
        return conflict({ ...error.condition, ancestor: ancestorUri(ctx, target, error.ancestor) });
      }
      return conflict(error.condition);
  }
}

// ---------------------------------------------------------------------------------------------
// Methods
// ---------------------------------------------------------------------------------------------

function withoutBody(response: Response, request: Request): Response {
  if (request.method !== "HEAD" || response.body === null) return response;
  return staticResponse(null, { status: response.status, headers: response.headers });
}

async function handleGet(ctx: Context, target: Target): Promise<Response> {
  const { request, key, usage, uri } = target;
  const current = await ctx.store.get(key);
  if (current.isErr()) return storeError(ctx, current.error);
  const stored = current.value;
  if (stored === undefined) return plain(404, "Not found: no document at this URI");
  // RFC 7232 §5: preconditions apply only where the unconditional answer would be 2xx, so a
  // missing document or node is 404 whatever the preconditions say.
  if (uri.node === undefined) {
    const failed = checkPreconditions(request, stored.etag, true);
    if (failed !== undefined) return failed;
    return staticResponse(stored.text, {
      status: 200,
      headers: { "content-type": usage.mimeType, etag: stored.etag },
    });
  }
  const doc = parsedDocument(ctx, key, stored);
  if (doc instanceof Response) return doc;
  const node = getNode(doc, uri.node, target.ns);
  if (node.isErr()) return nodeError(ctx, target, node.error);
  const failed = checkPreconditions(request, stored.etag, true);
  if (failed !== undefined) return failed;
  return nodeResponse(node.value, stored.etag);
}

/** A 200 for a selected node; RFC 4825 §8.3: the MIME type says what was selected. */
function nodeResponse(
  node: { readonly kind: string; readonly body: string },
  etag: string,
): Response {
  const contentType = node.kind === "element"
    ? XCAP_ELEMENT_MIME_TYPE
    : node.kind === "attribute"
    ? XCAP_ATTRIBUTE_MIME_TYPE
    : XCAP_NAMESPACE_MIME_TYPE;
  return staticResponse(node.body, { status: 200, headers: { "content-type": contentType, etag } });
}

async function handlePut(ctx: Context, target: Target): Promise<Response> {
  const { request, usage, uri } = target;
  const terminal = uri.node?.terminal?.kind;
  if (terminal === "namespace") {
    return plain(405, "Method not allowed: namespace bindings (namespace::*) can only be read", {
      allow: READ_METHODS,
    });
  }
  // RFC 4825 §8.2.2: a body that is not of the usage's MIME type (a document),
  // application/xcap-el+xml (an element) or application/xcap-att+xml (an attribute) is refused
  // with 415; RFC 9110 §15.5.16 lets the 415 name the accepted type in Accept.
  const expectedType = uri.node === undefined
    ? usage.mimeType
    : terminal === "attribute"
    ? XCAP_ATTRIBUTE_MIME_TYPE
    : XCAP_ELEMENT_MIME_TYPE;
  const given = mediaType(request.headers.get("content-type"));
  // Leniency (issue 11.3; off with `strictContentType`): python-xcaplib, and so
  // python-sipsimple and Blink, set no Content-Type on a document PUT, so Python's urllib sends
  // application/x-www-form-urlencoded; hand-written requests often say application/xml or
  // text/xml. None of these names another kind of XCAP resource, so such a PUT is taken for a
  // document of the usage, as OpenXCAP does: the body must still be a well-formed document that
  // validates (409 otherwise). A type that names something else (another usage's MIME type,
  // xcap-el+xml or xcap-att+xml at a document URI, a non-XML type) stays 415.
  const untypedDocument = uri.node === undefined && !ctx.strictContentType &&
    UNTYPED_DOCUMENT_TYPES.has(given);
  if (given !== expectedType.toLowerCase() && !untypedDocument) {
    const what = uri.node === undefined
      ? "a document"
      : terminal === "attribute"
      ? "an attribute"
      : "an element";
    return plain(
      415,
      `Unsupported media type: a PUT of ${what} here needs Content-Type ${expectedType}` +
        (given === "" ? ", and the request has none" : `, not ${given}`),
      { accept: expectedType },
    );
  }
  const bytes = await readBody(request, ctx.maxRequestBytes);
  if (bytes === "too-large") return tooLarge("The request body", ctx.maxRequestBytes);
  if (bytes === "unreadable") return plain(400, "Bad request: the request body cannot be read");
  const decoded = decodeUtf8(bytes);
  if (decoded.isErr()) return conflict(decoded.error);
  const body = decoded.value;
  // decodeUtf8 took one byte order mark off: the encoding signature, not part of the document
  // (XML 1.0 §4.3.3). A U+FEFF after it is a character, and XML 1.0 §2.8 allows no character
  // before the XML declaration or the element. Kept, it would make the stored text start with
  // U+FEFF, which a BOM-stripping decoder elsewhere would drop: one entity-tag, two bodies.
  if (body.charCodeAt(0) === 0xfeff && terminal !== "attribute") {
    const what = uri.node === undefined ? "The document" : "The element";
    return conflict({
      tag: uri.node === undefined ? "not-well-formed" : "not-xml-frag",
      phrase: `${what} starts with U+FEFF after its byte order mark; nothing may come before ` +
        (uri.node === undefined ? "the XML declaration or the document element" : "the element"),
    });
  }
  const node = uri.node;
  if (node !== undefined) {
    // The body is read before queueing: a slow client does not hold up other writers.
    return await ctx.writes.run(target.key, () => putNodeAt(ctx, target, node, body));
  }
  if (bytes.length > ctx.maxDocumentBytes) return tooLarge("The document", ctx.maxDocumentBytes);
  // RFC 4825 §8.2.2 and §8.2.5: well-formed, then valid for the application usage.
  const parsed = parseXmlDocument(body, ctx.parseLimits);
  if (parsed.isErr()) return conflict(parsed.error);
  const valid = validateDocument(usage, parsed.value);
  if (valid.isErr()) return conflict(valid.error);
  return await ctx.writes.run(target.key, () => putDocument(ctx, target, parsed.value));
}

async function putDocument(ctx: Context, target: Target, parsed: XmlDocument): Promise<Response> {
  const { request, key } = target;
  const text = parsed.text;
  for (let attempt = 0; attempt < ctx.maxWriteAttempts; attempt++) {
    const current = await ctx.store.get(key);
    if (current.isErr()) return storeError(ctx, current.error);
    const stored = current.value;
    const failed = checkPreconditions(request, stored?.etag, stored !== undefined);
    if (failed !== undefined) return failed;
    // The same bytes again change nothing: the entity-tag stays.
    if (stored !== undefined && stored.text === text) return unchangedOrWritten(200, stored.etag);
    const written = await ctx.store.put(key, text, {
      expectedEtag: stored?.etag ?? null,
      quota: ctx.quota,
    });
    if (written.isOk()) {
      ctx.cache.set(key, written.value.etag, parsed);
      return unchangedOrWritten(stored === undefined ? 201 : 200, written.value.etag);
    }
    if (written.error._tag !== "EtagMismatch") return storeError(ctx, written.error);
    // Another writer won the compare-and-set: read again and re-evaluate everything.
    await backoff(attempt);
  }
  return tooManyWriters();
}

async function putNodeAt(
  ctx: Context,
  target: Target,
  selector: NodeSelector,
  body: string,
): Promise<Response> {
  const { request, key, usage, ns } = target;
  for (let attempt = 0; attempt < ctx.maxWriteAttempts; attempt++) {
    const current = await ctx.store.get(key);
    if (current.isErr()) return storeError(ctx, current.error);
    const stored = current.value;
    if (stored === undefined) {
      // RFC 4825 §8.2.1: the document that would hold the node does not exist.
      return conflict({
        tag: "no-parent",
        phrase: "The document does not exist; create it with a PUT of the whole document",
        ancestor: directoryUri(ctx, target),
      });
    }
    const doc = parsedDocument(ctx, key, stored);
    if (doc instanceof Response) return doc;
    const exists = getNode(doc, selector, ns).isOk();
    const failed = checkPreconditions(request, stored.etag, exists);
    if (failed !== undefined) return failed;
    const put = putNode(doc, selector, ns, body, { limits: ctx.parseLimits });
    if (put.isErr()) return nodeError(ctx, target, put.error);
    if (UTF8.encode(put.value.text).length > ctx.maxDocumentBytes) {
      return tooLarge("The document after this PUT", ctx.maxDocumentBytes);
    }
    const valid = validateDocument(usage, put.value.document);
    if (valid.isErr()) return conflict(valid.error);
    const status = put.value.created ? 201 : 200;
    if (put.value.text === stored.text) return unchangedOrWritten(status, stored.etag);
    const written = await ctx.store.put(key, put.value.text, {
      expectedEtag: stored.etag,
      quota: ctx.quota,
    });
    if (written.isOk()) {
      ctx.cache.set(key, written.value.etag, put.value.document);
      return unchangedOrWritten(status, written.value.etag);
    }
    if (written.error._tag !== "EtagMismatch") return storeError(ctx, written.error);
    await backoff(attempt);
  }
  return tooManyWriters();
}

async function handleDelete(ctx: Context, target: Target): Promise<Response> {
  const { request, key, usage, uri, ns } = target;
  const selector = uri.node;
  if (selector?.terminal?.kind === "namespace") {
    return plain(405, "Method not allowed: namespace bindings (namespace::*) can only be read", {
      allow: READ_METHODS,
    });
  }
  for (let attempt = 0; attempt < ctx.maxWriteAttempts; attempt++) {
    const current = await ctx.store.get(key);
    if (current.isErr()) return storeError(ctx, current.error);
    const stored = current.value;
    if (stored === undefined) return plain(404, "Not found: no document at this URI");
    if (selector === undefined) {
      const failed = checkPreconditions(request, stored.etag, true);
      if (failed !== undefined) return failed;
      const deleted = await ctx.store.delete(key, { expectedEtag: stored.etag });
      if (deleted.isOk()) {
        ctx.cache.delete(key);
        // No ETag: the document, and so its entity-tag, is gone.
        return staticResponse(null, { status: 200 });
      }
      if (deleted.error._tag !== "EtagMismatch") return storeError(ctx, deleted.error);
      await backoff(attempt);
      continue;
    }
    const doc = parsedDocument(ctx, key, stored);
    if (doc instanceof Response) return doc;
    const selected = getNode(doc, selector, ns);
    if (selected.isErr()) return nodeError(ctx, target, selected.error);
    const failed = checkPreconditions(request, stored.etag, true);
    if (failed !== undefined) return failed;
    const removed = deleteNode(doc, selector, ns, { limits: ctx.parseLimits });
    if (removed.isErr()) return nodeError(ctx, target, removed.error);
    // RFC 4825 §8.4: the document must still be valid afterwards (§8.2.5 checks).
    const valid = validateDocument(usage, removed.value.document);
    if (valid.isErr()) return conflict(valid.error);
    const written = await ctx.store.put(key, removed.value.text, {
      expectedEtag: stored.etag,
      quota: ctx.quota,
    });
    if (written.isOk()) {
      ctx.cache.set(key, written.value.etag, removed.value.document);
      // RFC 4825 §7.11: the 200 carries the entity-tag the rest of the document now has.
      return unchangedOrWritten(200, written.value.etag);
    }
    if (written.error._tag !== "EtagMismatch") return storeError(ctx, written.error);
    await backoff(attempt);
  }
  return tooManyWriters();
}

function handleCaps(ctx: Context, request: Request, uri: ParsedXcapUri): Response {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return plain(405, "Method not allowed: the xcap-caps document is generated and read-only", {
      allow: READ_METHODS,
    });
  }
  // RFC 4825 §12: one global document, `xcap-caps/global/index`.
  if (uri.tree !== "global" || uri.documentPath !== "index") {
    return plain(404, "Not found: the only xcap-caps document is xcap-caps/global/index");
  }
  const caps = ctx.caps;
  if (uri.node === undefined) {
    const failed = checkPreconditions(request, caps.etag, true);
    if (failed !== undefined) return failed;
    return staticResponse(caps.text, {
      status: 200,
      headers: { "content-type": "application/xcap-caps+xml", etag: caps.etag },
    });
  }
  if (caps.doc === undefined) {
    const parsed = parseXmlDocument(caps.text);
    if (parsed.isErr()) return plain(500, "Internal server error: xcap-caps cannot be parsed");
    caps.doc = parsed.value;
  }
  const ns = { ...uri.namespaces, "": "urn:ietf:params:xml:ns:xcap-caps" };
  const node = getNode(caps.doc, uri.node, ns);
  if (node.isErr()) {
    if (node.error.kind === "not-found") return plain(404, `Not found: ${node.error.message}`);
    return plain(400, `Bad request: ${node.error.message}`);
  }
  const failed = checkPreconditions(request, caps.etag, true);
  if (failed !== undefined) return failed;
  return nodeResponse(node.value, caps.etag);
}

/** The XUI a request path addresses (`<auid>/users/<xui>/...`), even when the URI is invalid. */
function addressedXui(rawSegments: readonly string[]): string | undefined {
  return safeDecode(rawSegments[1]) === "users" ? safeDecode(rawSegments[2]) : undefined;
}

function unauthorized(reason: string, challenges: readonly string[]): Response {
  return staticResponse(`Unauthorized: ${reason}\n`, {
    status: 401,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      // All challenges in one field (RFC 9110 §11.6.1 allows either form): Python's urllib
      // (python-xcaplib) reads only the first WWW-Authenticate field and speaks only MD5, which is
      // not first; in one field its parser ends up with the last challenge's algorithm and nonce.
      "www-authenticate": challenges.join(", "),
    },
  });
}

async function handle(ctx: Context, request: Request): Promise<Response> {
  const method = request.method;
  const url = new URL(request.url);
  const prefix = `${ctx.root}/`;
  const underRoot = url.pathname.startsWith(prefix);
  const rawSegments = underRoot ? url.pathname.slice(prefix.length).split("/") : [];
  const parsed = parseXcapUri(request.url, ctx.root);
  // The global capabilities are readable without credentials, as OpenXCAP does: a client learns
  // what the server offers before it signs in. Decided from the URI the handler will serve (never
  // from the URL parser's normalised path, where `\..\` tricks could name another document).
  const capsRead = parsed.isOk() && parsed.value.auid === "xcap-caps" &&
    parsed.value.tree === "global" && (method === "GET" || method === "HEAD");
  // With authentication on, everything else is challenged before any other answer (issue 11.5):
  // no 404, 400, 403 or 405 may tell an anonymous client whether a user, an application usage or
  // a document exists. The realm is the addressed user's domain, also when the URI is invalid.
  let account: string | undefined;
  if (ctx.authenticator !== undefined && !capsRead) {
    const xui = parsed.isOk() ? parsed.value.xui : addressedXui(rawSegments);
    const outcome = await ctx.authenticator.authenticate(request, xui === undefined ? {} : { xui });
    // A failing credential lookup is the server's problem: the catch-all answers 500.
    if (outcome.kind === "failed") throw outcome.cause;
    if (outcome.kind === "refused") return unauthorized(outcome.reason, outcome.challenges);
    account = outcome.account;
  }
  if (method !== "GET" && method !== "HEAD" && method !== "PUT" && method !== "DELETE") {
    return plain(405, `Method not allowed: XCAP uses ${ALL_METHODS}`, { allow: ALL_METHODS });
  }
  if (!underRoot) return plain(404, `Not found: this server serves XCAP under ${prefix}`);
  if (parsed.isErr()) {
    // What names no document at all (a directory, an unknown tree) is 404; what is broken
    // (escapes, node selector syntax, unbound prefixes) is 400.
    const tree = safeDecode(rawSegments[1]);
    const nameAt = tree === "users" ? 3 : 2;
    const name = rawSegments[nameAt];
    if (
      (tree !== "users" && tree !== "global") || name === undefined || name === "" || name === "~~"
    ) {
      return plain(404, "Not found: the URI names no document");
    }
    return plain(400, `Bad request: ${parsed.error.message}`);
  }
  const uri = parsed.value;
  if (uri.auid === "xcap-caps") return handleCaps(ctx, request, uri);
  const nameBytes = utf8Length(uri.xui ?? "") + utf8Length(uri.documentPath);
  if (nameBytes > ctx.maxNameBytes) {
    // RFC 9110 §15.5.15: longer than this server is willing to interpret (and to key a store by).
    return plain(
      414,
      `URI too long: the XUI and document path take ${nameBytes} bytes; this server takes at ` +
        `most ${ctx.maxNameBytes}`,
    );
  }
  const usage = ctx.applications.get(uri.auid);
  if (usage === undefined) {
    return plain(404, `Not found: no application usage ${JSON.stringify(uri.auid)} here`);
  }
  if (usage.scope !== "both" && usage.scope !== uri.tree) {
    return plain(
      404,
      `Not found: application usage ${JSON.stringify(uri.auid)} has no ${uri.tree} documents`,
    );
  }
  // RFC 4825 §5.7 leaves authorization to the usage; the default policy: a user reads and
  // writes its own users/<XUI> tree, everyone reads global documents.
  if (uri.tree === "users" && account !== undefined && !ctx.owns(account, uri.xui ?? "")) {
    return plain(403, "Forbidden: these are the documents of another user");
  }
  if (uri.tree === "global" && (method === "PUT" || method === "DELETE") && !ctx.globalWritable) {
    return plain(403, "Forbidden: global documents are read-only on this server");
  }
  const target: Target = {
    request,
    url,
    rawSegments,
    uri,
    key: {
      auid: uri.auid,
      tree: uri.tree,
      ...(uri.xui === undefined ? {} : { xui: uri.xui }),
      documentPath: uri.documentPath,
    },
    usage,
    // RFC 4825 §6.3: unprefixed names are in the usage's default namespace; prefixes come from
    // the xmlns() query (§6.4).
    ns: { ...uri.namespaces, "": usage.defaultNamespace },
  };
  switch (method) {
    case "GET":
    case "HEAD":
      return await handleGet(ctx, target);
    case "PUT":
      return await handlePut(ctx, target);
    default:
      return await ctx.writes.run(target.key, () => handleDelete(ctx, target));
  }
}

/**
 * Create the XCAP server (RFC 4825) as a fetch handler.
 *
 * It serves GET, PUT and DELETE of documents, elements, attributes and (GET only) namespace
 * bindings under `xcapRootPath`, with the status codes, content types and conflict reports of
 * RFC 4825 §7–§11; one strong entity-tag per document, new on every write that changes it, on
 * every 2xx; `If-Match` and `If-None-Match` (RFC 7232) on every method; validation of every
 * write against the application usage (`schema-validation-error`, `uniqueness-failure`); the
 * generated `xcap-caps` document; optional Digest/Basic authentication with per-user trees;
 * size limits (413, 414 for names); per-user quotas on documents (409) and bytes (413), which the
 * store checks in the same atomic step as the write; and a cache of parsed documents bounded by
 * an estimate of their memory. Edits splice the stored text, so everything outside the changed
 * node stays byte for byte.
 *
 * Writes are compare-and-set on the store: the handler reads the document, checks the
 * preconditions, computes the new text and writes it only if the document still has the
 * entity-tag it read. When another writer got there first, it starts over from a fresh read (up
 * to `maxWriteAttempts` times): a conditional request then fails its precondition (412), an
 * unconditional one is re-applied to the new version, so no update is ever lost.
 *
 * The handler never throws: a bug is answered with a plain-text 500 (and `onError` is called).
 *
 * @param options Store, XCAP root path, application usages, authentication, limits and CORS.
 * @returns The handler.
 *
 * @example Creating and reading a document
 * ```ts
 * import { createXcapHandler } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const handler = createXcapHandler();
 * const url = "http://127.0.0.1/xcap-root/resource-lists/users/sip:alice@example.com/index";
 * const created = await handler(new Request(url, {
 *   method: "PUT",
 *   headers: { "content-type": "application/resource-lists+xml" },
 *   body: '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">' +
 *     '<list name="friends"/></resource-lists>',
 * }));
 * assertEquals(created.status, 201);
 * const list = await handler(new Request(`${url}/~~/resource-lists/list/@name`));
 * assertEquals(list.headers.get("content-type"), "application/xcap-att+xml");
 * assertEquals(await list.text(), "friends");
 * assertEquals(list.headers.get("etag"), created.headers.get("etag"));
 * ```
 */
export function createXcapHandler(
  options: XcapHandlerOptions = {},
): (request: Request) => Promise<Response> {
  const rootOption = options.xcapRootPath ?? "/xcap-root";
  const root = `/${rootOption.replace(/^\/+|\/+$/g, "")}`.replace(/^\/$/, "");
  const applications = new Map<string, ServerApplicationUsage>();
  for (const usage of options.applications ?? DEFAULT_SERVER_APPLICATIONS) {
    if (usage.auid !== "xcap-caps") applications.set(usage.auid, usage);
  }
  const capsText = buildXcapCaps(applications.values());
  const limits = options.limits ?? {};
  const maxDocumentBytes = limits.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  const parseLimits: XmlParseLimits = {
    ...(limits.maxDepth === undefined ? {} : { maxDepth: limits.maxDepth }),
    ...(limits.maxElements === undefined ? {} : { maxElements: limits.maxElements }),
  };
  const auth = options.authentication;
  const ctx: Context = {
    store: options.store ?? new MemoryStore(),
    root,
    applications,
    ...(auth === undefined ? {} : { authenticator: createAuthenticator(auth) }),
    owns: auth?.owns ?? ownsXui,
    globalWritable: options.globalWritable ?? false,
    strictContentType: options.strictContentType ?? false,
    maxDocumentBytes,
    maxRequestBytes: limits.maxRequestBytes ?? maxDocumentBytes,
    maxNameBytes: limits.maxNameBytes ?? 1_024,
    quota: {
      maxDocuments: limits.maxUserDocuments ?? 100,
      maxBytes: limits.maxUserBytes ?? 16_777_216,
    },
    parseLimits,
    cache: new DocumentCache({
      maxEntries: options.documentCache?.maxEntries ?? 256,
      maxBytes: options.documentCache?.maxBytes ?? DEFAULT_CACHE_BYTES,
    }),
    writes: new WriteQueue(),
    maxWriteAttempts: Math.max(1, options.maxWriteAttempts ?? 16),
    caps: { text: capsText, etag: stableTag(capsText) },
    report: (error) => {
      try {
        options.onError?.(error);
      } catch {
        // A failing logger must not turn a 500 into a crash.
      }
    },
  };
  const handler = async (request: Request): Promise<Response> => {
    try {
      return withoutBody(await handle(ctx, request), request);
    } catch (error) {
      ctx.report(error);
      return plain(500, "Internal server error");
    }
  };
  return options.cors === undefined ? handler : withCors(handler, options.cors);
}
