// A busy Deno KV store is load, not failure: 503 with Retry-After; a broken one stays 500 and
// reaches onError. Run with --unstable-kv (or "unstable": ["kv"] in deno.json) and --allow-run.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import {
  createXcapHandler,
  type DocumentKey,
  type DocumentStoreError,
  KvStore,
} from "../src/server/mod.ts";
import { spawnServer } from "./_server_process.ts";
import { withTempDir } from "./_cli.ts";

const RL = "urn:ietf:params:xml:ns:resource-lists";
const RL_TYPE = "application/resource-lists+xml";
const ALICE = "sip:alice@example.com";
const KEY: DocumentKey = { auid: "resource-lists", tree: "users", xui: ALICE, documentPath: "d" };
const URL_D = `http://127.0.0.1/xcap-root/resource-lists/users/${ALICE}/d`;

/**
 * `kv` as a KvStore sees it when another writer always gets in first: before each commit, the
 * user's usage entry is written again (same value, new versionstamp), so every head commit,
 * which checks the usage entry, loses the race. With `hideChunks`, listing chunks finds none,
 * as when a writer replaced the document and deleted them between the head and the chunk reads.
 */
function contended(kv: Deno.Kv, options: { hideChunks?: boolean } = {}): Deno.Kv {
  const usage: Deno.KvKey = ["xcap", "usage", ALICE];
  return new Proxy(kv, {
    get(target, property) {
      if (property === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = async () => {
            const entry = await target.get(usage);
            await target.set(usage, entry.value ?? { documents: 0, bytes: 0 });
            return await commit();
          };
          return op;
        };
      }
      if (property === "list" && options.hideChunks === true) {
        return (selector: Deno.KvListSelector, opts?: Deno.KvListOptions) =>
          "prefix" in selector && selector.prefix[1] === "chunk"
            ? target.list({ prefix: ["nothing", "here"] }, opts)
            : target.list(selector, opts);
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function assertUnavailable(error: DocumentStoreError, reason: string): void {
  assertEquals(error._tag, "StoreUnavailable");
  if (error._tag !== "StoreUnavailable") return;
  assertEquals(error.retryAfterSeconds, 1);
  assertStringIncludes(error.message, reason);
}

Deno.test("KvStore returns StoreUnavailable when other writers keep winning or keep changing a document", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const busy = new KvStore(contended(kv));
    const put = await busy.put(KEY, "<a/>", { expectedEtag: null });
    assert(put.isErr());
    assertUnavailable(put.error, "too many concurrent writers");
    // Nothing was written, and the usage count is untouched.
    const plain = new KvStore(kv);
    assertEquals((await plain.get(KEY))._unsafeUnwrap(), undefined);
    const big = `<a>${"x".repeat(100_000)}</a>`;
    const stored = (await plain.put(KEY, big, { expectedEtag: null }))._unsafeUnwrap();
    assertEquals((await plain.usage(ALICE))._unsafeUnwrap(), { documents: 1, bytes: big.length });
    const deleted = await busy.delete(KEY, { expectedEtag: stored.etag });
    assert(deleted.isErr());
    assertUnavailable(deleted.error, "too many concurrent writers");
    const read = await new KvStore(contended(kv, { hideChunks: true })).get(KEY);
    assert(read.isErr());
    assertUnavailable(read.error, "it keeps changing while read");
    assertEquals((await plain.get(KEY))._unsafeUnwrap()?.text, big);
  } finally {
    kv.close();
  }
});

Deno.test("createXcapHandler() answers a busy store 503 with Retry-After, a failed one 500 and tells onError", async () => {
  const kv = await Deno.openKv(":memory:");
  const errors: unknown[] = [];
  try {
    const handler = createXcapHandler({
      store: new KvStore(contended(kv)),
      onError: (error) => errors.push(error),
    });
    const busy = await handler(
      new Request(URL_D, {
        method: "PUT",
        headers: { "content-type": RL_TYPE },
        body: `<resource-lists xmlns="${RL}"/>`,
      }),
    );
    assertEquals(busy.status, 503);
    assertEquals(busy.headers.get("retry-after"), "1");
    assertStringIncludes(await busy.text(), "try again");
    assertEquals(errors, [], "load is not an error to report");
  } finally {
    kv.close();
  }
  // The database is gone (closed): a genuine failure.
  const handler = createXcapHandler({
    store: new KvStore(kv),
    onError: (error) => errors.push(error),
  });
  const failed = await handler(new Request(URL_D));
  assertEquals(failed.status, 500);
  assertEquals(failed.headers.get("retry-after"), null);
  assertStringIncludes(await failed.text(), "the document store failed");
  assertEquals(errors.length, 1);
  const reported = errors[0] as DocumentStoreError;
  assertEquals(reported._tag, "StoreFailure");
  assertStringIncludes(reported.message, "Cannot read");
});

Deno.test("serve.ts --kv: three server processes writing one user's documents answer no 5xx but 503 with Retry-After", async () => {
  await withTempDir(async (dir) => {
    const args = ["--kv", `${dir}/kv.sqlite`];
    const servers = [
      await spawnServer({ args }),
      await spawnServer({ args }),
      await spawnServer({ args }),
    ];
    try {
      // 90 documents of one user, written by 32 clients at once over three processes: each
      // write also updates the user's usage entry, so the writers contend on it and on the
      // SQLite file. Readers read the documents meanwhile.
      const documents = 90;
      const statuses = new Map<string, number>();
      const unexpected: string[] = [];
      let next = 0;
      const client = async (writer: boolean, requests: number) => {
        for (let i = 0; i < requests; i++) {
          const n = next++;
          const root = servers[n % servers.length]!.xcapRoot;
          const response = await fetch(
            `${root}/resource-lists/users/${ALICE}/d${n % documents}`,
            writer
              ? {
                method: "PUT",
                headers: { "content-type": RL_TYPE },
                body: `<resource-lists xmlns="${RL}"><!-- ${n} --></resource-lists>`,
              }
              : {},
          );
          const text = await response.text();
          const what = `${writer ? "PUT" : "GET"} ${response.status}`;
          statuses.set(what, (statuses.get(what) ?? 0) + 1);
          const retryAfter = response.headers.get("retry-after");
          if (response.status >= 500 && (response.status !== 503 || retryAfter !== "1")) {
            unexpected.push(`${what} retry-after=${retryAfter}: ${text.trim()}`);
          }
          if (response.status === 503) assertStringIncludes(text, "try again");
        }
      };
      await Promise.all([
        ...Array.from({ length: 32 }, () => client(true, 15)),
        ...Array.from({ length: 8 }, () => client(false, 30)),
      ]);
      console.log(JSON.stringify(Object.fromEntries(statuses)));
      assertEquals(unexpected, []);
      for (const server of servers) assert(server.alive(), server.stderr());
      // Whatever was answered 503 left nothing half done: the usage entry counts exactly the
      // documents there are.
      let present = 0;
      for (let d = 0; d < documents; d++) {
        const response = await fetch(`${servers[0]!.xcapRoot}/resource-lists/users/${ALICE}/d${d}`);
        await response.body?.cancel();
        if (response.status === 200) present++;
      }
      const kv = await Deno.openKv(`${dir}/kv.sqlite`);
      try {
        assertEquals((await new KvStore(kv).usage(ALICE))._unsafeUnwrap().documents, present);
      } finally {
        kv.close();
      }
    } finally {
      for (const server of servers) await server.stop();
    }
  });
});
