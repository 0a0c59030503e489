/**
 * A {@linkcode DocumentStore} on Deno KV: SQLite in a local file, FoundationDB-backed on Deno
 * Deploy, so any number of server instances can share one set of documents.
 *
 * Deno-specific edge file (`Deno.openKv`, which still needs `--unstable-kv` or
 * `"unstable": ["kv"]` in deno.json).
 *
 * Layout, under a key prefix (default `["xcap"]`):
 * - `[...prefix, "doc", auid, tree, xui, path]` holds the head: the entity-tag, the UTF-8 length
 *   and, for documents up to 60,000 UTF-8 bytes, the document itself. Every write replaces the
 *   head with one atomic commit that checks the head's versionstamp (`kv.atomic().check(...)`),
 *   so concurrent writers on any number of instances never lose an update: the loser gets
 *   `EtagMismatch`.
 * - `[...prefix, "usage", xui]` counts the documents and bytes of a user's tree. It changes in
 *   the same commit as the head, checked by versionstamp too, so a quota holds across instances.
 * - Larger documents (a KV value holds at most 64 KiB) are split into chunks under
 *   `[...prefix, "chunk", auid, tree, xui, path, etag, n]`. Up to 12 chunks go into the head's
 *   commit. More are written before it, announced first by a marker
 *   `[...prefix, "orphan", auid, tree, xui, path, etag]` holding the chunk count and a deadline
 *   (now + `abandonedWriteMs`); each chunk commit and the head commit check that the marker is
 *   unchanged, and the head commit deletes it. When a head stops naming a chunk set of more
 *   than 12 chunks (replaced or deleted), its commit writes a marker for that set with a
 *   deadline already passed. So every chunk set is named by a head or by a marker, and a writer
 *   killed at any point leaves a marker behind. Any instance reclaims the chunk sets of expired
 *   markers ({@linkcode KvStore.reclaimOrphans}, also run on a write at most every
 *   `reclaimIntervalMs`): it first takes a pending marker over (rewrites it, checked by
 *   versionstamp), so that the slow writer's next chunk or head commit fails instead of adding
 *   chunks or naming deleted ones, then deletes the chunks and the marker.
 * - A reader that finds a chunk missing (deleted by a concurrent writer) reads the head again.
 *
 * Deno KV's limits, and how they are kept: a key holds at most 2,048 bytes (the longest key here
 * is a chunk key: the XUI and document path get what is left after the prefix, AUID, entity-tag
 * and chunk number; a longer name is `KeyTooLong`, before any KV call); a value 65,536 bytes
 * (chunks and inline documents hold 60,000); a commit at most 1,000 mutations, 819,200 bytes of
 * keys and values and 81,920 bytes of keys (the largest commit here, a 12-chunk document
 * replacing a 12-chunk one, has 28 mutations and at most 777,344 bytes even with 2,048-byte keys;
 * chunk deletions are batched to fit). Text is decoded without stripping a byte order mark: what
 * `get` returns is exactly what `put` stored, here and on every other instance.
 *
 * A local SQLite file opened by several processes (or several times by one) reports "database
 * is locked" while another connection writes; such calls are retried, since that is contention
 * and not failure. Contention that outlasts the retries (still locked after 100 tries, a
 * document replaced under 8 reads in a row, 32 commits in a row lost to other writers of the
 * same user) is `StoreUnavailable` with a `retryAfterSeconds` of 1: the store is busy, not
 * broken, and the handler answers 503 with Retry-After.
 *
 * @module
 */
import { concat } from "jsr:@std/bytes@^1.0.6/concat";
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result, ResultAsync } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { nextUsage, NO_USAGE, quotaExceeded, utf8Length } from "./_usage.ts";
import {
  createEntityTag,
  type DocumentKey,
  type DocumentStore,
  type DocumentStoreError,
  formatDocumentKey,
  type KeyTooLongError,
  type StoredDocument,
  type UserUsage,
  type WriteOptions,
} from "./store.ts";

