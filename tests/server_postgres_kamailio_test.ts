/**
 * The embedded server with `--postgres` and a real Kamailio `xcap_server` (db_postgres) on the
 * same database: each serves what the other wrote, byte for byte, with the same entity-tag, and
 * Kamailio's own directory lists the embedded server's documents under the right AUID.
 * One PostgreSQL cluster for the file (tests/_postgres.ts), a fresh database and Kamailio per test.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { startXcapServer, type XcapServer } from "../src/server/serve.ts";
import { kamailioPostgresAvailable, type KamailioServer, startKamailio } from "./_kamailio.ts";
import { type PostgresCluster, postgresSuite } from "./_postgres.ts";

const suite = postgresSuite({ requires: kamailioPostgresAvailable });
const ALICE = "sip:alice@example.com";
const BYTES = new TextEncoder().encode(
  '<?xml version="1.0" encoding="UTF-8"?>\n<!-- Alice\'s buddies: ü € 𝄞 -->\n' +
    '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">\n' +
    '  <list name="friends">\n    <entry uri="sip:bob@example.com"><display-name>Bob' +
    "</display-name></entry>\n  </list>\n</resource-lists>\n",
);

/** Our server (which creates the tables) and Kamailio, both on a fresh database. */
async function bothOn(
  pg: PostgresCluster,
  fn: (ours: XcapServer, kamailio: KamailioServer, database: string) => Promise<void>,
): Promise<void> {
  const url = await pg.createDatabase();
  const ours = (await startXcapServer({ postgresUrl: url }))._unsafeUnwrap();
  try {
    const kamailio = await startKamailio({ postgres: url });
    try {
      await fn(ours, kamailio, new URL(url).pathname.slice(1));
    } finally {
      await kamailio.stop();
    }
  } finally {
    await ours.close();
  }
}

async function bytesOf(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer());
}

suite.test("A document written through the embedded server is served by Kamailio byte for byte", async (pg) => {
  await bothOn(pg, async (ours, kamailio) => {
    const path = `/resource-lists/users/${ALICE}/index`;
    const put = await fetch(`${ours.xcapRoot}${path}`, {
      method: "PUT",
      headers: { "content-type": "application/resource-lists+xml" },
      body: BYTES,
    });
    await put.body?.cancel();
    assertEquals(put.status, 201);
    const etag = put.headers.get("etag")!;
    const got = await fetch(`${kamailio.xcapRoot}${path}`);
    assertEquals(got.status, 200);
    assertEquals(got.headers.get("etag"), etag);
    assertEquals(await bytesOf(got), BYTES);
    assertEquals(await bytesOf(await fetch(`${ours.xcapRoot}${path}`)), BYTES);
    // A change through ours (an element PUT splices the text) is what Kamailio serves next.
    const element = await fetch(
      `${ours.xcapRoot}${path}/~~/resource-lists/list%5B@name=%22friends%22%5D/entry%5B@uri=%22sip:carol@example.com%22%5D`,
      {
        method: "PUT",
        headers: { "content-type": "application/xcap-el+xml", "if-match": etag },
        body: '<entry uri="sip:carol@example.com"/>',
      },
    );
    await element.body?.cancel();
    assertEquals(element.status, 201);
    const ourCopy = await fetch(`${ours.xcapRoot}${path}`);
    const theirCopy = await fetch(`${kamailio.xcapRoot}${path}`);
    assertEquals(theirCopy.headers.get("etag"), element.headers.get("etag"));
    assertEquals(ourCopy.headers.get("etag"), element.headers.get("etag"));
    assertEquals(await bytesOf(theirCopy), await bytesOf(ourCopy));
  });
});

