/**
 * An embeddable XCAP server (RFC 4825): a fetch handler with the RFC's semantics, stores behind
 * one compare-and-set interface (in memory, or Deno KV for any number of instances; PostgreSQL
 * in Kamailio's `xcap` table from `@xcap/xcap/server/postgres`), Digest and Basic
 * authentication with per-user trees, application usage validation and the generated
 * `xcap-caps` document; plus `startXcapServer` to run it on `serveHttp1`, a hardened HTTP/1.1
 * server (connection limit, timeouts, graceful shutdown).
 *
 * `createXcapHandler` and everything it uses run on Web APIs only (Deno, Deno Deploy, other
 * edge runtimes); `KvStore`, `openKvStore`, `serveHttp1` and `startXcapServer` need Deno (Deno KV needs
 * `--unstable-kv` or `"unstable": ["kv"]` in deno.json). The PostgreSQL store is a separate entry,
 * `@xcap/xcap/server/postgres`, so its driver (the npm package `postgres`) loads only where it is
 * used. `deno task serve` runs `serve.ts` as a program.
 *
 * Neighbours: `@xcap/xcap` (the client; its tests and demos run against this server),
 * `@xcap/xcap/usages` (the typed usages whose schemas and constraints the server enforces),
 * `@xcap/xcap/xml` (the engine that parses and edits stored documents).
 *
 * @example An in-process server for a test or a demo
 * ```ts
 * import { startXcapServer } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const server = (await startXcapServer({ port: 0 }))._unsafeUnwrap();
 * const response = await fetch(`${server.xcapRoot}/xcap-caps/global/index`);
 * assertEquals(response.status, 200);
 * assertEquals(response.headers.get("content-type"), "application/xcap-caps+xml");
 * await response.body?.cancel();
 * await server.close();
 * ```
 *
 * @example The handler on its own
 * ```ts
 * import { createXcapHandler, MemoryStore } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const handler = createXcapHandler({ store: new MemoryStore(), xcapRootPath: "/xcap" });
 * const response = await handler(
 *   new Request("http://127.0.0.1/xcap/resource-lists/users/sip:bob@example.com/index"),
 * );
 * assertEquals(response.status, 404);
 * ```
 *
 * @module
 */
export {
  createXcapHandler,
  type DocumentCacheOptions,
  type ServerLimits,
  type XcapHandlerOptions,
} from "./handler.ts";
export {
  type ServerStartError,
  startXcapServer,
  type StartXcapServerOptions,
  type XcapServer,
} from "./serve.ts";
export {
  type Http1ListenError,
  type Http1Server,
  type Http1ServerOptions,
  serveHttp1,
} from "./http1.ts";
export { type CorsOptions, withCors } from "./cors.ts";
export {
  createEntityTag,
  type DocumentKey,
  type DocumentStore,
  type DocumentStoreError,
  type EtagMismatchError,
  type KeyTooLongError,
  MemoryStore,
  type QuotaExceededError,
  type StoredDocument,
  type StoreFailureError,
  type StoreUnavailableError,
  type UserQuota,
  type UserUsage,
  type WriteOptions,
} from "./store.ts";
export { KvStore, type KvStoreOptions, openKvStore, type OpenKvStoreOptions } from "./kv_store.ts";
export type {
  AuthenticationScheme,
  DigestAlgorithm,
  PasswordLookup,
  ServerAuthenticationOptions,
  StoredCredentials,
} from "./auth.ts";
export {
  parseUsersFile,
  type UserCredential,
  usersAuthentication,
  type UsersAuthenticationOptions,
} from "./users.ts";
export {
  DEFAULT_SERVER_APPLICATIONS,
  type DocumentValidator,
  type ElementName,
  type ServerApplicationUsage,
  uniquenessValidator,
} from "./usages.ts";