/** Options of {@linkcode KvStore}. */
export interface KvStoreOptions {
  /** The key prefix every entry of this store lives under. @default ["xcap"] */
  readonly prefix?: readonly Deno.KvKeyPart[];
  /**
   * How long a write of a document over 720,000 bytes may take from announcing its chunks to
   * committing its head. After that, any instance may reclaim the chunks as abandoned (the
   * write, should it still be running, then fails instead of committing). Compared with the
   * clocks of the other instances: keep it well above their skew. @default 600_000 (10 minutes)
   */
  readonly abandonedWriteMs?: number;
  /**
   * Least time between two looks for the chunks of interrupted writes, made after a write (the
   * first write of a store looks at once). @default 60_000
   */
  readonly reclaimIntervalMs?: number;
}

/** The head entry of a document. */
interface Head {
  readonly etag: string;
  /** The UTF-8 bytes, when the document is stored inline. */
  readonly data?: Uint8Array;
  /** The number of chunks, when it is not. */
  readonly chunks?: number;
  /** The UTF-8 length (absent in heads written before usage was counted). */
  readonly bytes?: number;
}

/** A chunk set that may be unnamed by any head: reclaim it after `after` (ms since 1970). */
interface Marker {
  readonly chunks: number;
  readonly after: number;
}

/** Documents up to this many UTF-8 bytes live in the head entry (a value holds 65,536 bytes). */
const INLINE_MAX_BYTES = 60_000;
/** Chunk size for larger documents. */
const CHUNK_BYTES = 60_000;
/** Chunks per atomic commit: 12 × 60,000 bytes stays under the 819,200-byte commit limit. */
const CHUNKS_PER_COMMIT = 12;
/** Deno KV's largest key, in bytes (encoded). */
const MAX_KEY_BYTES = 2048;
/** Deno KV's most key bytes per commit; chunk deletions are batched below it. */
const MAX_COMMIT_KEY_BYTES = 81_920;
/** Most characters of decoded document text a store keeps (see `KvStore.#texts`). */
const TEXT_CACHE_CHARACTERS = 8_388_608;
/** How often a reader re-reads the head when a concurrent writer deleted the chunks it wanted. */
const READ_ATTEMPTS = 8;
/** How often a write retries after losing a race it may still win. */
const WRITE_ATTEMPTS = 32;
/** A placeholder entity-tag of the length {@linkcode createEntityTag} makes, for key sizes. */
const ETAG_PLACEHOLDER = `"${"x".repeat(22)}"`;

/** How often a call is retried while SQLite reports the database busy (several connections). */
const BUSY_ATTEMPTS = 100;

const ENCODER = new TextEncoder();
/** Keeps a leading U+FEFF: the stored text is the document, not an encoded entity. */
const DECODER = new TextDecoder("utf-8", { ignoreBOM: true });

/** SQLite's answer while another connection writes (see {@linkcode whileBusy}). */
const DATABASE_BUSY = /database is (locked|busy)/i;

/**
 * A failed call: `StoreUnavailable` when it is contention that outlasted the retries (SQLite
 * still busy, see {@linkcode busy}), `StoreFailure` otherwise.
 */
function failure(message: string, cause: unknown): Result<never, DocumentStoreError> {
  const reason = cause instanceof Error ? cause.message : String(cause);
  if (DATABASE_BUSY.test(reason)) return busy(message, reason, cause);
  return err(
    Object.freeze({ _tag: "StoreFailure" as const, message: `${message}: ${reason}`, cause }),
  );
}

/**
 * Other writers kept the call from completing within its retries: the store is busy, not broken,
 * and the same call may well succeed a moment later (`StoreUnavailable`, which the handler
 * answers 503 with Retry-After).
 */
function busy(message: string, reason: string, cause?: unknown): Result<never, DocumentStoreError> {
  return err(Object.freeze({
    _tag: "StoreUnavailable" as const,
    message: `${message}: ${reason}`,
    retryAfterSeconds: 1,
    cause: cause ?? new Error(reason),
  }));
}

