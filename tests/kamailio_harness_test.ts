/**
 * The Kamailio test harness itself, checked with plain fetch (no XCAP client code involved), so
 * a failure here points at the server set-up rather than at the library.
 */
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertMatch,
  assertNotEquals,
  assertRejects,
} from "@std/assert";
import { createHash } from "node:crypto";
import { type KamailioServer, kamailioTest, startKamailio } from "./_kamailio.ts";

const LISTS = `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">
  <list name="friends">
    <entry uri="sip:bob@example.com"><display-name>Bob</display-name></entry>
  </list>
</resource-lists>
`;

function documentUrl(server: KamailioServer, user: string): string {
  return `${server.xcapRoot}/resource-lists/users/sip:${user}@127.0.0.1/index`;
}

async function putLists(url: string, headers: Record<string, string> = {}): Promise<Response> {
  const response = await fetch(url, {
    method: "PUT",
    headers: { "content-type": "application/resource-lists+xml", ...headers },
    body: LISTS,
  });
  await response.body?.cancel();
  return response;
}

function md5(text: string): string {
  return createHash("md5").update(text).digest("hex");
}

/** Parses the parameters of a `WWW-Authenticate: Digest ...` challenge (quoted or token values). */
function digestParameters(challenge: string): Record<string, string> {
  const parameters: Record<string, string> = {};
  for (const match of challenge.matchAll(/(\w+)=(?:"([^"]*)"|([^\s,]+))/g)) {
    parameters[match[1]!.toLowerCase()] = match[2] ?? match[3] ?? "";
  }
  return parameters;
}

/** An RFC 2617 (section 3.2.2) Digest response for qop=auth, nc=00000001. */
function digestAuthorization(
  challenge: Record<string, string>,
  request: { method: string; uri: string; username: string; password: string },
): string {
  const cnonce = "0a4f113b";
  const nc = "00000001";
  const ha1 = md5(`${request.username}:${challenge.realm}:${request.password}`);
  const ha2 = md5(`${request.method}:${request.uri}`);
  const response = md5(`${ha1}:${challenge.nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${request.username}", realm="${challenge.realm}", ` +
    `nonce="${challenge.nonce}", uri="${request.uri}", qop=auth, nc=${nc}, ` +
    `cnonce="${cnonce}", response="${response}"`;
}

kamailioTest("startKamailio() serves the xcap-caps document", async (server) => {
  assertMatch(server.xcapRoot, /^http:\/\/127\.0\.0\.1:\d+\/xcap-root$/);
  assertEquals(server.xcapRoot, `http://127.0.0.1:${server.port}/xcap-root`);
  const response = await fetch(`${server.xcapRoot}/xcap-caps/global/index`);
  const body = await response.text();
  assertEquals(response.status, 200);
  assertEquals(response.headers.get("content-type"), "application/xcap-caps+xml");
  assert(body.includes("<auid>resource-lists</auid>"), body);
});

kamailioTest(
  "startKamailio() stores a document: PUT, then GET returns it with its ETag",
  async (server) => {
    const url = documentUrl(server, "alice");
    const missing = await fetch(url);
    await missing.body?.cancel();
    assertEquals(missing.status, 404);

    const put = await putLists(url);
    // Kamailio answers 200 where RFC 4825 wants 201 for a new document (README, deviation 1).
    assertEquals(put.status, 200);
    const etag = put.headers.get("etag");
    assert(etag !== null, "PUT answered without an ETag");

    const got = await fetch(url);
    assertEquals(got.status, 200);
    assertEquals(await got.text(), LISTS);
    assertEquals(got.headers.get("etag"), etag);
    assertEquals(got.headers.get("content-type"), "application/resource-lists+xml");
  },
);

kamailioTest("startKamailio({ auth: true }) challenges with Digest and accepts the password", {
  auth: true,
}, async (server) => {
  assertEquals(server.password, "secret");
  const url = documentUrl(server, "alice");
  const anonymous = await fetch(url);
  await anonymous.body?.cancel();
  assertEquals(anonymous.status, 401);
  const header = anonymous.headers.get("www-authenticate") ?? "";
  assertMatch(header, /^Digest /);
  const challenge = digestParameters(header);
  assertEquals(challenge.realm, "xcap");
  assert(challenge.nonce, `no nonce in ${header}`);
  assertMatch(challenge.qop ?? "", /\bauth\b/);

  const path = new URL(url).pathname;
  const put = await putLists(url, {
    authorization: digestAuthorization(challenge, {
      method: "PUT",
      uri: path,
      username: "alice",
      password: server.password,
    }),
  });
  assertEquals(put.status, 200);
  assert(put.headers.get("etag") !== null, "authenticated PUT answered without an ETag");

  const wrong = await fetch(url, {
    headers: {
      authorization: digestAuthorization(challenge, {
        method: "GET",
        uri: path,
        username: "alice",
        password: "not-the-password",
      }),
    },
  });
  await wrong.body?.cancel();
  assertEquals(wrong.status, 401);
});

kamailioTest("startKamailio({ dbtext: true, workers: 2 }) stores documents", {
  dbtext: true,
  workers: 2,
}, async (server) => {
  const urls = ["carol", "dave", "erin", "frank"].map((user) => documentUrl(server, user));
  const puts = await Promise.all(urls.map((url) => putLists(url)));
  assertEquals(puts.map((response) => response.status), [200, 200, 200, 200]);
  for (const url of urls) {
    const got = await fetch(url);
    assertEquals(await got.text(), LISTS);
  }
});

kamailioTest("startKamailio() gives each server its own port and storage", async (first) => {
  const second = await startKamailio();
  try {
    assertNotEquals(second.port, first.port);
    assertNotEquals(second.dir, first.dir);
    assertEquals((await putLists(documentUrl(first, "alice"))).status, 200);
    const elsewhere = await fetch(documentUrl(second, "alice"));
    await elsewhere.body?.cancel();
    assertEquals(elsewhere.status, 404);
  } finally {
    await second.stop();
  }
});

kamailioTest("KamailioServer.stop() ends the server and removes its directory", async (server) => {
  const before = await fetch(`${server.xcapRoot}/xcap-caps/global/index`);
  await before.body?.cancel();
  assertEquals(before.status, 200);
  assert((await Deno.stat(`${server.dir}/kamailio.log`)).isFile);

  await server.stop();
  await server.stop(); // a second call is harmless
  assertInstanceOf(await assertRejects(() => Deno.stat(server.dir)), Deno.errors.NotFound);
  const refused = await assertRejects(async () => {
    const after = await fetch(`${server.xcapRoot}/xcap-caps/global/index`);
    await after.body?.cancel();
  });
  assertInstanceOf(refused, TypeError); // fetch's network error
});
