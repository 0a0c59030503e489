// Run with --unstable-kv (or "unstable": ["kv"] in deno.json).
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { createXcapHandler, type DocumentKey, KvStore, openKvStore } from "../src/server/mod.ts";

const RL = "urn:ietf:params:xml:ns:resource-lists";
const RL_TYPE = "application/resource-lists+xml";
const ALICE = "sip:alice@example.com";
const KEY: DocumentKey = {
  auid: "resource-lists",
  tree: "users",
  xui: ALICE,
  documentPath: "index",
};

async function withTempKv<T>(run: (path: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "xcap-kv-" });
  try {
    return await run(`${dir}/xcap.sqlite`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("KvStore compares and sets on the entity-tag", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new KvStore(kv);
    assertEquals((await store.get(KEY))._unsafeUnwrap(), undefined);
    const created = (await store.put(KEY, "<a/>", { expectedEtag: null }))._unsafeUnwrap();
    assertEquals(created.text, "<a/>");
    const again = await store.put(KEY, "<b/>", { expectedEtag: null });
    assertEquals(again.isErr() && again.error._tag, "EtagMismatch");
    const stale = await store.put(KEY, "<b/>", { expectedEtag: '"stale"' });
    assertEquals(stale.isErr() && stale.error._tag, "EtagMismatch");
    const replaced = (await store.put(KEY, "<b/>", { expectedEtag: created.etag }))._unsafeUnwrap();
    assert(replaced.etag !== created.etag);
    assertEquals((await store.get(KEY))._unsafeUnwrap(), replaced);
    const wrongDelete = await store.delete(KEY, { expectedEtag: created.etag });
    assertEquals(wrongDelete.isErr() && wrongDelete.error._tag, "EtagMismatch");
    assertEquals((await store.delete(KEY, { expectedEtag: replaced.etag }))._unsafeUnwrap(), true);
    assertEquals((await store.delete(KEY))._unsafeUnwrap(), false);
    assertEquals((await store.get(KEY))._unsafeUnwrap(), undefined);
  } finally {
    kv.close();
  }
});

Deno.test("KvStore keeps documents over 64 KiB in chunks and removes old chunks", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new KvStore(kv, { prefix: ["t"] });
    // Multi-byte characters, so the byte count and the string length differ.
    const big = `<a>${"é€😀x".repeat(40_000)}</a>`;
    const written = (await store.put(KEY, big))._unsafeUnwrap();
    assertEquals((await store.get(KEY))._unsafeUnwrap(), written);
    const chunks = async () => {
      let n = 0;
      for await (const _ of kv.list({ prefix: ["t", "chunk"] })) n++;
      return n;
    };
    assert(await chunks() > 1);
    const small = (await store.put(KEY, "<a/>", { expectedEtag: written.etag }))._unsafeUnwrap();
    assertEquals(await chunks(), 0);
    assertEquals((await store.get(KEY))._unsafeUnwrap(), small);
    const lost = await store.put(KEY, big, { expectedEtag: written.etag });
    assert(lost.isErr());
    assertEquals(await chunks(), 0);
    const bigAgain = (await store.put(KEY, big))._unsafeUnwrap();
    (await store.delete(KEY, { expectedEtag: bigAgain.etag }))._unsafeUnwrap();
    assertEquals(await chunks(), 0);
  } finally {
    kv.close();
  }
});

Deno.test("KvStore keeps documents apart by AUID, tree, XUI and path", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new KvStore(kv);
    const keys: DocumentKey[] = [
      KEY,
      { ...KEY, auid: "rls-services" },
      { ...KEY, xui: "sip:bob@example.com" },
      { ...KEY, documentPath: "dir/index" },
      { auid: "resource-lists", tree: "global", documentPath: "index" },
    ];
    for (const [i, key] of keys.entries()) (await store.put(key, `<d${i}/>`))._unsafeUnwrap();
    for (const [i, key] of keys.entries()) {
      assertEquals((await store.get(key))._unsafeUnwrap()?.text, `<d${i}/>`);
    }
  } finally {
    kv.close();
  }
});

Deno.test("openKvStore() reports a database it cannot open as StoreFailure", async () => {
  const result = await openKvStore({ path: "/nonexistent-dir/sub/xcap.sqlite" });
  assert(result.isErr());
  assertEquals(result.error._tag, "StoreFailure");
  assertStringIncludes(result.error.message, "Cannot open Deno KV");
});

