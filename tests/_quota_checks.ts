/**
 * Per-user quota checks that every store must pass (tests/server_quota_test.ts runs them on the
 * memory and Deno KV stores, tests/server_postgres_test.ts on PostgreSQL): the rules on one
 * store, concurrent writers on several instances of one store, and server processes on one
 * database. Helpers only, no tests.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import type { DocumentKey, DocumentStore, MemoryStore, UserQuota } from "../src/server/mod.ts";
import { spawnServer } from "./_server_process.ts";

const RL = "urn:ietf:params:xml:ns:resource-lists";
const RL_TYPE = "application/resource-lists+xml";
const ALICE = "sip:alice@example.com";

const key = (documentPath: string, xui = ALICE): DocumentKey => ({
  auid: "resource-lists",
  tree: "users",
  xui,
  documentPath,
});

/** A store that counts usage. */
export type CountingStore = DocumentStore & {
  usage(xui: string): ReturnType<MemoryStore["usage"]>;
};

/**
 * The quota rules on one store: counting, refusing past either limit, replacing and shrinking.
 *
 * @param store A fresh store (no documents of Alice or Bob).
 */
export async function checkQuotaRules(store: CountingStore): Promise<void> {
  const usage = async (xui = ALICE) => (await store.usage(xui))._unsafeUnwrap();
  const quota: UserQuota = { maxDocuments: 2, maxBytes: 1_000 };
  assertEquals((await store.put(key("a"), "<a/>", { quota })).isOk(), true);
  assertEquals(await usage(), { documents: 1, bytes: 4 });
  // Multi-byte characters count as UTF-8 bytes.
  assertEquals((await store.put(key("b"), "<b>é€😀</b>", { quota })).isOk(), true);
  assertEquals(await usage(), { documents: 2, bytes: 4 + 16 });
  const third = await store.put(key("c"), "<c/>", { quota });
  assert(third.isErr() && third.error._tag === "QuotaExceeded");
  assertEquals(third.error.limit, "documents");
  assertEquals(third.error.wouldUse, 3);
  assertStringIncludes(third.error.message, "would have 3 documents; the quota is 2");
  assertEquals((await store.get(key("c")))._unsafeUnwrap(), undefined);
  // Replacing is not a new document; growing past the byte quota is refused.
  assertEquals((await store.put(key("a"), "<a>x</a>", { quota })).isOk(), true);
  const big = await store.put(key("a"), `<a>${"x".repeat(990)}</a>`, { quota });
  assert(big.isErr() && big.error._tag === "QuotaExceeded" && big.error.limit === "bytes");
  assertEquals(big.error.wouldUse, 16 + 997);
  assertEquals(await usage(), { documents: 2, bytes: 8 + 16 });
  // Another user and the global tree are not affected; without a quota the count goes on.
  assertEquals((await store.put(key("c", "sip:bob@example.com"), "<c/>", { quota })).isOk(), true);
  const global: DocumentKey = { auid: "resource-lists", tree: "global", documentPath: "g" };
  assertEquals((await store.put(global, "<g/>", { quota })).isOk(), true);
  assertEquals((await store.put(key("c"), "<c/>")).isOk(), true);
  assertEquals(await usage(), { documents: 3, bytes: 8 + 16 + 4 });
  // Over the document quota now (it was not given): a new document is refused, changing the
  // existing ones (within the byte quota), shrinking and deleting are not.
  assertEquals(
    (await store.put(key("d"), "<d/>", { quota }))._unsafeUnwrapErr()._tag,
    "QuotaExceeded",
  );
  assertEquals((await store.put(key("c"), "<c>x</c>", { quota })).isOk(), true);
  assertEquals((await store.put(key("b"), "<b/>", { quota })).isOk(), true);
  assertEquals(await usage(), { documents: 3, bytes: 8 + 4 + 8 });
  assertEquals((await store.delete(key("c")))._unsafeUnwrap(), true);
  assertEquals((await store.delete(key("b")))._unsafeUnwrap(), true);
  assertEquals(await usage(), { documents: 1, bytes: 8 });
  assertEquals((await store.delete(key("a")))._unsafeUnwrap(), true);
  assertEquals(await usage(), { documents: 0, bytes: 0 });
  assertEquals(await usage("sip:bob@example.com"), { documents: 1, bytes: 4 });
}

/**
 * Concurrent writers on several instances of one store (sharing one database) never take a user
 * past the quota, and the count stays exact under concurrent replacements and deletions.
 *
 * @param stores Two or more instances on one fresh database.
 */
