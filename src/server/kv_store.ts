/**
 * A {@linkcode DocumentStore} on Deno KV: SQLite in a local file, FoundationDB-backed on Deno
 * Deploy, so any number of server instances can share one set of documents.
 *
 * Deno-specific edge file (`Deno.openKv`, which still needs `--unstable-kv` or
 * `"unstable": ["kv"]` in deno.json).
 *
 * Layout, under a key prefix (default `["xcap"]`):
 * - `[...prefix, "doc", auid, tree, xui, path]` holds the head: the entity-tag and, for documents
 *   up to 60,000 UTF-8 bytes, the document itself. Every write replaces the head with one atomic
 *   commit that checks the head's versionstamp (`kv.atomic().check(...)`), so concurrent writers
 *   on any number of instances never lose an update: the loser gets `EtagMismatch`.
 * - Larger documents (a KV value holds at most 64 KiB) are split into chunks under
 *   `[...prefix, "chunk", auid, tree, xui, path, etag, n]`, written before the head that names
 *   them and deleted after the head moved on. A reader that finds a chunk missing (deleted by a
 *   concurrent writer) reads the head again. A process that dies between writing chunks and
 *   committing the head leaves unreferenced chunks behind; they are never read.
 *
 * A local SQLite file opened by several processes (or several times by one) reports "database
 * is locked" while another connection writes; such calls are retried, since that is contention
 * and not failure. KV keys are limited to 2 KiB, which bounds the length of XUIs and document
 * paths.
 *
 * @module
 */
import { err, ok, type Result, ResultAsync } from "npm:neverthrow@^8.2.0";
import {
  createEntityTag,
  type DocumentKey,
  type DocumentStore,
  type DocumentStoreError,
  formatDocumentKey,
  type StoredDocument,
  type WriteOptions,
} from "./store.ts";

/** Options of {@linkcode KvStore}. */
export interface KvStoreOptions {
  /** The key prefix every entry of this store lives under. @default ["xcap"] */
  readonly prefix?: readonly Deno.KvKeyPart[];
}

/** The head entry of a document. */
interface Head {
  readonly etag: string;
  /** The UTF-8 bytes, when the document is stored inline. */
  readonly data?: Uint8Array;
  /** The number of chunks, when it is not. */
  readonly chunks?: number;
}

/** Documents up to this many UTF-8 bytes live in the head entry (a value holds 65,536 bytes). */
const INLINE_MAX_BYTES = 60_000;
/** Chunk size for larger documents. */
const CHUNK_BYTES = 60_000;
/** Chunks per atomic commit: 12 × 60,000 bytes stays under the 819,200-byte commit limit. */
const CHUNKS_PER_COMMIT = 12;
/** Most characters of decoded document text a store keeps (see `KvStore.#texts`). */
const TEXT_CACHE_CHARACTERS = 8_388_608;
/** How often a reader re-reads the head when a concurrent writer deleted the chunks it wanted. */
const READ_ATTEMPTS = 8;
/** How often an unconditional write retries after losing a race. */
const UNCONDITIONAL_WRITE_ATTEMPTS = 32;

/** How often a call is retried while SQLite reports the database busy (several connections). */
const BUSY_ATTEMPTS = 100;

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

function failure(message: string, cause: unknown): Result<never, DocumentStoreError> {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return err(
    Object.freeze({ _tag: "StoreFailure" as const, message: `${message}: ${reason}`, cause }),
  );
}

/** `found`: the current entity-tag, `undefined` for no document, `null` for "a newer version". */
function mismatch(
  key: DocumentKey,
  expected: string | null,
  found: string | null | undefined,
): Result<never, DocumentStoreError> {
  const want = expected === null ? "no document" : `entity-tag ${expected}`;
  const got = found === undefined
    ? "no document"
    : found === null
    ? "a version written concurrently"
    : `entity-tag ${found}`;
  return err(Object.freeze({
    _tag: "EtagMismatch" as const,
    message: `Document ${formatDocumentKey(key)} changed: expected ${want}, found ${got}`,
  }));
}

/**
 * Run a KV call, retrying while a local SQLite database is locked by another connection (another
 * process, or another `Deno.openKv` of the same file): that is contention, not failure.
 */