Deno.test("createXcapHandler() on KV keeps documents across restarts", async () => {
  await withTempKv(async (path) => {
    const url = `http://127.0.0.1/xcap-root/resource-lists/users/${ALICE}/index`;
    const doc = `<resource-lists xmlns="${RL}"><list name="kept"/></resource-lists>`;
    const first = (await openKvStore({ path }))._unsafeUnwrap();
    const created = await createXcapHandler({ store: first })(
      new Request(url, { method: "PUT", headers: { "content-type": RL_TYPE }, body: doc }),
    );
    assertEquals(created.status, 201);
    first.close();
    const second = (await openKvStore({ path }))._unsafeUnwrap();
    const read = await createXcapHandler({ store: second })(new Request(url));
    assertEquals(read.status, 200);
    assertEquals(read.headers.get("etag"), created.headers.get("etag"));
    assertEquals(await read.text(), doc);
    second.close();
  });
});

/** Two server instances on one KV file, each with its own connection, as on two machines. */
async function withTwoInstances(
  run: (roots: readonly string[]) => Promise<void>,
): Promise<void> {
  await withTempKv(async (path) => {
    const stores = [
      (await openKvStore({ path }))._unsafeUnwrap(),
      (await openKvStore({ path }))._unsafeUnwrap(),
    ];
    const servers = stores.map((store) =>
      Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen() {} },
        createXcapHandler({ store }),
      )
    );
    try {
      await run(servers.map((s) => `http://127.0.0.1:${s.addr.port}/xcap-root`));
    } finally {
      for (const server of servers) await server.shutdown();
      for (const store of stores) store.close();
    }
  });
}

Deno.test("createXcapHandler() on KV: every conditional increment of concurrent writers on two instances lands", async () => {
  await withTwoInstances(async (roots) => {
    const path = `/resource-lists/users/${ALICE}/index`;
    // The list's name is the counter: an attribute the schema declares (xs:string).
    const doc = `<resource-lists xmlns="${RL}"><list name="0"/></resource-lists>`;
    const created = await fetch(roots[0] + path, {
      method: "PUT",
      headers: { "content-type": RL_TYPE },
      body: doc,
    });
    assertEquals(created.status, 201);
    const attribute = `${path}/~~/resource-lists/list/@name`;
    const writers = 6;
    const incrementsEach = 5;
    let preconditionFailures = 0;
    async function increment(root: string): Promise<void> {
      for (;;) {
        const read = await fetch(root + attribute);
        assertEquals(read.status, 200);
        const etag = read.headers.get("etag")!;
        const value = Number(await read.text());
        const written = await fetch(root + attribute, {
          method: "PUT",
          headers: { "content-type": "application/xcap-att+xml", "if-match": etag },
          body: String(value + 1),
        });
        await written.body?.cancel();
        if (written.status === 200) return;
        assertEquals(written.status, 412);
        preconditionFailures++;
      }
    }
    await Promise.all(Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < incrementsEach; i++) await increment(roots[w % 2]!);
    }));
    const final = await fetch(roots[1] + attribute);
    assertEquals(await final.text(), String(writers * incrementsEach));
    // The writers did collide: the compare-and-set was exercised, not just sequential writes.
    assert(preconditionFailures > 0, "no write ever collided");
  });
});

Deno.test("createXcapHandler() on KV: concurrent unconditional inserts on two instances all land", async () => {
  await withTwoInstances(async (roots) => {
    const path = `/resource-lists/users/${ALICE}/index`;
    const created = await fetch(roots[0] + path, {
      method: "PUT",
      headers: { "content-type": RL_TYPE },
      body: `<resource-lists xmlns="${RL}"><list name="all"/></resource-lists>`,
    });
    assertEquals(created.status, 201);
    const count = 30;
    const statuses = await Promise.all(Array.from({ length: count }, async (_, i) => {
      const node = `/~~/resource-lists/list/entry%5B@uri=%22sip:u${i}@x%22%5D`;
      const response = await fetch(roots[i % 2] + path + node, {
        method: "PUT",
        headers: { "content-type": "application/xcap-el+xml" },
        body: `<entry uri="sip:u${i}@x"/>`,
      });
      await response.body?.cancel();
      return response.status;
    }));
    assertEquals(statuses, Array(count).fill(201));
    const text = await (await fetch(roots[1] + path)).text();
    for (let i = 0; i < count; i++) assertStringIncludes(text, `<entry uri="sip:u${i}@x"/>`);
  });
});
