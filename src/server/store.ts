/**
 * Document storage for the XCAP server: one small interface with compare-and-set writes, and the
 * in-memory implementation used by default.
 *
 * Every write names the state it expects the document to be in (the entity-tag it read, or "does
 * not exist"), so the handler's read, check and write form one atomic step even when several
 * server instances share a store: a writer that lost the race learns it from an `EtagMismatch`
 * error and starts over from a fresh read.
 *
 * Pure: Web APIs only.
 *
 * @module
 */
import { encodeBase64Url } from "jsr:@std/encoding@^1.0.10/base64url";
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { errAsync, okAsync, type ResultAsync } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { nextUsage, NO_USAGE, quotaExceeded, utf8Length } from "./_usage.ts";

/** Which document a store operation is about: the document selector of an XCAP URI (§6.2). */
export interface DocumentKey {
  /** The application unique ID. */
  readonly auid: string;
  /** The tree the document lives in. */
  readonly tree: "users" | "global";
  /** The XCAP user identifier; present exactly when `tree` is `"users"`. */
  readonly xui?: string;
  /** Folders and document name joined with `/`, e.g. `index` or `dir/doc.xml`. */
  readonly documentPath: string;
}

/** A stored document and its entity-tag. */
export interface StoredDocument {
  /** The document text, exactly as it was written. */
  readonly text: string;
  /** The document's strong entity-tag, quoted (`"…"`), as it goes into the `ETag` header. */
  readonly etag: string;
}

/**
 * Per-user limits: what the documents of one user's tree (`users/<XUI>`, all application
 * usages together) may add up to. Global documents have no quota.
 */
export interface UserQuota {
  /** Most documents in the user's tree. */
  readonly maxDocuments: number;
  /** Most bytes in the user's tree: the UTF-8 lengths of its documents, summed. */
  readonly maxBytes: number;
}

/** The state a write expects the document to be in (compare-and-set), and its quota. */
export interface WriteOptions {
  /**
   * A string: the document must currently have this entity-tag. `null`: the document must not
   * exist (a creation). Omitted: no expectation, the write happens whatever the current state.
   */
  readonly expectedEtag?: string | null;
  /**
   * The quota of the document's user (ignored for global documents): a `put` that would take
   * the user's tree past a limit fails with `QuotaExceeded`, checked in the same atomic step as
   * `expectedEtag`. A write that does not grow what is over the limit (a smaller replacement in
   * a tree already over its byte quota, say) is allowed, so a user can always shrink.
   * Omitted: no limit (the store still keeps count).
   */
  readonly quota?: UserQuota;
}

/** The compare-and-set expectation of a write did not hold: someone else wrote first. */
export interface EtagMismatchError {
  /** Discriminant. */
  readonly _tag: "EtagMismatch";
  /** What was expected and what was found. */
  readonly message: string;
}

/** A `put` would take the user's tree past its {@linkcode UserQuota}; nothing was written. */
export interface QuotaExceededError {
  /** Discriminant. */
  readonly _tag: "QuotaExceeded";
  /** Which limit, with both figures. */
  readonly message: string;
  /** The limit that would be exceeded. */
  readonly limit: "documents" | "bytes";
  /** Its value (documents or bytes). */
  readonly quota: number;
  /** What the user's tree would hold after the write (documents or bytes). */
  readonly wouldUse: number;
}

/**
 * The document's name (XUI and document path) is too long for the store to key it; nothing
 * was read or written. Deno KV keys hold at most 2,048 bytes, for example.
 */
export interface KeyTooLongError {
  /** Discriminant. */
  readonly _tag: "KeyTooLong";
  /** How long the name is and what the store can take. */
  readonly message: string;
}

/** The storage backend failed (I/O, a value the backend refused). */
export interface StoreFailureError {
  /** Discriminant. */
  readonly _tag: "StoreFailure";
  /** What failed. */
  readonly message: string;
  /** The underlying error. */
  readonly cause: unknown;
}

/**
 * The storage backend cannot be reached right now (a database that is down, restarting or not
 * answering in time); the same call may succeed later. A write that ends so may or may not have
 * happened (the connection can be lost while committing): read again before repeating it.
 */
export interface StoreUnavailableError {
  /** Discriminant. */
  readonly _tag: "StoreUnavailable";
  /** What could not be reached, and why. */
  readonly message: string;
  /** How long a client should wait before trying again, in seconds (HTTP `Retry-After`). */
  readonly retryAfterSeconds: number;
  /** The underlying error. */
  readonly cause: unknown;
}

