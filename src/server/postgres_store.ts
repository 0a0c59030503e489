/**
 * A {@linkcode DocumentStore} on PostgreSQL that keeps documents in Kamailio's `xcap` table, so
 * any number of server instances share one database, and Kamailio's `xcap_server` and presence
 * modules (`integrated_xcap_server`) read what they write, and the other way round.
 *
 * Edge file: the driver is the npm package `postgres` (Postgres.js 4, through Deno's Node.js
 * compatibility; 3.4 crashed the process when the database restarted during a transaction); the
 * handler and the other stores do not load it.
 *
 * The table is Kamailio 5.6's (`version` 4), created with Kamailio's own definition when missing
 * (with the `version` table and its row, so Kamailio starts on the same database):
 *
 * ```sql
 * CREATE TABLE xcap (
 *     id SERIAL PRIMARY KEY NOT NULL,
 *     username VARCHAR(64) NOT NULL,
 *     domain VARCHAR(64) NOT NULL,
 *     doc BYTEA NOT NULL,
 *     doc_type INTEGER NOT NULL,
 *     etag VARCHAR(128) NOT NULL,
 *     source INTEGER NOT NULL,
 *     doc_uri VARCHAR(255) NOT NULL,
 *     port INTEGER NOT NULL,
 *     CONSTRAINT xcap_doc_uri_idx UNIQUE (doc_uri)
 * );
 * ```
 *
 * Rows are written the way Kamailio writes them (see `_xcap_table.ts`): `doc_uri` is the decoded
 * document path under the XCAP root, `username`/`domain` the parts of a `sip:user@host` XUI,
 * `doc_type` Kamailio's number for the AUID, `etag` without quotes, `source` and `port` 0; `doc`
 * holds the document's UTF-8 bytes exactly (a byte order mark included), so `get` returns the
 * text `put` stored. A document is found by its `doc_uri` alone, so rows Kamailio wrote are read,
 * replaced and deleted here too. A document whose `doc_uri` would be longer than the column's 255
 * characters is `KeyTooLong`.
 *
 * Compare-and-set: every write runs in one transaction that locks the document's row
 * (`SELECT … FOR UPDATE`), compares its entity-tag and writes; creating a row that another writer
 * created meanwhile fails on the `UNIQUE (doc_uri)` constraint instead of overwriting it. So
 * writers on any number of instances never lose an update. Per-user usage (documents and bytes
 * written through this store) lives in a second table, `xcap_usage`, whose row for the user is
 * locked first in the same transaction: quotas hold across instances.
 *
 * Connections come from a pool (`maxConnections`); a connection the database closed (a restart)
 * is replaced on the next call. Connecting gives up after `connectTimeoutSeconds`, and a whole
 * call after `operationTimeoutMs`: while the database is down or does not answer, calls return
 * `StoreUnavailable` (the handler answers 503 with `Retry-After`) instead of waiting.
 *
 * @module
 */
import postgres from "npm:postgres@^4.2.0";
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result, ResultAsync } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import {
  createEntityTag,
  type DocumentKey,
  type DocumentStore,
  type DocumentStoreError,
  formatDocumentKey,
  type StoredDocument,
  type UserUsage,
  type WriteOptions,
} from "./store.ts";
import { nextUsage, NO_USAGE, quotaExceeded } from "./_usage.ts";
import {
  DOC_URI_MAX_CHARACTERS,
  normalizeDocUriRoot,
  type XcapRowIdentity,
  xcapRowIdentity,
} from "./_xcap_table.ts";