/** `found`: the current entity-tag, `undefined` for no document. */
function mismatch(
  key: DocumentKey,
  expected: string | null,
  found: string | undefined,
): Result<never, DocumentStoreError> {
  const want = expected === null ? "no document" : `entity-tag ${expected}`;
  const got = found === undefined ? "no document" : `entity-tag ${found}`;
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
      if (attempt >= BUSY_ATTEMPTS || !DATABASE_BUSY.test(message)) throw e;
      await pause(attempt);
    }
  }
}

/** A random pause that grows with the attempt, so that competing instances spread out. */
function pause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, attempt * 2)));
}

async function collect(kv: Deno.Kv, prefix: Deno.KvKey): Promise<Deno.KvEntry<unknown>[]> {
  return await whileBusy(async () => {
    const entries: Deno.KvEntry<unknown>[] = [];
    for await (const entry of kv.list({ prefix })) entries.push(entry);
    return entries;
  });
}

/** The encoded size of a key part (Deno KV's tuple encoding: a type byte, NUL escaped). */
function keyPartBytes(part: Deno.KvKeyPart): number {
  if (typeof part === "string") return 2 + utf8Length(part) + part.split("\0").length - 1;
  if (part instanceof Uint8Array) return 2 + part.length + part.filter((b) => b === 0).length;
  if (typeof part === "number") return 9;
  if (typeof part === "bigint") {
    return 2 + Math.ceil((part < 0n ? -part : part).toString(16).length / 2);
  }
  return 1; // A boolean (a symbol cannot be stored).
}

function keyBytes(key: Deno.KvKey): number {
  return key.reduce<number>((n, part) => n + keyPartBytes(part), 0);
}

function isHead(value: unknown): value is Head {
  if (value === null || typeof value !== "object") return false;
  const head = value as Record<string, unknown>;
  return typeof head.etag === "string" &&
    (head.data instanceof Uint8Array || typeof head.chunks === "number");
}

function isMarker(value: unknown): value is Marker {
  if (value === null || typeof value !== "object") return false;
  const marker = value as Record<string, unknown>;
  return typeof marker.chunks === "number" && typeof marker.after === "number";
}

function isUsage(value: unknown): value is UserUsage {
  if (value === null || typeof value !== "object") return false;
  const usage = value as Record<string, unknown>;
  return typeof usage.documents === "number" && typeof usage.bytes === "number";
}

/** The UTF-8 length of a stored version (estimated for heads written before it was kept). */
function headBytes(head: Head): number {
  return head.bytes ?? head.data?.length ?? (head.chunks ?? 0) * CHUNK_BYTES;
}

/**
 * A {@linkcode DocumentStore} on a Deno KV database, with atomic compare-and-set on every write,
 * per-user usage kept in the same commits, and reclamation of the chunks of interrupted writes.
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
 * const full = await store.put({ ...key, documentPath: "b" }, "<b/>", {
 *   quota: { maxDocuments: 1, maxBytes: 1_000 },
 * });
 * assertEquals(full.isErr() && full.error._tag, "QuotaExceeded");
 * kv.close();
 * ```
 */