/** Errors a {@linkcode DocumentStore} returns. */
export type DocumentStoreError =
  | EtagMismatchError
  | QuotaExceededError
  | KeyTooLongError
  | StoreFailureError
  | StoreUnavailableError;

/** What the documents of one user's tree add up to. */
export interface UserUsage {
  /** How many documents. */
  readonly documents: number;
  /** Their UTF-8 lengths, summed. */
  readonly bytes: number;
}

/**
 * Where the XCAP server keeps its documents. Implementations must make `put` and `delete`
 * atomic with respect to their `expectedEtag` check, and must give a document a new entity-tag
 * that was never used for that document before on every successful `put`.
 *
 * They keep count of each user's documents and bytes ({@linkcode UserUsage}, per XUI over all
 * application usages) and check a `put`'s `quota` against that count in the same atomic step:
 * concurrent writers, on any number of instances, never take a user past the quota. (In SQL:
 * a per-user usage row updated in the document's transaction, `SELECT … FOR UPDATE`, or a
 * `CHECK` constraint on it.) The text a `get` returns must be exactly the text `put` stored,
 * U+FEFF included: the entity-tag stands for those characters.
 */
export interface DocumentStore {
  /**
   * Read a document.
   *
   * @param key The document.
   * @returns The document, or `undefined` when it does not exist.
   */
  get(key: DocumentKey): ResultAsync<StoredDocument | undefined, DocumentStoreError>;
  /**
   * Create or replace a document, if it is in the expected state.
   *
   * @param key The document.
   * @param text The new text.
   * @param options The expected current state.
   * @returns The stored document with its new entity-tag, or `EtagMismatch`.
   */
  put(
    key: DocumentKey,
    text: string,
    options?: WriteOptions,
  ): ResultAsync<StoredDocument, DocumentStoreError>;
  /**
   * Delete a document, if it is in the expected state.
   *
   * @param key The document.
   * @param options The expected current state (`expectedEtag: null`: nothing to delete).
   * @returns Whether a document was deleted, or `EtagMismatch`.
   */
  delete(key: DocumentKey, options?: WriteOptions): ResultAsync<boolean, DocumentStoreError>;
}

/**
 * A fresh strong entity-tag (RFC 7232 §2.3), quoted: 128 random bits in base64url, so tags are
 * unique across documents, writes and server instances without coordination.
 *
 * @returns The quoted entity-tag, e.g. `"q0v6o3…"`.
 *
 * @example Usage
 * ```ts
 * import { createEntityTag } from "@xcap/xcap/server";
 * import { assertMatch, assertNotEquals } from "@std/assert";
 *
 * assertMatch(createEntityTag(), /^"[A-Za-z0-9_-]{22}"$/);
 * assertNotEquals(createEntityTag(), createEntityTag());
 * ```
 */
export function createEntityTag(): string {
  return `"${encodeBase64Url(crypto.getRandomValues(new Uint8Array(16)))}"`;
}

/**
 * A stable string form of a {@linkcode DocumentKey}, unambiguous for any component values.
 *
 * @param key The document.
 * @returns The key as a JSON array string.
 *
 * @example Usage
 * ```ts
 * import { formatDocumentKey } from "./store.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(
 *   formatDocumentKey({ auid: "resource-lists", tree: "users", xui: "sip:a@b", documentPath: "index" }),
 *   '["resource-lists","users","sip:a@b","index"]',
 * );
 * ```
 */
export function formatDocumentKey(key: DocumentKey): string {
  return JSON.stringify([key.auid, key.tree, key.xui ?? null, key.documentPath]);
}

function mismatch(key: DocumentKey, expected: string | null, found: string | undefined) {
  const want = expected === null ? "no document" : `entity-tag ${expected}`;
  const got = found === undefined ? "no document" : `entity-tag ${found}`;
  return errAsync<never, DocumentStoreError>(Object.freeze({
    _tag: "EtagMismatch",
    message: `Document ${formatDocumentKey(key)} changed: expected ${want}, found ${got}`,
  }));
}

