/**
 * PostgresStore on a real PostgreSQL cluster (tests/_postgres.ts: one throwaway cluster for this
 * file, a fresh database per test): the schema is Kamailio's, compare-and-set holds across store
 * instances, the text comes back exactly, and the error values say what went wrong.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { createXcapHandler } from "../src/server/handler.ts";
import { openPostgresStore, PostgresStore } from "../src/server/postgres_store.ts";
import { parseServeArgs, startXcapServer } from "../src/server/serve.ts";
import type { DocumentKey, DocumentStoreError } from "../src/server/store.ts";
import { type PostgresCluster, postgresSuite } from "./_postgres.ts";
import { checkConcurrentQuota, checkQuotaRules, checkServersHoldQuota } from "./_quota_checks.ts";

const suite = postgresSuite();
const ALICE: DocumentKey = {
  auid: "resource-lists",
  tree: "users",
  xui: "sip:alice@example.com",
  documentPath: "index",
};
const LIST = '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"/>';

async function open(url: string, options = {}): Promise<PostgresStore> {
  const opened = await openPostgresStore(url, options);
  if (opened.isErr()) throw new Error(opened.error.message);
  return opened.value;
}

async function withStore(
  pg: PostgresCluster,
  fn: (store: PostgresStore, url: string) => Promise<void>,
): Promise<void> {
  const url = await pg.createDatabase();
  const store = await open(url);
  try {
    await fn(store, url);
  } finally {
    await store.close();
  }
}

function tagOf(result: { isErr(): boolean; error?: DocumentStoreError }): string | undefined {
  return result.isErr() ? result.error?._tag : undefined;
}

/** The definition of a table as PostgreSQL reports it: columns, then constraints and indexes. */
async function tableDefinition(pg: PostgresCluster, database: string, table: string) {
  const columns = await pg.psql(
    `SELECT column_name, data_type, character_maximum_length, is_nullable, column_default
     FROM information_schema.columns WHERE table_name = '${table}' ORDER BY ordinal_position`,
    database,
  );
  const indexes = await pg.psql(
    `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = '${table}' ORDER BY indexname`,
    database,
  );
  return { columns, indexes };
}

