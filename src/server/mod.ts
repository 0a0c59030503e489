/**
 * An embeddable XCAP server (RFC 4825): a fetch handler with the RFC's semantics, stores behind
 * one compare-and-set interface (in memory, or Deno KV for any number of instances; PostgreSQL
 * in Kamailio's `xcap` table from `@xcap/xcap/server/postgres`), Digest and Basic
 * authentication with per-user trees, application usage validation and the generated
 * `xcap-caps` document; plus `startXcapServer` to run it on `serveHttp1`, a hardened HTTP/1.1
 * server (connection limit, timeouts, graceful shutdown).
 *
 * `createXcapHandler` and everything it uses run on Web APIs only (Deno, Deno Deploy, other
 * edge runtimes); `KvStore`, `openKvStore`, `serveHttp1` and `startXcapServer` need Deno (Deno
 * KV needs `--unstable-kv` or `"unstable": ["kv"]` in deno.json). The PostgreSQL store is a
 * separate entry, so its driver (the npm package `postgres`) loads only where it is used.
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
export * from "./handler.ts";
export * from "./store.ts";
export * from "./kv_store.ts";
export * from "./auth.ts";
export * from "./usages.ts";
export * from "./caps.ts";
export * from "./http1.ts";
export * from "./serve.ts";
export * from "./users.ts";
export * from "./cors.ts";