/** Options of {@linkcode PostgresStore} and {@linkcode openPostgresStore}. */
export interface PostgresStoreOptions {
  /**
   * The XCAP root path that `doc_uri` starts with. Kamailio puts its `xcap_root` parameter
   * there (default `/xcap-root/`): use the same value, or Kamailio and this store will not find
   * each other's documents. @default "/xcap-root"
   */
  readonly xcapRootPath?: string;
  /**
   * The table (Kamailio's `xcap_table` parameter); the usage table is called the same with
   * `_usage` appended. Lower-case letters, digits and `_`, at most 32 characters (the length of
   * `version.table_name`). @default "xcap"
   */
  readonly table?: string;
  /** Most connections in the pool. @default 10 */
  readonly maxConnections?: number;
  /** Give up connecting after this many seconds. @default 5 */
  readonly connectTimeoutSeconds?: number;
  /**
   * Give up on one call (waiting for a connection included) after this many milliseconds, with
   * `StoreUnavailable`. A write that gave up may still commit when the database wakes up. @default 15_000
   */
  readonly operationTimeoutMs?: number;
  /** The `retryAfterSeconds` of `StoreUnavailable` (the HTTP `Retry-After`). @default 2 */
  readonly retryAfterSeconds?: number;
  /** Most characters of document text kept decoded in memory, for GETs of unchanged documents. @default 8_388_608 */
  readonly maxCachedCharacters?: number;
}

/** Raised inside a transaction to roll it back and return an error value. */
class Abort {
  constructor(readonly error: DocumentStoreError) {}
}

/** The columns of a document row a write needs. */
interface CurrentRow {
  readonly id: number;
  readonly etag: string;
  readonly bytes: number;
}

const ENCODER = new TextEncoder();
/** Fatal: bytes that are not UTF-8 (Kamailio stores whatever it was sent) are an error, not U+FFFD. */
const DECODER = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** How often a write starts over after another writer created the same row first. */
const WRITE_ATTEMPTS = 8;
/** `version.table_version` of Kamailio's `xcap` table. */
const XCAP_TABLE_VERSION = 4;
/** An arbitrary key for `pg_advisory_xact_lock`, so instances starting together create the schema once. */
const SCHEMA_LOCK = 0x78636170;

/** Connection errors (Node.js socket codes, Postgres.js codes) that mean "not reachable now". */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ENOTCONN",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);

/**
 * Whether an error means the database cannot be reached now: a socket error, or SQLSTATE class
 * 08 (connection exception), 57P01–57P03 (shutting down, crashed, starting up), 53300 (too many
 * connections).
 */
function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return false;
  return UNREACHABLE_CODES.has(code) || code.startsWith("08") || /^57P0[123]$/.test(code) ||
    code === "53300";
}

function reasonOf(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === "string" && !cause.message.includes(code)
      ? `${cause.message} (${code})`
      : cause.message;
  }
  return String(cause);
}

function quote(etag: string): string {
  return `"${etag}"`;
}

function unquote(etag: string): string {
  return etag.length >= 2 && etag.startsWith('"') && etag.endsWith('"') ? etag.slice(1, -1) : etag;
}

/**
 * A {@linkcode DocumentStore} on a PostgreSQL database, in Kamailio's `xcap` table. Creating it
 * connects nothing: the pool connects, and creates the tables when they are missing, at the
 * first call (and again after a call that found the database down). {@linkcode openPostgresStore}
 * does that at once and reports a database it cannot use. Call {@linkcode PostgresStore.close}
 * when done.
 *
 * @example Usage (needs a database; the tables are created when missing)
 * ```ts ignore
 * import { PostgresStore } from "@xcap/xcap/server/postgres";
 * import { createXcapHandler } from "@xcap/xcap/server";
 *
 * const store = new PostgresStore("postgres://xcap@127.0.0.1:5432/xcap");
 * const handler = createXcapHandler({ store });
 * // ... Deno.serve(handler) ...
 * await store.close();
 * ```
 *
 * @example A database that is down: 503 with Retry-After, not a hang
 * ```ts
 * import { PostgresStore } from "@xcap/xcap/server/postgres";
 * import { createXcapHandler } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * // Nothing listens on port 9 of 127.0.0.1.
 * const store = new PostgresStore("postgres://xcap@127.0.0.1:9/xcap", { retryAfterSeconds: 3 });
 * const handler = createXcapHandler({ store });
 * const response = await handler(
 *   new Request("http://127.0.0.1/xcap-root/resource-lists/users/sip:a@example.com/index"),
 * );
 * assertEquals(response.status, 503);
 * assertEquals(response.headers.get("retry-after"), "3");
 * await response.body?.cancel();
 * await store.close();
 * ```
 */