/**
 * The default {@linkcode DocumentStore}: documents in a `Map`, gone when the process ends. Each
 * operation runs synchronously inside, so compare-and-set and the quota check are trivially
 * atomic.
 *
 * @example Compare-and-set
 * ```ts
 * import { MemoryStore } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new MemoryStore();
 * const key = { auid: "resource-lists", tree: "users", xui: "sip:a@b", documentPath: "index" } as const;
 * const created = (await store.put(key, "<a/>", { expectedEtag: null }))._unsafeUnwrap();
 * assertEquals((await store.put(key, "<b/>", { expectedEtag: null }))._unsafeUnwrapErr()._tag, "EtagMismatch");
 * const replaced = await store.put(key, "<b/>", { expectedEtag: created.etag });
 * assertEquals(replaced.isOk(), true);
 * assertEquals((await store.get(key))._unsafeUnwrap()?.text, "<b/>");
 * ```
 *
 * @example A per-user quota
 * ```ts
 * import { MemoryStore } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const store = new MemoryStore();
 * const quota = { maxDocuments: 1, maxBytes: 100 };
 * const key = { auid: "resource-lists", tree: "users", xui: "sip:a@b", documentPath: "index" } as const;
 * assertEquals((await store.put(key, "<a/>", { quota })).isOk(), true);
 * const second = await store.put({ ...key, documentPath: "other" }, "<b/>", { quota });
 * assertEquals(second.isErr() && second.error._tag, "QuotaExceeded");
 * assertEquals((await store.usage("sip:a@b"))._unsafeUnwrap(), { documents: 1, bytes: 4 });
 * ```
 */
export class MemoryStore implements DocumentStore {
  readonly #documents = new Map<
    string,
    { readonly stored: StoredDocument; readonly bytes: number }
  >();
  readonly #usage = new Map<string, UserUsage>();

  /**
   * Read a document.
   *
   * @param key The document.
   * @returns The document, or `undefined` when it does not exist.
   */
  get(key: DocumentKey): ResultAsync<StoredDocument | undefined, DocumentStoreError> {
    return okAsync(this.#documents.get(formatDocumentKey(key))?.stored);
  }

  /**
   * Create or replace a document, if it is in the expected state and within the quota.
   *
   * @param key The document.
   * @param text The new text.
   * @param options The expected current state and the user's quota.
   * @returns The stored document with its new entity-tag, `EtagMismatch` or `QuotaExceeded`.
   */
  put(
    key: DocumentKey,
    text: string,
    options: WriteOptions = {},
  ): ResultAsync<StoredDocument, DocumentStoreError> {
    const id = formatDocumentKey(key);
    const current = this.#documents.get(id);
    const expected = options.expectedEtag;
    if (expected !== undefined && expected !== (current?.stored.etag ?? null)) {
      return mismatch(key, expected, current?.stored.etag);
    }
    const bytes = utf8Length(text);
    if (key.tree === "users") {
      const xui = key.xui ?? "";
      const usage = this.#usage.get(xui) ?? NO_USAGE;
      const next = nextUsage(usage, current?.bytes, bytes);
      const exceeded = quotaExceeded(key, usage, next, options.quota);
      if (exceeded !== undefined) return errAsync(exceeded);
      this.#usage.set(xui, next);
    }
    const stored = Object.freeze({ text, etag: createEntityTag() });
    this.#documents.set(id, { stored, bytes });
    return okAsync(stored);
  }

  /**
   * Delete a document, if it is in the expected state.
   *
   * @param key The document.
   * @param options The expected current state.
   * @returns Whether a document was deleted, or `EtagMismatch`.
   */
  delete(key: DocumentKey, options: WriteOptions = {}): ResultAsync<boolean, DocumentStoreError> {
    const id = formatDocumentKey(key);
    const current = this.#documents.get(id);
    const expected = options.expectedEtag;
    if (expected !== undefined && expected !== (current?.stored.etag ?? null)) {
      return mismatch(key, expected, current?.stored.etag);
    }
    if (current === undefined) return okAsync(false);
    this.#documents.delete(id);
    if (key.tree === "users") {
      const xui = key.xui ?? "";
      const next = nextUsage(this.#usage.get(xui) ?? NO_USAGE, current.bytes, undefined);
      if (next.documents === 0) this.#usage.delete(xui);
      else this.#usage.set(xui, next);
    }
    return okAsync(true);
  }

  /**
   * What the documents of one user's tree add up to.
   *
   * @param xui The user's XUI.
   * @returns The user's document count and bytes (zero for a user without documents).
   */
  usage(xui: string): ResultAsync<UserUsage, DocumentStoreError> {
    return okAsync(this.#usage.get(xui) ?? NO_USAGE);
  }
}
