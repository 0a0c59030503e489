// Per-user quotas (issue 10, item 3): the stores count each user's documents and bytes in the
// same atomic step as the write, so concurrent writers (one instance for memory, any number for
// Deno KV) never take a user past the quota; the handler answers 409 and 413.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import {
  createXcapHandler,
  type DocumentKey,
  type DocumentStore,
  KvStore,
  MemoryStore,
  type UserQuota,
} from "../src/server/mod.ts";
import { parseServeArgs } from "../src/server/serve.ts";
import { parseConflictReport } from "../mod.ts";
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

async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "xcap-quota-" });
  try {
    return await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The same checks on any store that has `usage()`. */
async function checkQuotaRules(
  store: DocumentStore & { usage(xui: string): ReturnType<MemoryStore["usage"]> },
): Promise<void> {
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

Deno.test("MemoryStore counts each user's documents and bytes and refuses writes past the quota", async () => {
  await checkQuotaRules(new MemoryStore());
});

Deno.test("KvStore counts each user's documents and bytes and refuses writes past the quota", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new KvStore(kv);
    await checkQuotaRules(store);
    // Chunked documents count their UTF-8 bytes too, and a refused one leaves no chunk behind.
    const large = `<a>${"é".repeat(400_000)}</a>`;
    const quota = { maxDocuments: 10, maxBytes: 1_000_000 };
    assertEquals((await store.put(key("large"), large, { quota })).isOk(), true);
    assertEquals((await store.usage(ALICE))._unsafeUnwrap(), { documents: 1, bytes: 800_007 });
    const larger = await store.put(key("other"), large, { quota });
    assertEquals(larger.isErr() && larger.error._tag, "QuotaExceeded");
    let chunks = 0;
    for await (const _ of kv.list({ prefix: ["xcap", "chunk"] })) chunks++;
    assertEquals(chunks, 14);
  } finally {
    kv.close();
  }
});

Deno.test("KvStore: concurrent writers on two instances never take a user past the quota", async () => {
  await withTempDir(async (dir) => {
    const kvs = [await Deno.openKv(`${dir}/kv.sqlite`), await Deno.openKv(`${dir}/kv.sqlite`)];
    try {
      const stores = kvs.map((kv) => new KvStore(kv));
      // 24 creations at once, alternating instances, for a quota of 10 documents.
      const quota = { maxDocuments: 10, maxBytes: 1_000_000 };
      const created = await Promise.all(
        Array.from(
          { length: 24 },
          (_, i) => stores[i % 2]!.put(key(`d${i}`), `<d${i}/>`, { quota }),
        ),
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
            stores[i % 2]!.put(key(`b${i}`, bob), body, {
              quota: { maxDocuments: 100, maxBytes: 500 },
            }),
        ),
      );
      assertEquals(byBytes.filter((r) => r.isOk()).length, 5);
      // The counts agree with what is stored.
      const heads = new Map<string, number>();
      for await (const entry of kvs[0]!.list<{ bytes: number }>({ prefix: ["xcap", "doc"] })) {
        const xui = String(entry.key[4]);
        heads.set(xui, (heads.get(xui) ?? 0) + 1);
      }
      assertEquals(heads.get(ALICE), 10);
      assertEquals(heads.get(bob), 5);
      assertEquals((await stores[1]!.usage(ALICE))._unsafeUnwrap().documents, 10);
      assertEquals((await stores[0]!.usage(bob))._unsafeUnwrap(), { documents: 5, bytes: 500 });
      // Concurrent replacements and deletions keep the count exact.
      await Promise.all(
        Array.from(
          { length: 20 },
          (_, i) =>
            i % 3 === 0
              ? stores[i % 2]!.delete(key(`d${i % 24}`))
              : stores[i % 2]!.put(key(`d${i % 24}`), `<d>${"z".repeat(i)}</d>`),
        ),
      );
      let documents = 0;
      let bytes = 0;
      for (let i = 0; i < 24; i++) {
        const got = (await stores[0]!.get(key(`d${i}`)))._unsafeUnwrap();
        if (got === undefined) continue;
        documents++;
        bytes += new TextEncoder().encode(got.text).length;
      }
      assertEquals((await stores[1]!.usage(ALICE))._unsafeUnwrap(), { documents, bytes });
    } finally {
      for (const kv of kvs) kv.close();
    }
  });
});