export async function checkConcurrentQuota(stores: readonly CountingStore[]): Promise<void> {
  const n = stores.length;
  // 24 creations at once, alternating instances, for a quota of 10 documents.
  const quota = { maxDocuments: 10, maxBytes: 1_000_000 };
  const created = await Promise.all(
    Array.from({ length: 24 }, (_, i) => stores[i % n]!.put(key(`d${i}`), `<d${i}/>`, { quota })),
  );
  assertEquals(created.filter((r) => r.isOk()).length, 10);
  assert(created.every((r) => r.isOk() || r.error._tag === "QuotaExceeded"));
  // A byte quota that fits exactly 5 more documents of 100 bytes, 16 writers.
  const bob = "sip:bob@example.com";
  const body = `<x>${"y".repeat(93)}</x>`;
  const byBytes = await Promise.all(
    Array.from(
      { length: 16 },
      (_, i) =>
        stores[i % n]!.put(key(`b${i}`, bob), body, {
          quota: { maxDocuments: 100, maxBytes: 500 },
        }),
    ),
  );
  assertEquals(byBytes.filter((r) => r.isOk()).length, 5);
  // The counts agree with what is stored.
  const stored = async (prefix: string, xui: string, count: number) => {
    let documents = 0;
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const got = (await stores[i % n]!.get(key(`${prefix}${i}`, xui)))._unsafeUnwrap();
      if (got === undefined) continue;
      documents++;
      bytes += new TextEncoder().encode(got.text).length;
    }
    return { documents, bytes };
  };
  assertEquals((await stored("d", ALICE, 24)).documents, 10);
  assertEquals(await stored("b", bob, 16), { documents: 5, bytes: 500 });
  assertEquals((await stores[n - 1]!.usage(ALICE))._unsafeUnwrap().documents, 10);
  assertEquals((await stores[0]!.usage(bob))._unsafeUnwrap(), { documents: 5, bytes: 500 });
  // Concurrent replacements and deletions keep the count exact.
  await Promise.all(
    Array.from(
      { length: 20 },
      (_, i) =>
        i % 3 === 0
          ? stores[i % n]!.delete(key(`d${i % 24}`))
          : stores[i % n]!.put(key(`d${i % 24}`), `<d>${"z".repeat(i)}</d>`),
    ),
  );
  assertEquals((await stores[n - 1]!.usage(ALICE))._unsafeUnwrap(), await stored("d", ALICE, 24));
}

/**
 * Two `serve.ts` processes on one database (`args` names it) hold users to
 * `--max-user-documents 5` and `--max-user-bytes 4000` under concurrent PUTs.
 *
 * @param args The store's arguments, e.g. `["--kv", path]`.
 */
export async function checkServersHoldQuota(args: readonly string[]): Promise<void> {
  const all = [...args, "--max-user-documents", "5", "--max-user-bytes", "4000"];
  const servers = [await spawnServer({ args: all }), await spawnServer({ args: all })];
  try {
    const put = async (i: number, user: string, body: string) => {
      const root = servers[i % 2]!.xcapRoot;
      const response = await fetch(`${root}/resource-lists/users/${user}/d${i}`, {
        method: "PUT",
        headers: { "content-type": RL_TYPE },
        body,
      });
      await response.body?.cancel();
      return response.status;
    };
    const small = `<resource-lists xmlns="${RL}"/>`;
    const counted = await Promise.all(Array.from({ length: 20 }, (_, i) => put(i, ALICE, small)));
    assertEquals(counted.filter((s) => s === 201).length, 5, JSON.stringify(counted));
    assertEquals(counted.filter((s) => s === 409).length, 15, JSON.stringify(counted));
    // 1,000-byte documents for Bob: 4 fit in 4,000 bytes.
    const kilobyte = `<resource-lists xmlns="${RL}">${" ".repeat(1_000 - 79)}</resource-lists>`;
    assertEquals(new TextEncoder().encode(kilobyte).length, 1_000);
    const sized = await Promise.all(
      Array.from({ length: 12 }, (_, i) => put(i, "sip:bob@example.com", kilobyte)),
    );
    assertEquals(sized.filter((s) => s === 201).length, 4, JSON.stringify(sized));
    assertEquals(sized.filter((s) => s === 413).length, 8, JSON.stringify(sized));
    for (const server of servers) assert(server.alive(), server.stderr());
  } finally {
    for (const server of servers) await server.stop();
  }
}