suite.test("PostgresStore creates Kamailio's xcap and version tables exactly", async (pg) => {
  // Kamailio's own schema, from the Debian package, next to the one the store creates.
  const kamailio = await pg.createDatabase("kamailio_schema");
  const sqlDir = "/usr/share/kamailio/postgres";
  const presence = await Deno.readTextFile(`${sqlDir}/presence-create.sql`).catch(() => undefined);
  const standard = await Deno.readTextFile(`${sqlDir}/standard-create.sql`).catch(() => undefined);
  if (presence === undefined || standard === undefined) {
    if (Deno.env.get("CI") === "true") {
      throw new Error(`${sqlDir} is missing: apt-get install kamailio-postgres-modules`);
    }
    console.warn(`${sqlDir} is missing (kamailio-postgres-modules): comparison skipped`);
    return;
  }
  const xcap = presence.match(/CREATE TABLE xcap \([\s\S]*?INSERT INTO version[^\n]*'xcap'[^\n]*/);
  assert(xcap !== null, "presence-create.sql has no xcap table");
  await pg.psql(`${standard}\n${xcap[0]}`, "kamailio_schema");

  await withStore(pg, async (_, url) => {
    const ours = new URL(url).pathname.slice(1);
    for (const table of ["xcap", "version"]) {
      assertEquals(
        await tableDefinition(pg, ours, table),
        await tableDefinition(pg, "kamailio_schema", table),
      );
    }
    assertEquals(
      await pg.psql("SELECT table_name, table_version FROM version ORDER BY id", ours),
      await pg.psql("SELECT table_name, table_version FROM version ORDER BY id", "kamailio_schema"),
    );
  });
  assertMatch(kamailio, /kamailio_schema$/);
});

suite.test("PostgresStore keeps using tables Kamailio created, and refuses others", async (pg) => {
  const url = await pg.createDatabase();
  const database = new URL(url).pathname.slice(1);
  const store = await open(url);
  await store.put(ALICE, LIST);
  await store.close();
  // Opening again finds the tables and keeps the row.
  const again = await open(url);
  assertEquals((await again.get(ALICE))._unsafeUnwrap()?.text, LIST);
  await again.close();

  await pg.psql("UPDATE version SET table_version = 3 WHERE table_name = 'xcap'", database);
  const old = await openPostgresStore(url);
  assertEquals(tagOf(old), "StoreFailure");
  assertMatch(old.isErr() ? old.error.message : "", /version 3; Kamailio 5\.6's is 4/);

  const other = await pg.createDatabase();
  await pg.psql(
    "CREATE TABLE xcap (id SERIAL PRIMARY KEY, body TEXT)",
    new URL(other).pathname.slice(1),
  );
  const foreign = await openPostgresStore(other);
  assertEquals(tagOf(foreign), "StoreFailure");
  assertMatch(foreign.isErr() ? foreign.error.message : "", /username.*does not exist/);
});

suite.test("PostgresStore creates the tables once when instances start together", async (pg) => {
  const url = await pg.createDatabase();
  const stores = await Promise.all(Array.from({ length: 6 }, () => openPostgresStore(url)));
  try {
    assertEquals(stores.map((s) => s.isOk()), Array(6).fill(true));
    const database = new URL(url).pathname.slice(1);
    assertEquals(
      await pg.psql("SELECT table_name, table_version FROM version ORDER BY id", database),
      "version|1\nxcap|4",
    );
  } finally {
    for (const s of stores) if (s.isOk()) await s.value.close();
  }
});

suite.test("PostgresStore.put() and get() keep the text exactly, BOM included", async (pg) => {
  await withStore(pg, async (store, url) => {
    const texts = [
      `\uFEFF${LIST}`,
      `<?xml version="1.0"?>\r\n<!-- ü € 𝄞 -->${LIST}\n`,
      "x".repeat(1_100_000),
    ];
    for (const text of texts) {
      const written = (await store.put(ALICE, text))._unsafeUnwrap();
      assertEquals(written.text, text);
      assertEquals((await store.get(ALICE))._unsafeUnwrap(), written);
      // Another instance (no cached copy) reads the same.
      const other = await open(url);
      assertEquals((await other.get(ALICE))._unsafeUnwrap(), written);
      await other.close();
    }
    // The bytes in the table are the UTF-8 of the text, BOM first.
    await store.put(ALICE, `\uFEFF${LIST}`);
    assertEquals(
      await pg.psql(
        "SELECT encode(substr(doc, 1, 4), 'hex') FROM xcap",
        new URL(url).pathname.slice(1),
      ),
      "efbbbf3c",
    );
  });
});

suite.test("PostgresStore writes each document's row the way Kamailio does", async (pg) => {
  await withStore(pg, async (store, url) => {
    const database = new URL(url).pathname.slice(1);
    const keys: DocumentKey[] = [
      ALICE,
      { ...ALICE, auid: "pres-rules" },
      { ...ALICE, documentPath: "dir/friends.xml" },
      { ...ALICE, xui: "sip:dave@example.com:5060" },
      { ...ALICE, xui: "bob" },
      { auid: "xcap-caps", tree: "global", documentPath: "index" },
      { ...ALICE, auid: "dialog-rules" },
      { ...ALICE, xui: "sip:a/b@example.com" },
    ];
    const etags: string[] = [];
    for (const key of keys) etags.push((await store.put(key, LIST))._unsafeUnwrap().etag);
    const rows = (await pg.psql(
      "SELECT username, domain, doc_type, etag, source, doc_uri, port FROM xcap ORDER BY id",
      database,
    )).split("\n");
    const unquoted = etags.map((e) => e.slice(1, -1));
    assertEquals(rows, [
      `alice|example.com|4|${
        unquoted[0]
      }|0|/xcap-root/resource-lists/users/sip:alice@example.com/index|0`,
      `alice|example.com|2|${
        unquoted[1]
      }|0|/xcap-root/pres-rules/users/sip:alice@example.com/index|0`,
      `alice|example.com|4|${
        unquoted[2]
      }|0|/xcap-root/resource-lists/users/sip:alice@example.com/dir/friends.xml|0`,
      `dave|example.com|4|${
        unquoted[3]
      }|0|/xcap-root/resource-lists/users/sip:dave@example.com:5060/index|0`,
      `||0|${unquoted[4]}|0|/xcap-root/resource-lists/users/bob/index|0`,
      `||0|${unquoted[5]}|0|/xcap-root/xcap-caps/global/index|0`,
      `||0|${unquoted[6]}|0|/xcap-root/dialog-rules/users/sip:alice@example.com/index|0`,
      `||0|${unquoted[7]}|0|/xcap-root/resource-lists/~users/sip%3Aa%2Fb%40example.com/index|0`,
    ]);
    for (const [i, key] of keys.entries()) {
      assertEquals((await store.get(key))._unsafeUnwrap()?.etag, etags[i]);
    }
  });
});

suite.test("PostgresStore reads, replaces and deletes rows Kamailio wrote", async (pg) => {
  await withStore(pg, async (store, url) => {
    const database = new URL(url).pathname.slice(1);
    // As Kamailio's xcap_server inserts (its global documents get whatever user its script picks).
    await pg.psql(
      `INSERT INTO xcap (username, domain, doc, doc_type, etag, source, doc_uri, port) VALUES
       ('alice', 'example.com', convert_to('${LIST}', 'UTF8'), 4, 'sr-1-2-3', 0,
        '/xcap-root/resource-lists/users/sip:alice@example.com/index', 0),
       ('global', '127.0.0.1', convert_to('<a/>', 'UTF8'), 4, 'sr-1-2-4', 0,
        '/xcap-root/resource-lists/global/index', 0)`,
      database,
    );
    const read = (await store.get(ALICE))._unsafeUnwrap();
    assertEquals(read, { text: LIST, etag: '"sr-1-2-3"' });
    const global: DocumentKey = { auid: "resource-lists", tree: "global", documentPath: "index" };
    assertEquals((await store.get(global))._unsafeUnwrap()?.etag, '"sr-1-2-4"');
    // A replacement keeps Kamailio's username, domain and doc_type.
    const replaced = (await store.put(global, "<b/>", { expectedEtag: '"sr-1-2-4"' }))
      ._unsafeUnwrap();
    assertEquals(
      await pg.psql(
        "SELECT username, domain, doc_type, etag FROM xcap WHERE doc_uri LIKE '%/global/index'",
        database,
      ),
      `global|127.0.0.1|4|${replaced.etag.slice(1, -1)}`,
    );
    assertEquals((await store.delete(ALICE, { expectedEtag: '"sr-1-2-3"' }))._unsafeUnwrap(), true);
    assertEquals((await store.get(ALICE))._unsafeUnwrap(), undefined);
  });
});

suite.test("PostgresStore.get() of a row that is not UTF-8 is a StoreFailure", async (pg) => {
  await withStore(pg, async (store, url) => {
    await pg.psql(
      `INSERT INTO xcap (username, domain, doc, doc_type, etag, source, doc_uri, port) VALUES
       ('alice', 'example.com', '\\x3c61e93e'::bytea, 4, 'sr-1', 0,
        '/xcap-root/resource-lists/users/sip:alice@example.com/index', 0)`,
      new URL(url).pathname.slice(1),
    );
    const read = await store.get(ALICE);
    assertEquals(tagOf(read), "StoreFailure");
    assertMatch(read.isErr() ? read.error.message : "", /not UTF-8/);
  });
});

suite.test("PostgresStore compare-and-set: one winner among instances", async (pg) => {
  const url = await pg.createDatabase();
  const stores = await Promise.all(Array.from({ length: 4 }, () => open(url)));
  try {
    // Creation: exactly one of 8 creators wins.
    const created = await Promise.all(
      Array.from(
        { length: 8 },
        (_, i) => stores[i % 4]!.put(ALICE, `<c${i}/>`, { expectedEtag: null }),
      ),
    );
    assertEquals(created.filter((r) => r.isOk()).length, 1);
    assertEquals(
      created.filter((r) => r.isErr()).map(tagOf),
      Array(7).fill("EtagMismatch"),
    );
    // Rounds of conditional replaces on the same entity-tag: one winner each.
    for (let round = 0; round < 5; round++) {
      const current = (await stores[0]!.get(ALICE))._unsafeUnwrap()!;
      const results = await Promise.all(
        stores.map((s, i) => s.put(ALICE, `<r${round}-${i}/>`, { expectedEtag: current.etag })),
      );
      assertEquals(results.filter((r) => r.isOk()).length, 1, `round ${round}`);
      const winner = results.find((r) => r.isOk())!._unsafeUnwrap();
      assertEquals((await stores[3]!.get(ALICE))._unsafeUnwrap(), winner);
    }
    // Unconditional writers racing to create a new document all succeed, one after the other.
    const key = { ...ALICE, documentPath: "race" };
    const free = await Promise.all(stores.map((s, i) => s.put(key, `<u${i}/>`)));
    assertEquals(free.every((r) => r.isOk()), true);
    // Deletes: a stale entity-tag loses, the current one wins once.
    const current = (await stores[1]!.get(ALICE))._unsafeUnwrap()!;
    assertEquals(
      tagOf(await stores[2]!.delete(ALICE, { expectedEtag: '"stale"' })),
      "EtagMismatch",
    );
    const deletes = await Promise.all(
      stores.map((s) => s.delete(ALICE, { expectedEtag: current.etag })),
    );
    assertEquals(deletes.filter((r) => r.isOk()).length, 1);
    assertEquals((await stores[0]!.delete(ALICE))._unsafeUnwrap(), false);
    assertEquals((await stores[0]!.delete(ALICE, { expectedEtag: null }))._unsafeUnwrap(), false);
  } finally {
    for (const s of stores) await s.close();
  }
});

suite.test("PostgresStore answers StoreUnavailable while PostgreSQL is down, then recovers", async (pg) => {
  await withStore(pg, async (store) => {
    const written = (await store.put(ALICE, LIST))._unsafeUnwrap();
    const handler = createXcapHandler({ store });
    const uri = "http://127.0.0.1/xcap-root/resource-lists/users/sip:alice@example.com/index";
    await pg.stop("fast");
    try {
      for (const result of [await store.get(ALICE), await store.put(ALICE, "<x/>")]) {
        assertEquals(tagOf(result), "StoreUnavailable");
        const error = result.isErr() ? result.error : undefined;
        assertEquals(error?._tag === "StoreUnavailable" && error.retryAfterSeconds, 2);
      }
      const response = await handler(new Request(uri));
      assertEquals(response.status, 503);
      assertEquals(response.headers.get("retry-after"), "2");
      await response.body?.cancel();
    } finally {
      await pg.start();
    }
    // The pool reconnects by itself; nothing acknowledged was lost.
    let read = await store.get(ALICE);
    for (let i = 0; i < 50 && read.isErr(); i++) {
      await new Promise((r) => setTimeout(r, 200));
      read = await store.get(ALICE);
    }
    assertEquals(read._unsafeUnwrap(), written);
    const response = await handler(new Request(uri));
    assertEquals(response.status, 200);
    assertEquals(await response.text(), LIST);
  });
});

suite.test("PostgresStore gives up on a database that does not answer, then recovers", async (pg) => {
  const url = await pg.createDatabase();
  // Connecting may take 5 s: the whole call gives up first, after 1 s.
  const store = await open(url, { operationTimeoutMs: 1_000, connectTimeoutSeconds: 5 });
  try {
    const written = (await store.put(ALICE, LIST))._unsafeUnwrap();
    await pg.signal("SIGSTOP");
    try {
      // Connected, but nothing answers: the call gives up instead of waiting for ever.
      for (const result of [await store.get(ALICE), await store.put(ALICE, "<x/>")]) {
        assertEquals(tagOf(result), "StoreUnavailable");
        assertMatch(
          result.isErr() ? result.error.message : "",
          /PostgreSQL is unavailable: PostgreSQL did not answer within 1000 ms/,
        );
      }
    } finally {
      await pg.signal("SIGCONT");
    }
    let read = await store.get(ALICE);
    for (let i = 0; i < 50 && read.isErr(); i++) {
      await new Promise((r) => setTimeout(r, 200));
      read = await store.get(ALICE);
    }
    // The PUT that gave up may have committed once PostgreSQL woke up: either version is right.
    const text = read._unsafeUnwrap()?.text;
    assert(text === written.text || text === "<x/>", text);
  } finally {
    await store.close();
  }
});

suite.test("PostgresStore counts each user's documents and bytes and refuses writes past the quota", async (pg) => {
  await withStore(pg, (store) => checkQuotaRules(store));
});

suite.test("PostgresStore: concurrent writers on three instances never take a user past the quota", async (pg) => {
  const url = await pg.createDatabase();
  const stores = await Promise.all([open(url), open(url), open(url)]);
  try {
    await checkConcurrentQuota(stores);
  } finally {
    for (const store of stores) await store.close();
  }
});

suite.test("serve.ts --postgres: two server processes on one database hold a user to the quota", async (pg) => {
  await checkServersHoldQuota(["--postgres", await pg.createDatabase()]);
});

suite.test("PostgresStore error values: bad options, names, closed store", async (pg) => {
  for (
    const [options, pattern] of [
      [{ table: "Xcap; DROP" }, /Option table/],
      [{ maxConnections: 0 }, /maxConnections must be a positive whole number/],
      [{ operationTimeoutMs: Number.NaN }, /operationTimeoutMs/],
      [{ xcapRootPath: "/a?b" }, /xcapRootPath/],
    ] as const
  ) {
    const opened = await openPostgresStore(pg.url(), options);
    assertEquals(tagOf(opened), "StoreFailure");
    assertMatch(opened.isErr() ? opened.error.message : "", pattern);
  }
  const refused = await openPostgresStore(`postgres://nobody@127.0.0.1:${pg.port}/xcap`);
  assertEquals(tagOf(refused), "StoreFailure");
  assertMatch(refused.isErr() ? refused.error.message : "", /nobody/);

  await withStore(pg, async (store) => {
    const surrogate = await store.put({ ...ALICE, xui: "sip:\ud800@example.com" }, LIST);
    assertEquals(tagOf(surrogate), "StoreFailure");
    assertMatch(surrogate.isErr() ? surrogate.error.message : "", /lone UTF-16 surrogate/);
    const long = { ...ALICE, xui: `sip:${"a".repeat(240)}@example.com` };
    for (
      const result of [await store.get(long), await store.put(long, LIST), await store.delete(long)]
    ) {
      assertMatch(result.isErr() ? result.error.message : "", /doc_uri .* has \d+ characters/);
    }
    await store.close();
    assertEquals(tagOf(await store.get(ALICE)), "StoreFailure");
  });
});

Deno.test("parseServeArgs() takes --postgres URL", () => {
  const url = "postgres://xcap@127.0.0.1:5432/xcap";
  const command = parseServeArgs(["--postgres", url, "--root", "/xcap"])._unsafeUnwrap();
  assertEquals(command.kind === "serve" && command.options.postgresUrl, url);
  assertEquals(parseServeArgs(["--postgres"]).isErr(), true);
});

Deno.test("startXcapServer() with an unreachable database does not start, and says why", async () => {
  const started = await startXcapServer({ postgresUrl: "postgres://xcap@127.0.0.1:9/xcap" });
  assertEquals(started.isErr() && started.error._tag, "ServerStart");
  assertMatch(
    started.isErr() ? started.error.message : "",
    /^Cannot use PostgreSQL: .*PostgreSQL is unavailable: .*ECONNREFUSED/,
  );
});

Deno.test("PostgresStore with a bad option or host returns StoreFailure, never a throw", async () => {
  const store = new PostgresStore("postgres://xcap@127.0.0.1:9/xcap", { maxConnections: -1 });
  const key: DocumentKey = { auid: "resource-lists", tree: "global", documentPath: "index" };
  for (const result of [await store.ready(), await store.get(key), await store.put(key, "<a/>")]) {
    assertEquals(tagOf(result), "StoreFailure");
    assertMatch(
      result.isErr() ? result.error.message : "",
      /^Cannot use this PostgreSQL store: Option maxConnections must be a positive whole number/,
    );
  }
  await store.close();
  const badUrl = await openPostgresStore("postgres://xcap:hunter2@[::1/xcap");
  assertEquals(tagOf(badUrl), "StoreFailure");
  assertEquals(JSON.stringify(badUrl).includes("hunter2"), false);
});