Deno.test("createXcapHandler() answers 409 past the document quota and 413 past the byte quota", async () => {
  const handler = createXcapHandler({
    limits: { maxUserDocuments: 2, maxUserBytes: 400 },
    globalWritable: true,
  });
  const url = (path: string, xui = ALICE) =>
    `http://127.0.0.1/xcap-root/resource-lists/users/${xui}/${path}`;
  const put = (target: string, body: string, type = RL_TYPE) =>
    handler(new Request(target, { method: "PUT", headers: { "content-type": type }, body }));
  const doc = (name: string) =>
    `<resource-lists xmlns="${RL}"><list name="${name}"/></resource-lists>`;
  assertEquals((await put(url("a"), doc("a"))).status, 201);
  assertEquals((await put(url("b"), doc("b"))).status, 201);
  const third = await put(url("c"), doc("c"));
  assertEquals(third.status, 409);
  assertEquals(third.headers.get("content-type"), "application/xcap-error+xml");
  const condition = parseConflictReport(await third.text())._unsafeUnwrap();
  assertEquals(condition.tag, "constraint-failure");
  assertStringIncludes(
    condition.tag === "constraint-failure" ? condition.phrase ?? "" : "",
    `Quota exceeded: User "${ALICE}" would have 3 documents; the quota is 2`,
  );
  // An element PUT that takes the tree past 400 bytes: 413, and the document is unchanged.
  const entry = `<entry uri="sip:${"x".repeat(250)}@example.com"/>`;
  const grown = await put(
    url('a/~~/resource-lists/list[@name="a"]/entry'),
    entry,
    "application/xcap-el+xml",
  );
  assertEquals(grown.status, 413);
  assertStringIncludes(await grown.text(), "Quota exceeded: The documents of user");
  assertEquals(await (await handler(new Request(url("a")))).text(), doc("a"));
  // Deleting frees room; other users and global documents have their own (or no) quota.
  assertEquals((await handler(new Request(url("b"), { method: "DELETE" }))).status, 200);
  assertEquals((await put(url("c"), doc("c"))).status, 201);
  assertEquals((await put(url("a", "sip:bob@example.com"), doc("a"))).status, 201);
  for (const name of ["g1", "g2", "g3"]) {
    const global = `http://127.0.0.1/xcap-root/resource-lists/global/${name}`;
    assertEquals((await put(global, doc(name))).status, 201);
  }
});

Deno.test("createXcapHandler() on memory: concurrent writers get exactly the quota's documents", async () => {
  const handler = createXcapHandler({ limits: { maxUserDocuments: 10 } });
  const statuses = await Promise.all(
    Array.from({ length: 30 }, async (_, i) => {
      const response = await handler(
        new Request(`http://127.0.0.1/xcap-root/resource-lists/users/${ALICE}/d${i}`, {
          method: "PUT",
          headers: { "content-type": RL_TYPE },
          body: `<resource-lists xmlns="${RL}"/>`,
        }),
      );
      await response.body?.cancel();
      return response.status;
    }),
  );
  assertEquals(statuses.filter((s) => s === 201).length, 10);
  assertEquals(statuses.filter((s) => s === 409).length, 20);
});

Deno.test("serve.ts --kv: two server processes on one database hold a user to the quota", async () => {
  await withTempDir(async (dir) => {
    const args = [
      "--kv",
      `${dir}/kv.sqlite`,
      "--max-user-documents",
      "5",
      "--max-user-bytes",
      "4000",
    ];
    const servers = [await spawnServer({ args }), await spawnServer({ args })];
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
  });
});

Deno.test("parseServeArgs() reads --cache-bytes, --max-user-documents and --max-user-bytes", () => {
  const command = parseServeArgs([
    "--cache-bytes",
    "0",
    "--max-user-documents=7",
    "--max-user-bytes",
    "1000",
  ])._unsafeUnwrap();
  assert(command.kind === "serve");
  assertEquals(command.options.documentCache, { maxBytes: 0 });
  assertEquals(command.options.limits, { maxUserDocuments: 7, maxUserBytes: 1000 });
  const bad = parseServeArgs(["--max-user-bytes", "-1"]);
  assertEquals(
    bad.isErr() && bad.error.message,
    'Option --max-user-bytes needs a whole number, not "-1"',
  );
  assertEquals(parseServeArgs(["--cache-bytes"]).isErr(), true);
});