async function whileBusy<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await call();
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (attempt >= BUSY_ATTEMPTS || !/database is (locked|busy)/i.test(message)) throw e;
      await new Promise((resolve) =>
        setTimeout(resolve, Math.random() * Math.min(50, attempt * 2))
      );
    }
  }
}

async function collect(kv: Deno.Kv, prefix: Deno.KvKey): Promise<Deno.KvEntry<unknown>[]> {
  return await whileBusy(async () => {
    const entries: Deno.KvEntry<unknown>[] = [];
    for await (const entry of kv.list({ prefix })) entries.push(entry);
    return entries;
  });
}

function isHead(value: unknown): value is Head {
  if (value === null || typeof value !== "object") return false;
  const head = value as Record<string, unknown>;
  return typeof head.etag === "string" &&
    (head.data instanceof Uint8Array || typeof head.chunks === "number");
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * A {@linkcode DocumentStore} on a Deno KV database, with atomic compare-and-set on every write.
 * The store does not own the database unless {@linkcode openKvStore} opened it: call
 * {@linkcode KvStore.close} to close it then.
 *
 * @example Usage (run with --unstable-kv)
 * ```ts
 * import { KvStore } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const kv = await Deno.openKv(":memory:");
 * const store = new KvStore(kv);
 * const key = { auid: "resource-lists", tree: "users", xui: "sip:a@b", documentPath: "index" } as const;
 * const first = (await store.put(key, "<a/>", { expectedEtag: null }))._unsafeUnwrap();
 * const stale = await store.put(key, "<c/>", { expectedEtag: '"old"' });
 * assertEquals(stale.isErr() && stale.error._tag, "EtagMismatch");
 * assertEquals((await store.get(key))._unsafeUnwrap(), first);
 * kv.close();
 * ```
 */
export class KvStore implements DocumentStore {
  readonly #kv: Deno.Kv;
  readonly #prefix: readonly Deno.KvKeyPart[];
  /**
   * Decoded texts by document, each valid for the entity-tag it was read or written with. A
   * version's bytes never change (a write makes a new entity-tag, and chunk keys include it),
   * so when the head read still names that entity-tag the copy is current: the chunk reads and
   * the decoding are skipped. Bounded by {@linkcode TEXT_CACHE_CHARACTERS}.
   */
  readonly #texts = new Map<string, StoredDocument>();
  #textCharacters = 0;

  /**
   * Wrap an open Deno KV database.
   *
   * @param kv The database.
   * @param options The key prefix.
   */
  constructor(kv: Deno.Kv, options: KvStoreOptions = {}) {
    this.#kv = kv;
    this.#prefix = [...(options.prefix ?? ["xcap"])];
  }

  /** Close the underlying database (also when another party opened it). */
  close(): void {
    try {
      this.#kv.close();
    } catch {
      // Already closed.
    }
  }

  #headKey(key: DocumentKey): Deno.KvKey {
    return [...this.#prefix, "doc", key.auid, key.tree, key.xui ?? "", key.documentPath];
  }

  #chunkPrefix(key: DocumentKey, etag: string): Deno.KvKey {
    return [...this.#prefix, "chunk", key.auid, key.tree, key.xui ?? "", key.documentPath, etag];
  }

  #remember(key: DocumentKey, text: string, etag: string): StoredDocument {
    const stored: StoredDocument = Object.freeze({ text, etag });
    const id = formatDocumentKey(key);
    const old = this.#texts.get(id);
    if (old !== undefined) {
      this.#texts.delete(id);
      this.#textCharacters -= old.text.length;
    }
    if (text.length > TEXT_CACHE_CHARACTERS) return stored;
    this.#texts.set(id, stored);
    this.#textCharacters += text.length;
    while (this.#textCharacters > TEXT_CACHE_CHARACTERS) {
      const oldest = this.#texts.entries().next().value;
      if (oldest === undefined) break;
      this.#texts.delete(oldest[0]);
      this.#textCharacters -= oldest[1].text.length;
    }
    return stored;
  }

  /**
   * Read a document.
   *
   * @param key The document.
   * @returns The document, or `undefined` when it does not exist.
   */
  get(key: DocumentKey): ResultAsync<StoredDocument | undefined, DocumentStoreError> {
    return new ResultAsync(this.#get(key));
  }

  async #get(key: DocumentKey): Promise<Result<StoredDocument | undefined, DocumentStoreError>> {
    try {
      for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
        const entry = await whileBusy(() => this.#kv.get(this.#headKey(key)));
        if (entry.value === null) return ok(undefined);
        if (!isHead(entry.value)) {
          return failure(`Cannot read ${formatDocumentKey(key)}`, "the head entry is malformed");
        }
        const head = entry.value;
        const known = this.#texts.get(formatDocumentKey(key));
        if (known !== undefined && known.etag === head.etag) return ok(known);
        if (head.data !== undefined) {
          return ok(this.#remember(key, DECODER.decode(head.data), head.etag));
        }
        const parts: Uint8Array[] = [];
        for (const chunk of await collect(this.#kv, this.#chunkPrefix(key, head.etag))) {
          if (!(chunk.value instanceof Uint8Array)) break;
          parts.push(chunk.value);
        }
        if (parts.length === head.chunks) {
          return ok(this.#remember(key, DECODER.decode(concat(parts)), head.etag));
        }
        // A concurrent writer replaced the document and deleted these chunks: read again.
      }
      return failure(`Cannot read ${formatDocumentKey(key)}`, "it keeps changing while read");
    } catch (e) {
      return failure(`Cannot read ${formatDocumentKey(key)}`, e);
    }
  }

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
    options: WriteOptions = {},
  ): ResultAsync<StoredDocument, DocumentStoreError> {
    return new ResultAsync(this.#put(key, text, options.expectedEtag));
  }

  async #put(
    key: DocumentKey,
    text: string,
    expected: string | null | undefined,
  ): Promise<Result<StoredDocument, DocumentStoreError>> {
    const etag = createEntityTag();
    const bytes = ENCODER.encode(text);
    let head: Head;
    let wroteChunks = false;
    const count = bytes.length <= INLINE_MAX_BYTES ? 0 : Math.ceil(bytes.length / CHUNK_BYTES);
    const chunkKey = (i: number): Deno.KvKey => [...this.#chunkPrefix(key, etag), i];
    const chunk = (i: number) => bytes.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES);
    // Up to CHUNKS_PER_COMMIT chunks go into the same commit as the head (one transaction);
    // larger documents write their chunks first.
    const together = count <= CHUNKS_PER_COMMIT;
    try {
      if (count === 0) {
        head = { etag, data: bytes };
      } else {
        if (!together) {
          wroteChunks = true;
          for (let first = 0; first < count; first += CHUNKS_PER_COMMIT) {
            const result = await whileBusy(() => {
              const op = this.#kv.atomic();
              for (let i = first; i < Math.min(count, first + CHUNKS_PER_COMMIT); i++) {
                op.set(chunkKey(i), chunk(i));
              }
              return op.commit();
            });
            if (!result.ok) throw new Error("a chunk commit failed");
          }
        }
        head = { etag, chunks: count };
      }
      for (let attempt = 0; attempt < UNCONDITIONAL_WRITE_ATTEMPTS; attempt++) {
        const headKey = this.#headKey(key);
        const current = await whileBusy(() => this.#kv.get(headKey));
        const currentHead = isHead(current.value) ? current.value : undefined;
        if (expected !== undefined && expected !== (currentHead?.etag ?? null)) {
          if (wroteChunks) await this.#deleteChunks(key, etag);
          return mismatch(key, expected, currentHead?.etag);
        }
        const old = currentHead?.chunks ?? 0;
        // The old version's chunks go in the same commit when they fit in it.
        const dropOld = old > 0 && old <= CHUNKS_PER_COMMIT;
        const result = await whileBusy(() => {
          const op = this.#kv.atomic()
            .check({ key: headKey, versionstamp: current.versionstamp })
            .set(headKey, head);
          for (let i = 0; together && i < count; i++) op.set(chunkKey(i), chunk(i));
          if (dropOld) {
            const oldPrefix = this.#chunkPrefix(key, currentHead!.etag);
            for (let i = 0; i < old; i++) op.delete([...oldPrefix, i]);
          }
          return op.commit();
        });
        if (result.ok) {
          if (old > 0 && !dropOld) await this.#deleteChunks(key, currentHead!.etag);
          return ok(this.#remember(key, text, etag));
        }
        // Another writer committed between our read and our commit. A conditional write has
        // lost; an unconditional one reads again and retries.
        if (expected !== undefined) {
          if (wroteChunks) await this.#deleteChunks(key, etag);
          return mismatch(key, expected, null);
        }
      }
      if (wroteChunks) await this.#deleteChunks(key, etag);
      return failure(`Cannot write ${formatDocumentKey(key)}`, "too many concurrent writers");
    } catch (e) {
      if (wroteChunks) await this.#deleteChunks(key, etag).catch(() => {});
      return failure(`Cannot write ${formatDocumentKey(key)}`, e);
    }
  }

  /**
   * Delete a document, if it is in the expected state.
   *
   * @param key The document.
   * @param options The expected current state.
   * @returns Whether a document was deleted, or `EtagMismatch`.
   */
  delete(key: DocumentKey, options: WriteOptions = {}): ResultAsync<boolean, DocumentStoreError> {
    return new ResultAsync(this.#delete(key, options.expectedEtag));
  }

  async #delete(
    key: DocumentKey,
    expected: string | null | undefined,
  ): Promise<Result<boolean, DocumentStoreError>> {
    try {
      for (let attempt = 0; attempt < UNCONDITIONAL_WRITE_ATTEMPTS; attempt++) {
        const headKey = this.#headKey(key);
        const current = await whileBusy(() => this.#kv.get(headKey));
        const currentHead = isHead(current.value) ? current.value : undefined;
        if (expected !== undefined && expected !== (currentHead?.etag ?? null)) {
          return mismatch(key, expected, currentHead?.etag);
        }
        if (current.versionstamp === null) return ok(false);
        const result = await whileBusy(() =>
          this.#kv.atomic()
            .check({ key: headKey, versionstamp: current.versionstamp })
            .delete(headKey)
            .commit()
        );
        if (result.ok) {
          if (currentHead?.chunks !== undefined) await this.#deleteChunks(key, currentHead.etag);
          return ok(true);
        }
        if (expected !== undefined) return mismatch(key, expected, null);
      }
      return failure(`Cannot delete ${formatDocumentKey(key)}`, "too many concurrent writers");
    } catch (e) {
      return failure(`Cannot delete ${formatDocumentKey(key)}`, e);
    }
  }

  /** Delete the chunks of one version of a document (best effort: errors are ignored). */
  async #deleteChunks(key: DocumentKey, etag: string): Promise<void> {
    try {
      for (const chunk of await collect(this.#kv, this.#chunkPrefix(key, etag))) {
        await whileBusy(() => this.#kv.delete(chunk.key));
      }
    } catch {
      // Unreferenced chunks are never read; leaving some behind is harmless.
    }
  }
}

/** Options of {@linkcode openKvStore}. */
export interface OpenKvStoreOptions extends KvStoreOptions {
  /** The database file; `undefined` opens Deno's default database, `":memory:"` a new one in memory. */
  readonly path?: string;
}

/**
 * Open a Deno KV database and wrap it in a {@linkcode KvStore}; {@linkcode KvStore.close} closes
 * it again.
 *
 * @param options The database path and key prefix.
 * @returns The store, or `StoreFailure` when the database cannot be opened (a bad path, or a
 * Deno without KV: run with `--unstable-kv`).
 *
 * @example Usage (run with --unstable-kv)
 * ```ts
 * import { openKvStore } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const store = (await openKvStore({ path: ":memory:" }))._unsafeUnwrap();
 * const key = { auid: "xcap-caps", tree: "global", documentPath: "index" } as const;
 * assertEquals((await store.get(key))._unsafeUnwrap(), undefined);
 * store.close();
 * ```
 */
export function openKvStore(
  options: OpenKvStoreOptions = {},
): ResultAsync<KvStore, DocumentStoreError> {
  const open = async (): Promise<Result<KvStore, DocumentStoreError>> => {
    try {
      if (typeof Deno === "undefined" || typeof Deno.openKv !== "function") {
        return failure(
          "Cannot open Deno KV",
          "Deno.openKv is not available (run with --unstable-kv)",
        );
      }
      const kv = await Deno.openKv(options.path);
      return ok(new KvStore(kv, options.prefix === undefined ? {} : { prefix: options.prefix }));
    } catch (e) {
      return failure(`Cannot open Deno KV at ${JSON.stringify(options.path ?? "(default)")}`, e);
    }
  };
  return new ResultAsync(open());
}