export class PostgresStore implements DocumentStore {
  /** The pool; `undefined` when the options or the URL were refused (see `#problem`). */
  readonly #pool: postgres.Sql | undefined;
  /** Why this store cannot work: every call returns it as `StoreFailure`. */
  readonly #problem: string | undefined;
  readonly #root: string;
  readonly #table: string;
  readonly #usageTable: string;
  readonly #operationTimeoutMs: number;
  readonly #retryAfterSeconds: number;
  readonly #maxCachedCharacters: number;
  readonly #texts = new Map<string, StoredDocument>();
  #cachedCharacters = 0;
  #schema: Promise<Result<void, DocumentStoreError>> | undefined;
  #closed = false;

  /**
   * A store on the database at `url` (`postgres://user:password@host:port/database`; the
   * `PG*` environment variables fill in what it leaves out).
   *
   * @param url The connection URL.
   * @param options Root path, table, pool and timeouts. An option out of range makes every call
   * return `StoreFailure` saying which ({@linkcode openPostgresStore} returns it at once).
   */
  constructor(url: string, options: PostgresStoreOptions = {}) {
    this.#problem = optionsProblem(options);
    const valid = this.#problem === undefined;
    this.#root = (valid && normalizeDocUriRoot(options.xcapRootPath ?? "/xcap-root")) || "";
    this.#table = valid ? options.table ?? "xcap" : "xcap";
    this.#usageTable = `${this.#table}_usage`;
    this.#operationTimeoutMs = valid ? options.operationTimeoutMs ?? 15_000 : 15_000;
    this.#retryAfterSeconds = valid ? options.retryAfterSeconds ?? 2 : 2;
    this.#maxCachedCharacters = valid ? options.maxCachedCharacters ?? 8_388_608 : 0;
    if (!valid) return;
    try {
      this.#pool = postgres(url, {
        max: options.maxConnections ?? 10,
        connect_timeout: options.connectTimeoutSeconds ?? 5,
        // Reconnect soon after the database is back: at most 1 s between attempts (the default
        // grows to 20 s after repeated failures).
        backoff: (attempt: number) => Math.min(0.05 * 2 ** attempt, 1),
        // No array or custom types here: skip the type query on every new connection.
        fetch_types: false,
        onnotice: () => {},
        connection: { application_name: "xcap-server" },
      });
    } catch {
      // Not the driver's message: it repeats the URL, password included.
      this.#problem = "Cannot use the connection URL: it is not a valid postgres:// URL";
    }
  }

  /** The pool, once `#guard` has made sure there is one. */
  get #sql(): postgres.Sql {
    return this.#pool!;
  }

  /**
   * Close the pool: wait up to 5 s for calls in flight, then close every connection. Later
   * calls return `StoreFailure`.
   */
  async close(): Promise<void> {
    this.#closed = true;
    try {
      await this.#pool?.end({ timeout: 5 });
    } catch {
      // Already closed.
    }
  }

  /**
   * Connect and create the tables when they are missing; nothing else happens when they exist.
   * Every call does this first, so calling it is only needed to learn early whether the
   * database can be used.
   *
   * @returns Nothing, or `StoreUnavailable` (cannot connect) or `StoreFailure` (for example an
   * existing table that is not Kamailio's version 4).
   */
  ready(): ResultAsync<void, DocumentStoreError> {
    return new ResultAsync(this.#guard("Cannot prepare the tables", () => this.#ensureSchema()));
  }

  /**
   * Read a document.
   *
   * @param key The document.
   * @returns The document, `undefined` when it does not exist, or `KeyTooLong` (its `doc_uri`
   * would be longer than 255 characters), `StoreUnavailable`, `StoreFailure`.
   */
  get(key: DocumentKey): ResultAsync<StoredDocument | undefined, DocumentStoreError> {
    return new ResultAsync(
      this.#guard(`Cannot read ${formatDocumentKey(key)}`, () => this.#get(key)),
    );
  }

  async #get(key: DocumentKey): Promise<Result<StoredDocument | undefined, DocumentStoreError>> {
    const row = this.#identity(key);
    if (row.isErr()) return err(row.error);
    const { docUri } = row.value;
    const known = this.#texts.get(docUri);
    // The document's bytes only travel when they differ from the copy kept here.
    const rows = await this.#sql<{ etag: string; doc: Uint8Array | null }[]>`
      SELECT etag, CASE WHEN etag = ${known === undefined ? "" : unquote(known.etag)}
        THEN NULL ELSE doc END AS doc
      FROM ${this.#sql(this.#table)} WHERE doc_uri = ${docUri}`;
    const found = rows[0];
    if (found === undefined) return ok(undefined);
    if (found.doc === null && known !== undefined) return ok(known);
    if (found.doc === null) return this.#failure(`Cannot read ${docUri}`, "the row has no doc");
    let text: string;
    try {
      text = DECODER.decode(found.doc);
    } catch {
      return this.#failure(
        `Cannot read ${docUri}`,
        "its doc is not UTF-8 (written by another program in another encoding?)",
      );
    }
    return ok(this.#remember(docUri, text, quote(found.etag)));
  }

  /**
   * Create or replace a document, if it is in the expected state.
   *
   * @param key The document.
   * @param text The new text.
   * @param options The expected current state and the user's quota.
   * @returns The stored document with its new entity-tag, or `EtagMismatch`, `QuotaExceeded`,
   * `KeyTooLong`, `StoreUnavailable`, `StoreFailure`.
   */
  put(
    key: DocumentKey,
    text: string,
    options: WriteOptions = {},
  ): ResultAsync<StoredDocument, DocumentStoreError> {
    return new ResultAsync(
      this.#guard(`Cannot write ${formatDocumentKey(key)}`, () => this.#put(key, text, options)),
    );
  }

  async #put(
    key: DocumentKey,
    text: string,
    options: WriteOptions,
  ): Promise<Result<StoredDocument, DocumentStoreError>> {
    const identity = this.#identity(key);
    if (identity.isErr()) return err(identity.error);
    const row = identity.value;
    const doc = ENCODER.encode(text);
    const expected = options.expectedEtag;
    for (let attempt = 1;; attempt++) {
      const etag = createEntityTag();
      try {
        await this.#sql.begin(async (tx) => {
          // Sent together (one round trip), executed in this order: the user's usage row first,
          // then the document's, in every transaction, so two writers never wait on each other
          // in opposite orders.
          const [usage, current] = await Promise.all([
            key.tree === "users" ? this.#lockUsage(tx, key.xui ?? "", true) : undefined,
            this.#lockRow(tx, row.docUri),
          ]);
          this.#check(key, expected, current);
          const next = usage === undefined
            ? undefined
            : nextUsage(usage, current?.bytes, doc.length);
          if (usage !== undefined && next !== undefined) {
            const exceeded = quotaExceeded(key, usage, next, options.quota);
            if (exceeded !== undefined) throw new Abort(exceeded);
          }
          await Promise.all([
            current !== undefined
              ? tx`UPDATE ${tx(this.#table)}
                  SET doc = ${doc}, etag = ${unquote(etag)}, source = 0, port = 0
                  WHERE id = ${current.id}`.execute()
              : tx`INSERT INTO ${tx(this.#table)}
                    (username, domain, doc, doc_type, etag, source, doc_uri, port)
                  VALUES (${row.username}, ${row.domain}, ${doc}, ${row.docType},
                    ${unquote(etag)}, 0, ${row.docUri}, 0)`.execute(),
            next === undefined ? undefined : this.#setUsage(tx, key.xui ?? "", next),
          ]);
        });
        return ok(this.#remember(row.docUri, text, etag));
      } catch (e) {
        if (e instanceof Abort) return err(e.error);
        // Another writer created the row between our look and our insert (the user's usage row
        // keeps this store's writers of one user apart; Kamailio and global documents can race).
        if (!isUniqueViolation(e)) throw e;
        if (expected === null) return mismatch(key, expected, "a document created concurrently");
        if (attempt >= WRITE_ATTEMPTS) {
          return this.#failure(`Cannot write ${row.docUri}`, "too many concurrent writers");
        }
      }
    }
  }

  /**
   * Delete a document, if it is in the expected state.
   *
   * @param key The document.
   * @param options The expected current state.
   * @returns Whether a document was deleted, or `EtagMismatch`, `KeyTooLong`,
   * `StoreUnavailable`, `StoreFailure`.
   */
  delete(key: DocumentKey, options: WriteOptions = {}): ResultAsync<boolean, DocumentStoreError> {
    return new ResultAsync(
      this.#guard(`Cannot delete ${formatDocumentKey(key)}`, () => this.#delete(key, options)),
    );
  }

  async #delete(
    key: DocumentKey,
    options: WriteOptions,
  ): Promise<Result<boolean, DocumentStoreError>> {
    const identity = this.#identity(key);
    if (identity.isErr()) return err(identity.error);
    const row = identity.value;
    try {
      const deleted = await this.#sql.begin(async (tx) => {
        const [usage, current] = await Promise.all([
          key.tree === "users" ? this.#lockUsage(tx, key.xui ?? "", false) : undefined,
          this.#lockRow(tx, row.docUri),
        ]);
        this.#check(key, options.expectedEtag, current);
        if (current === undefined) return false;
        await Promise.all([
          tx`DELETE FROM ${tx(this.#table)} WHERE id = ${current.id}`.execute(),
          usage === undefined
            ? undefined
            : this.#setUsage(tx, key.xui ?? "", nextUsage(usage, current.bytes, undefined)),
        ]);
        return true;
      });
      this.#forget(row.docUri);
      return ok(deleted);
    } catch (e) {
      if (e instanceof Abort) return err(e.error);
      throw e;
    }
  }

  /**
   * What the documents of one user's tree add up to, as this store counted them (documents
   * written by another program, such as Kamailio, are not counted).
   *
   * @param xui The user's XUI.
   * @returns The user's document count and bytes (zero for a user without documents), or
   * `StoreUnavailable`, `StoreFailure`.
   */
  usage(xui: string): ResultAsync<UserUsage, DocumentStoreError> {
    return new ResultAsync(
      this.#guard(`Cannot read the usage of ${JSON.stringify(xui)}`, async () => {
        const rows = await this.#sql<{ documents: string; bytes: string }[]>`
          SELECT documents, bytes FROM ${this.#sql(this.#usageTable)} WHERE xui = ${xui}`;
        const found = rows[0];
        return ok(
          found === undefined
            ? NO_USAGE
            : Object.freeze({ documents: Number(found.documents), bytes: Number(found.bytes) }),
        );
      }),
    );
  }

  /**
   * The user's usage row, locked until the transaction ends; `create` makes it when missing
   * (a write), otherwise a missing row is no usage (a delete has nothing to count down).
   */
  async #lockUsage(
    tx: postgres.TransactionSql,
    xui: string,
    create: boolean,
  ): Promise<UserUsage | undefined> {
    const rows = create
      ? await tx<{ documents: string; bytes: string }[]>`
          INSERT INTO ${tx(this.#usageTable)} (xui) VALUES (${xui})
          ON CONFLICT (xui) DO UPDATE SET xui = EXCLUDED.xui
          RETURNING documents, bytes`.execute()
      : await tx<{ documents: string; bytes: string }[]>`
          SELECT documents, bytes FROM ${tx(this.#usageTable)} WHERE xui = ${xui}
          FOR UPDATE`.execute();
    const found = rows[0];
    return found === undefined
      ? undefined
      : { documents: Number(found.documents), bytes: Number(found.bytes) };
  }

  async #setUsage(tx: postgres.TransactionSql, xui: string, usage: UserUsage): Promise<void> {
    await tx`UPDATE ${tx(this.#usageTable)}
      SET documents = ${usage.documents}, bytes = ${usage.bytes} WHERE xui = ${xui}`.execute();
  }

  /** The document's row, locked until the transaction ends. */
  async #lockRow(tx: postgres.TransactionSql, docUri: string): Promise<CurrentRow | undefined> {
    const rows = await tx<{ id: number; etag: string; bytes: number }[]>`
      SELECT id, etag, octet_length(doc) AS bytes FROM ${tx(this.#table)}
      WHERE doc_uri = ${docUri} FOR UPDATE`.execute();
    return rows[0];
  }

  /** Throw `Abort(EtagMismatch)` when the row is not in the expected state. */
  #check(key: DocumentKey, expected: string | null | undefined, current: CurrentRow | undefined) {
    if (expected === undefined) return;
    const found = current === undefined ? null : quote(current.etag);
    if (expected === found) return;
    throw new Abort(
      mismatchError(key, expected, found === null ? "no document" : `entity-tag ${found}`),
    );
  }

  #identity(key: DocumentKey): Result<XcapRowIdentity, DocumentStoreError> {
    const row = xcapRowIdentity(key, this.#root);
    if (!("kind" in row)) return ok(row);
    if (row.kind === "malformed") {
      return this.#failure(`Cannot store ${formatDocumentKey(key)}`, row.message);
    }
    return err(Object.freeze({
      _tag: "KeyTooLong" as const,
      message: `The document's doc_uri ${JSON.stringify(row.docUri)} has ${row.characters} ` +
        `characters; Kamailio's xcap table holds at most ${DOC_URI_MAX_CHARACTERS}`,
    }));
  }

  /** Run a call: schema first, then the call, bounded in time, with every throw made a value. */
  async #guard<T>(
    what: string,
    call: () => Promise<Result<T, DocumentStoreError>>,
  ): Promise<Result<T, DocumentStoreError>> {
    if (this.#problem !== undefined) {
      return this.#failure("Cannot use this PostgreSQL store", this.#problem);
    }
    if (this.#closed) return this.#failure(what, "the store is closed");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.#operationTimeoutMs);
    });
    const run = async (): Promise<Result<T, DocumentStoreError>> => {
      const schema = await this.#schemaReady();
      if (schema.isErr()) return err(schema.error);
      return await call();
    };
    try {
      const outcome = await Promise.race([run(), timeout]);
      if (outcome === "timeout") {
        return this.#unavailable(
          what,
          `PostgreSQL did not answer within ${this.#operationTimeoutMs} ms`,
        );
      }
      return outcome;
    } catch (e) {
      if (isUnreachable(e)) return this.#unavailable(what, e);
      return this.#failure(what, e);
    } finally {
      clearTimeout(timer);
    }
  }

  #schemaReady(): Promise<Result<void, DocumentStoreError>> {
    this.#schema ??= this.#ensureSchema().then(
      (result) => {
        if (result.isErr()) this.#schema = undefined;
        return result;
      },
      (e) => {
        this.#schema = undefined;
        throw e;
      },
    );
    return this.#schema;
  }

  async #ensureSchema(): Promise<Result<void, DocumentStoreError>> {
    const table = this.#table;
    const usage = this.#usageTable;
    return await this.#sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`;
      const [found] = await tx<
        { version: string | null; xcap: string | null; usage: string | null }[]
      >`
        SELECT to_regclass('version')::text AS version, to_regclass(${table})::text AS xcap,
          to_regclass(${usage})::text AS usage`;
      // Kamailio's definitions (standard-create.sql and presence-create.sql of its postgres
      // schema); the names are checked identifiers.
      if (found?.version === null) {
        await tx.unsafe(`CREATE TABLE version (
    id SERIAL PRIMARY KEY NOT NULL,
    table_name VARCHAR(32) NOT NULL,
    table_version INTEGER DEFAULT 0 NOT NULL,
    CONSTRAINT version_table_name_idx UNIQUE (table_name)
)`);
        await tx`INSERT INTO version (table_name, table_version) VALUES ('version', 1)`;
      }
      if (found?.xcap === null) {
        await tx.unsafe(`CREATE TABLE ${table} (
    id SERIAL PRIMARY KEY NOT NULL,
    username VARCHAR(64) NOT NULL,
    domain VARCHAR(64) NOT NULL,
    doc BYTEA NOT NULL,
    doc_type INTEGER NOT NULL,
    etag VARCHAR(128) NOT NULL,
    source INTEGER NOT NULL,
    doc_uri VARCHAR(255) NOT NULL,
    port INTEGER NOT NULL,
    CONSTRAINT ${table}_doc_uri_idx UNIQUE (doc_uri)
)`);
        await tx.unsafe(
          `CREATE INDEX ${table}_account_doc_type_idx ON ${table} (username, domain, doc_type)`,
        );
        await tx.unsafe(
          `CREATE INDEX ${table}_account_doc_type_uri_idx ON ${table} ` +
            "(username, domain, doc_type, doc_uri)",
        );
        await tx.unsafe(
          `CREATE INDEX ${table}_account_doc_uri_idx ON ${table} (username, domain, doc_uri)`,
        );
        await tx`DELETE FROM version WHERE table_name = ${table}`;
        await tx`INSERT INTO version (table_name, table_version)
          VALUES (${table}, ${XCAP_TABLE_VERSION})`;
      } else {
        const [version] = await tx<{ table_version: number }[]>`
          SELECT table_version FROM version WHERE table_name = ${table}`;
        if (version !== undefined && version.table_version !== XCAP_TABLE_VERSION) {
          return this.#failure(
            `Cannot use table ${table}`,
            `the version table says version ${version.table_version}; Kamailio 5.6's is ` +
              `${XCAP_TABLE_VERSION}`,
          );
        }
        // Fails with the missing column's name when the table is not Kamailio's.
        await tx.unsafe(
          `SELECT id, username, domain, doc, doc_type, etag, source, doc_uri, port ` +
            `FROM ${table} LIMIT 0`,
        );
      }
      if (found?.usage === null) {
        await tx.unsafe(`CREATE TABLE ${usage} (
    xui TEXT PRIMARY KEY NOT NULL,
    documents BIGINT DEFAULT 0 NOT NULL,
    bytes BIGINT DEFAULT 0 NOT NULL
)`);
      }
      return ok(undefined);
    });
  }

  #remember(docUri: string, text: string, etag: string): StoredDocument {
    const stored: StoredDocument = Object.freeze({ text, etag });
    this.#forget(docUri);
    if (text.length > this.#maxCachedCharacters) return stored;
    this.#texts.set(docUri, stored);
    this.#cachedCharacters += text.length;
    while (this.#cachedCharacters > this.#maxCachedCharacters) {
      const oldest = this.#texts.entries().next().value;
      if (oldest === undefined) break;
      this.#texts.delete(oldest[0]);
      this.#cachedCharacters -= oldest[1].text.length;
    }
    return stored;
  }

  #forget(docUri: string): void {
    const old = this.#texts.get(docUri);
    if (old === undefined) return;
    this.#texts.delete(docUri);
    this.#cachedCharacters -= old.text.length;
  }

  #failure(message: string, cause: unknown): Result<never, DocumentStoreError> {
    return err(Object.freeze({
      _tag: "StoreFailure" as const,
      message: `${message}: ${reasonOf(cause)}`,
      cause,
    }));
  }

  #unavailable(message: string, cause: unknown): Result<never, DocumentStoreError> {
    return err(Object.freeze({
      _tag: "StoreUnavailable" as const,
      message: `${message}: PostgreSQL is unavailable: ${reasonOf(cause)}`,
      retryAfterSeconds: this.#retryAfterSeconds,
      cause,
    }));
  }
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "23505";
}