export class KvStore implements DocumentStore {
  readonly #kv: Deno.Kv;
  readonly #prefix: readonly Deno.KvKeyPart[];
  readonly #prefixBytes: number;
  readonly #abandonedWriteMs: number;
  readonly #reclaimIntervalMs: number;
  #nextReclaim = 0;
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
   * @param options The key prefix and the reclamation timing.
   */
  constructor(kv: Deno.Kv, options: KvStoreOptions = {}) {
    this.#kv = kv;
    this.#prefix = [...(options.prefix ?? ["xcap"])];
    this.#prefixBytes = keyBytes(this.#prefix);
    this.#abandonedWriteMs = Math.max(0, options.abandonedWriteMs ?? 600_000);
    this.#reclaimIntervalMs = Math.max(0, options.reclaimIntervalMs ?? 60_000);
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

  #markerKey(key: DocumentKey, etag: string): Deno.KvKey {
    return [...this.#prefix, "orphan", key.auid, key.tree, key.xui ?? "", key.documentPath, etag];
  }

  /**
   * In a commit that replaces or deletes a version of `old` chunks: delete them in it (`now`,
   * when they fit), or mark them for reclamation right after it.
   */
  #releaseChunks(
    op: Deno.AtomicOperation,
    key: DocumentKey,
    etag: string,
    old: number,
    now: boolean,
  ): void {
    if (now) {
      const prefix = this.#chunkPrefix(key, etag);
      for (let i = 0; i < old; i++) op.delete([...prefix, i]);
    } else {
      op.set(this.#markerKey(key, etag), { chunks: old, after: 0 });
    }
  }

  #usageKey(key: DocumentKey): Deno.KvKey | undefined {
    return key.tree === "users" ? [...this.#prefix, "usage", key.xui ?? ""] : undefined;
  }

  /** `KeyTooLong` when the longest key of this document (a chunk key) would not fit. */
  #tooLong(key: DocumentKey): KeyTooLongError | undefined {
    const longest = keyBytes([...this.#chunkPrefix(key, ETAG_PLACEHOLDER), 0]);
    if (longest <= MAX_KEY_BYTES) return undefined;
    const name = keyPartBytes(key.xui ?? "") + keyPartBytes(key.documentPath) - 4;
    return Object.freeze({
      _tag: "KeyTooLong",
      message: `The XUI and document path take ${name} bytes, too many for a Deno KV key: ` +
        `${longest} bytes, more than ${MAX_KEY_BYTES}`,
    });
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

  #forget(key: DocumentKey): void {
    const id = formatDocumentKey(key);
    const old = this.#texts.get(id);
    if (old === undefined) return;
    this.#texts.delete(id);
    this.#textCharacters -= old.text.length;
  }

  /**
   * Read a document.
   *
   * @param key The document.
   * @returns The document, `undefined` when it does not exist, or `KeyTooLong`;
   * `StoreUnavailable` when other writers keep changing it while it is read.
   */
  get(key: DocumentKey): ResultAsync<StoredDocument | undefined, DocumentStoreError> {
    return new ResultAsync(this.#get(key));
  }

  async #get(key: DocumentKey): Promise<Result<StoredDocument | undefined, DocumentStoreError>> {
    const tooLong = this.#tooLong(key);
    if (tooLong !== undefined) return err(tooLong);
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
      return busy(`Cannot read ${formatDocumentKey(key)}`, "it keeps changing while read");
    } catch (e) {
      return failure(`Cannot read ${formatDocumentKey(key)}`, e);
    }
  }

  /**
   * Create or replace a document, if it is in the expected state and within the quota.
   *
   * @param key The document.
   * @param text The new text.
   * @param options The expected current state and the user's quota.
   * @returns The stored document with its new entity-tag, or `EtagMismatch`, `QuotaExceeded`,
   * `KeyTooLong`; `StoreUnavailable` when other writers keep winning.
   */
  put(
    key: DocumentKey,
    text: string,
    options: WriteOptions = {},
  ): ResultAsync<StoredDocument, DocumentStoreError> {
    return new ResultAsync(this.#put(key, text, options));
  }

  async #put(
    key: DocumentKey,
    text: string,
    options: WriteOptions,
  ): Promise<Result<StoredDocument, DocumentStoreError>> {
    const tooLong = this.#tooLong(key);
    if (tooLong !== undefined) return err(tooLong);
    const expected = options.expectedEtag;
    const etag = createEntityTag();
    const bytes = ENCODER.encode(text);
    const count = bytes.length <= INLINE_MAX_BYTES ? 0 : Math.ceil(bytes.length / CHUNK_BYTES);
    const head: Head = count === 0
      ? { etag, data: bytes, bytes: bytes.length }
      : { etag, chunks: count, bytes: bytes.length };
    const chunkKey = (i: number): Deno.KvKey => [...this.#chunkPrefix(key, etag), i];
    const chunk = (i: number) => bytes.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES);
    // Up to CHUNKS_PER_COMMIT chunks go into the same commit as the head (one transaction);
    // larger documents announce their chunk set with a marker and write the chunks first.
    const together = count <= CHUNKS_PER_COMMIT;
    const headKey = this.#headKey(key);
    const usageKey = this.#usageKey(key);
    const markerKey = this.#markerKey(key, etag);
    let marker: string | undefined;
    const abandon = async () => {
      if (marker !== undefined) await this.#reclaimSet(key, etag, count).catch(() => {});
    };
    // Another instance took the chunks over as abandoned: they are gone, or going.
    const taken = () =>
      failure(
        `Cannot write ${formatDocumentKey(key)}`,
        `the write took longer than ${this.#abandonedWriteMs} ms and its chunks were reclaimed`,
      );
    try {
      if (!together) {
        const after = Date.now() + this.#abandonedWriteMs;
        const announced = await whileBusy(() =>
          this.#kv.atomic().set(markerKey, { chunks: count, after } satisfies Marker).commit()
        );
        if (!announced.ok) throw new Error("the chunk set could not be announced");
        marker = announced.versionstamp;
        for (let first = 0; first < count; first += CHUNKS_PER_COMMIT) {
          // Each chunk commit checks the marker too: once another instance has taken the set
          // over, no chunk can be added behind its back.
          const result = await whileBusy(() => {
            const op = this.#kv.atomic().check({ key: markerKey, versionstamp: marker! });
            for (let i = first; i < Math.min(count, first + CHUNKS_PER_COMMIT); i++) {
              op.set(chunkKey(i), chunk(i));
            }
            return op.commit();
          });
          if (!result.ok) return taken();
        }
      }
      for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
        if (attempt > 0) await pause(attempt);
        const keys = [headKey, ...(usageKey === undefined ? [] : [usageKey])];
        if (marker !== undefined) keys.push(markerKey);
        const entries = await whileBusy(() => this.#kv.getMany(keys));
        const current = entries[0]!;
        const usageEntry = usageKey === undefined ? undefined : entries[1]!;
        if (marker !== undefined && entries[entries.length - 1]!.versionstamp !== marker) {
          return taken();
        }
        const currentHead = isHead(current.value) ? current.value : undefined;
        if (expected !== undefined && expected !== (currentHead?.etag ?? null)) {
          await abandon();
          return mismatch(key, expected, currentHead?.etag);
        }
        let usage: UserUsage | undefined;
        if (usageEntry !== undefined) {
          const before = isUsage(usageEntry.value) ? usageEntry.value : NO_USAGE;
          usage = nextUsage(
            before,
            currentHead === undefined ? undefined : headBytes(currentHead),
            bytes.length,
          );
          const exceeded = quotaExceeded(key, before, usage, options.quota);
          if (exceeded !== undefined) {
            await abandon();
            return err(exceeded);
          }
        }
        const old = currentHead?.chunks ?? 0;
        // The old version's chunks go in the same commit when they fit in it; otherwise the
        // commit marks them for reclamation, and they are deleted right after.
        const dropOld = old > 0 && old <= CHUNKS_PER_COMMIT;
        const result = await whileBusy(() => {
          const op = this.#kv.atomic()
            .check({ key: headKey, versionstamp: current.versionstamp })
            .set(headKey, head);
          if (usageKey !== undefined && usageEntry !== undefined && usage !== undefined) {
            op.check({ key: usageKey, versionstamp: usageEntry.versionstamp }).set(usageKey, usage);
          }
          if (marker !== undefined) {
            op.check({ key: markerKey, versionstamp: marker }).delete(markerKey);
          }
          for (let i = 0; together && i < count; i++) op.set(chunkKey(i), chunk(i));
          if (old > 0) this.#releaseChunks(op, key, currentHead!.etag, old, dropOld);
          return op.commit();
        });
        if (result.ok) {
          marker = undefined;
          if (old > 0 && !dropOld) await this.#reclaimSet(key, currentHead!.etag, old);
          await this.#reclaimNowAndThen();
          return ok(this.#remember(key, text, etag));
        }
        // Another writer changed the head, the usage or the marker between our read and our
        // commit: read again (a conditional write then finds out whether it lost).
      }
      await abandon();
      return busy(`Cannot write ${formatDocumentKey(key)}`, "too many concurrent writers");
    } catch (e) {
      await abandon();
      return failure(`Cannot write ${formatDocumentKey(key)}`, e);
    }
  }

  /**
   * Delete a document, if it is in the expected state.
   *
   * @param key The document.
   * @param options The expected current state.
   * @returns Whether a document was deleted, or `EtagMismatch`, `KeyTooLong`;
   * `StoreUnavailable` when other writers keep winning.
   */
  delete(key: DocumentKey, options: WriteOptions = {}): ResultAsync<boolean, DocumentStoreError> {
    return new ResultAsync(this.#delete(key, options.expectedEtag));
  }

  async #delete(
    key: DocumentKey,
    expected: string | null | undefined,
  ): Promise<Result<boolean, DocumentStoreError>> {
    const tooLong = this.#tooLong(key);
    if (tooLong !== undefined) return err(tooLong);
    const headKey = this.#headKey(key);
    const usageKey = this.#usageKey(key);
    try {
      for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
        if (attempt > 0) await pause(attempt);
        const keys = [headKey, ...(usageKey === undefined ? [] : [usageKey])];
        const entries = await whileBusy(() => this.#kv.getMany(keys));
        const current = entries[0]!;
        const usageEntry = usageKey === undefined ? undefined : entries[1]!;
        const currentHead = isHead(current.value) ? current.value : undefined;
        if (expected !== undefined && expected !== (currentHead?.etag ?? null)) {
          return mismatch(key, expected, currentHead?.etag);
        }
        if (current.versionstamp === null) return ok(false);
        const old = currentHead?.chunks ?? 0;
        const dropOld = old > 0 && old <= CHUNKS_PER_COMMIT;
        const result = await whileBusy(() => {
          const op = this.#kv.atomic()
            .check({ key: headKey, versionstamp: current.versionstamp })
            .delete(headKey);
          if (usageKey !== undefined && usageEntry !== undefined) {
            const before = isUsage(usageEntry.value) ? usageEntry.value : NO_USAGE;
            const usage = nextUsage(
              before,
              currentHead === undefined ? 0 : headBytes(currentHead),
              undefined,
            );
            op.check({ key: usageKey, versionstamp: usageEntry.versionstamp });
            if (usage.documents === 0) op.delete(usageKey);
            else op.set(usageKey, usage);
          }
          if (old > 0) this.#releaseChunks(op, key, currentHead!.etag, old, dropOld);
          return op.commit();
        });
        if (result.ok) {
          this.#forget(key);
          if (old > 0 && !dropOld) await this.#reclaimSet(key, currentHead!.etag, old);
          await this.#reclaimNowAndThen();
          return ok(true);
        }
      }
      return busy(`Cannot delete ${formatDocumentKey(key)}`, "too many concurrent writers");
    } catch (e) {
      return failure(`Cannot delete ${formatDocumentKey(key)}`, e);
    }
  }

  /**
   * What the documents of one user's tree add up to, as counted in the user's usage entry.
   *
   * @param xui The user's XUI.
   * @returns The user's document count and bytes (zero for a user without documents).
   */
  usage(xui: string): ResultAsync<UserUsage, DocumentStoreError> {
    const read = async (): Promise<Result<UserUsage, DocumentStoreError>> => {
      try {
        const entry = await whileBusy(() => this.#kv.get([...this.#prefix, "usage", xui]));
        return ok(isUsage(entry.value) ? entry.value : NO_USAGE);
      } catch (e) {
        return failure(`Cannot read the usage of ${JSON.stringify(xui)}`, e);
      }
    };
    return new ResultAsync(read());
  }

  /**
   * Delete the chunk sets of interrupted writes: those of writers that died (or stalled past
   * `abandonedWriteMs`) between writing chunks and committing the head, and those a committed
   * write or delete could not remove itself. Safe while other instances write: a set is only
   * taken once its marker's deadline has passed, and taking it makes its writer's head commit
   * fail. Writes run this at most every `reclaimIntervalMs` on their own; call it at start-up
   * or from a timer to reclaim sooner.
   *
   * @returns How many chunk sets were deleted.
   *
   * @example Usage (run with --unstable-kv)
   * ```ts
   * import { KvStore } from "@xcap/xcap/server";
   * import { assertEquals } from "@std/assert";
   *
   * const kv = await Deno.openKv(":memory:");
   * const store = new KvStore(kv);
   * assertEquals((await store.reclaimOrphans())._unsafeUnwrap(), 0);
   * kv.close();
   * ```
   */
  reclaimOrphans(): ResultAsync<number, DocumentStoreError> {
    const run = async (): Promise<Result<number, DocumentStoreError>> => {
      try {
        return ok(await this.#reclaimExpired());
      } catch (e) {
        return failure("Cannot reclaim the chunks of interrupted writes", e);
      }
    };
    return new ResultAsync(run());
  }

  /** Reclaim on a write, at most every `reclaimIntervalMs` (best effort). */
  async #reclaimNowAndThen(): Promise<void> {
    const now = Date.now();
    if (now < this.#nextReclaim) return;
    this.#nextReclaim = now + this.#reclaimIntervalMs;
    await this.#reclaimExpired().catch(() => {});
  }

  async #reclaimExpired(): Promise<number> {
    const markers = [...this.#prefix, "orphan"];
    let reclaimed = 0;
    for (const entry of await collect(this.#kv, markers)) {
      const value = entry.value;
      const parts = entry.key.slice(markers.length);
      const [auid, tree, xui, documentPath, etag] = parts;
      if (
        !isMarker(value) || parts.length !== 5 || typeof auid !== "string" ||
        (tree !== "users" && tree !== "global") || typeof xui !== "string" ||
        typeof documentPath !== "string" || typeof etag !== "string"
      ) {
        continue; // Not ours to interpret.
      }
      if (value.after > Date.now()) continue;
      if (value.after > 0) {
        // A writer's deadline passed: take the set over first, so that its head commit (which
        // checks this marker) fails rather than name chunks about to be deleted.
        const taken = await whileBusy(() =>
          this.#kv.atomic().check(entry).set(entry.key, { chunks: value.chunks, after: 0 })
            .commit()
        );
        if (!taken.ok) continue; // The write committed, or another instance took it.
      }
      const key: DocumentKey = {
        auid,
        tree,
        ...(tree === "users" ? { xui } : {}),
        documentPath,
      };
      await this.#reclaimSet(key, etag, value.chunks);
      reclaimed++;
    }
    return reclaimed;
  }

  /** Delete the chunks of a set no head names, in batches that fit a commit, then its marker. */
  async #reclaimSet(key: DocumentKey, etag: string, count: number): Promise<void> {
    const prefix = this.#chunkPrefix(key, etag);
    const perCommit = Math.max(
      1,
      Math.min(500, Math.floor(MAX_COMMIT_KEY_BYTES / keyBytes([...prefix, 0]))),
    );
    for (let first = 0; first < count; first += perCommit) {
      await whileBusy(() => {
        const op = this.#kv.atomic();
        for (let i = first; i < Math.min(count, first + perCommit); i++) op.delete([...prefix, i]);
        return op.commit();
      });
    }
    await whileBusy(() => this.#kv.delete(this.#markerKey(key, etag)));
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
