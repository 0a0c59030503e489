// Per-user quotas (issue 10, item 3): the stores count each user's documents and bytes in the
// same atomic step as the write, so concurrent writers (one instance for memory, any number for
// Deno KV) never take a user past the quota; the handler answers 409 and 413.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { createXcapHandler, type DocumentKey, KvStore, MemoryStore } from "../src/server/mod.ts";
import { parseServeArgs } from "../src/server/serve.ts";
import { parseConflictReport } from "../mod.ts";
import { checkConcurrentQuota, checkQuotaRules, checkServersHoldQuota } from "./_quota_checks.ts";

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
      await checkConcurrentQuota(kvs.map((kv) => new KvStore(kv)));
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
  await withTempDir((dir) => checkServersHoldQuota(["--kv", `${dir}/kv.sqlite`]));
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