function mismatchError(
  key: DocumentKey,
  expected: string | null,
  found: string,
): DocumentStoreError {
  const want = expected === null ? "no document" : `entity-tag ${expected}`;
  return Object.freeze({
    _tag: "EtagMismatch" as const,
    message: `Document ${formatDocumentKey(key)} changed: expected ${want}, found ${found}`,
  });
}

function mismatch(
  key: DocumentKey,
  expected: string | null,
  found: string,
): Result<never, DocumentStoreError> {
  return err(mismatchError(key, expected, found));
}

/** What is wrong with the options, or `undefined`. */
function optionsProblem(options: PostgresStoreOptions): string | undefined {
  const positive = (name: string, value: number | undefined, integer: boolean) =>
    value === undefined ||
      (Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value)))
      ? undefined
      : `Option ${name} must be a positive ${integer ? "whole " : ""}number, not ${value}`;
  if (
    options.xcapRootPath !== undefined && normalizeDocUriRoot(options.xcapRootPath) === undefined
  ) {
    return `Option xcapRootPath ${JSON.stringify(options.xcapRootPath)} must be a path`;
  }
  if (options.table !== undefined && !/^[a-z_][a-z0-9_]{0,31}$/.test(options.table)) {
    return `Option table ${JSON.stringify(options.table)} must be lower-case letters, digits ` +
      "and _, at most 32 characters, not starting with a digit";
  }
  return positive("maxConnections", options.maxConnections, true) ??
    positive("connectTimeoutSeconds", options.connectTimeoutSeconds, false) ??
    positive("operationTimeoutMs", options.operationTimeoutMs, false) ??
    positive("retryAfterSeconds", options.retryAfterSeconds, true) ??
    (options.maxCachedCharacters === undefined ||
        (Number.isInteger(options.maxCachedCharacters) && options.maxCachedCharacters >= 0)
      ? undefined
      : `Option maxCachedCharacters must be a whole number >= 0, not ${options.maxCachedCharacters}`);
}