suite.test("A document written through Kamailio is served by the embedded server with its ETag", async (pg) => {
  await bothOn(pg, async (ours, kamailio) => {
    const path = `/pres-rules/users/${ALICE}/index`;
    const rules = new TextEncoder().encode(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<cr:ruleset xmlns="urn:ietf:params:xml:ns:pres-rules" ' +
        'xmlns:cr="urn:ietf:params:xml:ns:common-policy">\n' +
        '  <cr:rule id="allow-bob"><cr:conditions><cr:identity><cr:one id="sip:bob@example.com"/>' +
        "</cr:identity></cr:conditions><cr:actions><sub-handling>allow</sub-handling>" +
        "</cr:actions><cr:transformations/></cr:rule>\n</cr:ruleset>\n",
    );
    const put = await fetch(`${kamailio.xcapRoot}${path}`, {
      method: "PUT",
      headers: {
        "content-type": "application/auth-policy+xml",
        "content-length": String(rules.length),
      },
      body: rules,
    });
    await put.body?.cancel();
    assertEquals(put.status, 200);
    const kamailioEtag = put.headers.get("etag")!;
    assertMatch(kamailioEtag, /^"sr-\d+-\d+-\d+"$/);

    const got = await fetch(`${ours.xcapRoot}${path}`);
    assertEquals(got.status, 200);
    assertEquals(got.headers.get("etag"), kamailioEtag);
    assertEquals(await bytesOf(got), rules);
    // Preconditions work across the two: ours accepts Kamailio's tag, Kamailio then refuses it.
    const replaced = await fetch(
      `${ours.xcapRoot}${path}/~~/cr:ruleset/cr:rule%5B@id=%22allow-bob%22%5D/cr:actions/sub-handling?xmlns(cr=urn:ietf:params:xml:ns:common-policy)`,
      {
        method: "PUT",
        headers: { "content-type": "application/xcap-el+xml", "if-match": kamailioEtag },
        body: '<sub-handling xmlns="urn:ietf:params:xml:ns:pres-rules">block</sub-handling>',
      },
    );
    await replaced.body?.cancel();
    assertEquals(replaced.status, 200);
    const stale = await fetch(`${kamailio.xcapRoot}${path}`, {
      method: "PUT",
      headers: { "if-match": kamailioEtag, "content-length": String(rules.length) },
      body: rules,
    });
    await stale.body?.cancel();
    assertEquals(stale.status, 412);
    const now = await fetch(`${kamailio.xcapRoot}${path}`);
    assertEquals(now.headers.get("etag"), replaced.headers.get("etag"));
    assertMatch(
      await now.text(),
      /<sub-handling xmlns="urn:ietf:params:xml:ns:pres-rules">block<\/sub-handling>/,
    );
    // A DELETE through ours is gone for Kamailio too.
    const deleted = await fetch(`${ours.xcapRoot}${path}`, { method: "DELETE" });
    await deleted.body?.cancel();
    assertEquals(deleted.status, 200);
    const gone = await fetch(`${kamailio.xcapRoot}${path}`);
    await gone.body?.cancel();
    assertEquals(gone.status, 404);
  });
});

suite.test("Kamailio's xcap-directory lists the embedded server's documents; others stay hidden", async (pg) => {
  await bothOn(pg, async (ours, kamailio, database) => {
    const etags: Record<string, string> = {};
    for (
      const [path, type] of [
        [`/resource-lists/users/${ALICE}/index`, "application/resource-lists+xml"],
        [`/rls-services/users/${ALICE}/index`, "application/rls-services+xml"],
        // Not Kamailio's to see: an XUI that is not sip:user@host.
        ["/resource-lists/users/bob/index", "application/resource-lists+xml"],
      ] as const
    ) {
      const body = path.startsWith("/rls")
        ? '<rls-services xmlns="urn:ietf:params:xml:ns:rls-services"/>'
        : '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"/>';
      const put = await fetch(`${ours.xcapRoot}${path}`, {
        method: "PUT",
        headers: { "content-type": type },
        body,
      });
      await put.body?.cancel();
      assertEquals(put.status, 201, path);
      etags[path] = put.headers.get("etag")!;
    }
    const directory = await fetch(
      `${kamailio.xcapRoot}/org.openmobilealliance.xcap-directory/users/${ALICE}/directory.xml`,
    );
    assertEquals(directory.status, 200);
    const listing = await directory.text();
    const listed: [string, string][] = [
      ["resource-lists", `/resource-lists/users/${ALICE}/index`],
      ["rls-services", `/rls-services/users/${ALICE}/index`],
    ];
    for (const [auid, path] of listed) {
      assertMatch(listing, new RegExp(`<folder auid="${auid}">`));
      assert(listing.includes(`/xcap-root${path}" etag="${etags[path]!.slice(1, -1)}"`), listing);
    }
    // Kamailio's script maps users/bob to sip:bob@127.0.0.1: no row of that user.
    const bob = await fetch(`${kamailio.xcapRoot}/resource-lists/users/bob/index`);
    await bob.body?.cancel();
    assertEquals(bob.status, 404);
    assertEquals(
      await pg.psql(
        "SELECT username, domain, doc_type FROM xcap WHERE doc_uri LIKE '%/users/bob/index'",
        database,
      ),
      "||0",
    );
  });
});