/**
 * Open a {@linkcode PostgresStore}: connect, and create the tables when they are missing, so that
 * a wrong URL, a wrong password or a table that is not Kamailio's shows at once.
 *
 * @param url The connection URL, e.g. `postgres://xcap:secret@127.0.0.1:5432/xcap`.
 * @param options Root path, table, pool and timeouts.
 * @returns The store, or `StoreUnavailable` (cannot connect) or `StoreFailure` (bad options,
 * refused credentials, an incompatible table).
 *
 * @example Usage
 * ```ts
 * import { openPostgresStore } from "@xcap/xcap/server/postgres";
 * import { assertEquals } from "@std/assert";
 *
 * // A database that cannot be reached (nothing listens on port 9): an error value, at once.
 * const opened = await openPostgresStore("postgres://xcap@127.0.0.1:9/xcap");
 * assertEquals(opened.isErr() && opened.error._tag, "StoreUnavailable");
 * if (opened.isOk()) await opened.value.close();
 * ```
 */
export function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): ResultAsync<PostgresStore, DocumentStoreError> {
  const open = async (): Promise<Result<PostgresStore, DocumentStoreError>> => {
    const store = new PostgresStore(url, options);
    const ready = await store.ready();
    if (ready.isErr()) {
      await store.close();
      return err(ready.error);
    }
    return ok(store);
  };
  return new ResultAsync(open());
}
