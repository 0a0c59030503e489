// Security: credentials never show up in errors or URLs, Basic is never sent over plain http
// without opt-in, Digest is not downgraded to Basic, the embedded server keeps users apart
// whatever the request path looks like on the wire, and entity expansion is refused.
import fc from "npm:fast-check@^4.3.0";
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import {
  createFetchExecutor,
  type Executor,
  interpretResponse,
  parseConflictReport,
  withAuthentication,
  XCAPClient,
  type XcapRequest,
} from "../mod.ts";
import { parseXmlDocument } from "../src/xml/mod.ts";
import { parseWwwAuthenticate } from "../src/client/auth.ts";
import { digestAuthorization } from "../src/client/_digest_answer.ts";
import { startXcapServer, type XcapServer } from "../src/server/mod.ts";
import { fcParams, serializeForLogs, withFaults } from "./_faults.ts";
import { rawRequest, serveHttp, serveRaw } from "./_hostile_server.ts";

const RL = "urn:ietf:params:xml:ns:resource-lists";
const RL_TYPE = "application/resource-lists+xml";
const ALICE = "sip:alice@example.com";
const BOB = "sip:bob@example.com";
const ALICE_PW = "alice-Pa55-\u00e9-secret";
const BOB_PW = "bob-Pa55-secret";
const MARKER = "BOB-PRIVATE-LIST-7f3a";
const BOB_DOC = `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="${RL}">
  <list name="${MARKER}"><entry uri="sip:carol@example.com"/></list>
</resource-lists>
`;

function basic(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/** Every secret form of a password that must never be in an error or a URL. */
function secretForms(username: string, password: string): string[] {
  return [password, basic(username, password).slice("Basic ".length), encodeURIComponent(password)];
}

function assertNoSecret(value: unknown, secrets: readonly string[], what: string): void {
  const text = serializeForLogs(value);
  for (const secret of secrets) {
    assert(!text.includes(secret), `${what} contains a credential:\n${text.slice(0, 2000)}`);
  }
}

/** An executor that records every request it passes on. */
function spy(inner: Executor): { executor: Executor; sent: XcapRequest[] } {
  const sent: XcapRequest[] = [];
  return {
    sent,
    executor: (request, options) => {
      sent.push(request);
      return inner(request, options);
    },
  };
}

async function withUsersServer<T>(
  run: (server: XcapServer) => Promise<T>,
  options: { allowBasicOverHttp?: boolean } = {},
): Promise<T> {
  const server = (await startXcapServer({
    users: { [ALICE]: ALICE_PW, [BOB]: BOB_PW },
    ...options,
  }))._unsafeUnwrap();
  try {
    return await run(server);
  } finally {
    await server.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------------

Deno.test("XCAPClient errors and request URLs never contain the password, whatever fails", async () => {
  const secrets = secretForms("alice", ALICE_PW);
  const outcomes: unknown[] = [];
  const urls: string[] = [];
  await withUsersServer(async (server) => {
    const run = async (client: XCAPClient) => {
      outcomes.push(await client.get("resource-lists"));
      outcomes.push(await client.put("resource-lists", `<resource-lists xmlns="${RL}"/>`));
      outcomes.push(await client.put("resource-lists", "<not-xml", undefined, { etag: "e" }));
      outcomes.push(await client.put("resource-lists", "<not-xml"));
      outcomes.push(
        await client.put("resource-lists", "<resource-lists/>", undefined, { global: true }),
      );
      outcomes.push(await client.put("resource-lists", "<entry/>", "/resource-lists/list/entry"));
      outcomes.push(await client.delete("resource-lists", undefined, { etag: "nope" }));
      outcomes.push(await client.get("resource-lists", "/resource-lists/@x", { global: true }));
    };
    // Right password (404, 409, 412, 403 on the global tree), wrong password (401), and through an
    // executor that injects network errors and 5xx.
    for (const password of [ALICE_PW, `${ALICE_PW}-wrong`]) {
      const s = spy(createFetchExecutor());
      await run(new XCAPClient(server.xcapRoot, ALICE, { password, executor: s.executor }));
      urls.push(...s.sent.map((r) => r.url));
    }
    const faulty = withFaults(createFetchExecutor(), { rate: 0.5, seed: 7 });
    await run(
      new XCAPClient(server.xcapRoot, ALICE, { password: ALICE_PW, executor: faulty.executor }),
    );
  });
  // A hostile server that only offers Basic (refused over http), an unknown Digest algorithm,
  // an unparseable challenge, a timeout and a closed port.
  const hostile = serveHttp((request) => {
    const path = new URL(request.url).pathname;
    const challenge = path.includes("basic")
      ? 'Basic realm="x"'
      : path.includes("algo")
      ? 'Digest realm="x", nonce="n", algorithm=SHA-1'
      : 'Digest realm="x, nonce=';
    return new Response(`echo ${request.headers.get("authorization")}`, {
      status: 401,
      headers: { "www-authenticate": challenge },
    });
  });
  const silent = serveRaw((conn) => conn.closing);
  try {
    for (const root of ["basic", "algo", "broken"]) {
      const client = new XCAPClient(`${hostile.origin}/${root}`, ALICE, { password: ALICE_PW });
      outcomes.push(await client.get("resource-lists"));
    }
    outcomes.push(
      await new XCAPClient(`${silent.origin}/x`, ALICE, { password: ALICE_PW, timeoutMs: 100 })
        .get("resource-lists"),
    );
    const closedPort = silent.origin.replace(/:\d+$/, ":9");
    outcomes.push(
      await new XCAPClient(`${closedPort}/x`, ALICE, { password: ALICE_PW }).get("resource-lists"),
    );
    // Basic allowed over http, but the user name cannot be sent with Basic.
    outcomes.push(
      await new XCAPClient(`${hostile.origin}/basic`, "sip:a:b@example.com", {
        password: ALICE_PW,
        username: "a:b",
        allowBasicOverHttp: true,
      }).get("resource-lists"),
    );
  } finally {
    await hostile.close();
    await silent.close();
  }
  const tags = new Set<string>();
  for (const outcome of outcomes) {
    const result = outcome as { isErr(): boolean; error: { _tag: string } };
    if (result.isErr()) tags.add(result.error._tag);
    assertNoSecret(outcome, secrets, "a result");
  }
  for (const url of urls) assertNoSecret(url, secrets, "a request URL");
  // The sweep did reach the failures it is about.
  for (
    const tag of [
      "Unauthorized",
      "MalformedResponse",
      "NetworkError",
      "Timeout",
      "InvalidArgument",
      "Conflict",
      "PreconditionFailed",
      "NotFound",
      "Forbidden",
    ]
  ) {
    assert(tags.has(tag), `no ${tag} among ${[...tags].join(", ")}`);
  }
});

Deno.test({
  name: "buildXcapUri() does not repeat credentials from the XCAP root in its error",
  // Regression (found by this suite, fixed): src/client/uri.ts normalizeRoot() (called by buildXcapUri, so by every XCAPClient call) puts the
  // whole xcapRoot into the message: `xcapRoot "http://alice:secret@h/" must not contain
  // credentials`, so the password lands in logs. The other normalizeRoot messages (not http(s),
  // query or fragment) and parseXcapUri's `show` do the same for a URL with userinfo.
  // Expected: the message names the problem without the userinfo (e.g. show url.origin/pathname
  // with the username and password removed).
  async fn() {
    const client = new XCAPClient("http://alice:S3cret-pw@127.0.0.1:9/xcap-root", ALICE, {
      password: "S3cret-pw",
    });
    const result = await client.get("resource-lists");
    assert(result.isErr());
    assertEquals(result.error._tag, "InvalidArgument");
    assertNoSecret(result, ["S3cret-pw"], "the error");
    assertNoSecret(
      await new XCAPClient("ftp://alice:S3cret-pw@127.0.0.1/x", ALICE).get("resource-lists"),
      ["S3cret-pw"],
      "the error",
    );
  },
});

Deno.test("the embedded server never echoes a password it was sent", async () => {
  await withUsersServer(async (server) => {
    const port = server.port;
    const target = `/xcap-root/resource-lists/users/${ALICE}/index`;
    const wrong = "Wr0ng-Pa55word-echo-test";
    for (
      const authorization of [
        basic("alice", wrong),
        basic("nobody", wrong),
        `Digest username="alice", realm="xcap", nonce="x", uri="${target}", response="${wrong}"`,
        `Basic ${wrong}`,
      ]
    ) {
      const answer = await rawRequest(port, { method: "GET", target, headers: { authorization } });
      assertEquals(answer.status, 401);
      assert(!answer.text.includes(wrong), answer.text);
      assert(!answer.text.includes(authorization.slice(6)), answer.text);
    }
  }, { allowBasicOverHttp: true });
});

// ---------------------------------------------------------------------------------------------
// Basic over http, and no downgrade
// ---------------------------------------------------------------------------------------------

Deno.test("withAuthentication() sends Basic over plain http only with allowBasicOverHttp", async () => {
  const seen: (string | null)[] = [];
  const server = serveHttp((request) => {
    seen.push(request.headers.get("authorization"));
    return request.headers.get("authorization") === basic("alice", ALICE_PW)
      ? new Response("<resource-lists/>")
      : new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="x"' } });
  });
  try {
    const refused = await new XCAPClient(`${server.origin}/r`, ALICE, { password: ALICE_PW })
      .get("resource-lists");
    assert(refused.isErr());
    assertEquals(refused.error._tag, "Unauthorized");
    assertEquals(seen, [null]);
    const allowed = await new XCAPClient(`${server.origin}/r`, ALICE, {
      password: ALICE_PW,
      allowBasicOverHttp: true,
    }).get("resource-lists");
    assert(allowed.isOk());
    assertEquals(seen, [null, null, basic("alice", ALICE_PW)]);
  } finally {
    await server.close();
  }
  // Over https Basic is answered without opt-in (a stand-in transport: no certificate needed).
  const https = spy((request) => {
    const ok = request.headers.authorization !== undefined;
    return createFetchExecutor({
      fetch: () =>
        Promise.resolve(
          ok ? new Response("<a/>") : new Response(null, {
            status: 401,
            headers: { "www-authenticate": 'Basic realm="x"' },
          }),
        ),
    })(request);
  });
  const viaHttps = await new XCAPClient("https://xcap.example.com/r", ALICE, {
    password: ALICE_PW,
    executor: https.executor,
  }).get("resource-lists");
  assert(viaHttps.isOk());
  assertEquals(https.sent[1]?.headers.authorization, basic("alice", ALICE_PW));
});

Deno.test("the embedded server accepts Basic over plain http only when allowed", async () => {
  const target = `/xcap-root/resource-lists/users/${ALICE}/index`;
  await withUsersServer(async (server) => {
    const answer = await rawRequest(server.port, {
      method: "GET",
      target,
      headers: { authorization: basic("alice", ALICE_PW) },
    });
    assertEquals(answer.status, 401);
    assert(!/www-authenticate: basic/i.test(answer.text), "Basic offered over http");
  });
  await withUsersServer(async (server) => {
    const answer = await rawRequest(server.port, {
      method: "GET",
      target,
      headers: { authorization: basic("alice", ALICE_PW) },
    });
    assertEquals(answer.status, 404);
  }, { allowBasicOverHttp: true });
});

Deno.test("withAuthentication() does not fall back from Digest to Basic, even with Basic allowed", async () => {
  const seen: (string | null)[] = [];
  let digestDone = false;
  const server = serveHttp((request) => {
    const authorization = request.headers.get("authorization");
    seen.push(authorization);
    if (!digestDone) {
      if (authorization?.startsWith("Digest ")) {
        digestDone = true;
        return new Response("<resource-lists/>");
      }
      return new Response(null, {
        status: 401,
        headers: { "www-authenticate": 'Digest realm="x", nonce="n1", qop="auth"' },
      });
    }
    // From now on the "server" (or someone in the path) asks for Basic.
    return new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="x"' } });
  });
  const mixed = serveHttp((request) => {
    seen.push(request.headers.get("authorization"));
    const headers = new Headers();
    headers.append("www-authenticate", 'Digest realm="x", nonce="n", algorithm=UNKNOWN-HASH');
    headers.append("www-authenticate", 'Basic realm="x"');
    return new Response(null, { status: 401, headers });
  });
  try {
    const client = new XCAPClient(`${server.origin}/r`, ALICE, {
      password: ALICE_PW,
      allowBasicOverHttp: true,
    });
    assert((await client.get("resource-lists")).isOk());
    const downgraded = await client.get("resource-lists");
    assert(downgraded.isErr());
    assertEquals(downgraded.error._tag, "Unauthorized");
    // A Digest challenge it cannot answer next to a Basic one: an error, not Basic.
    const unanswerable = await new XCAPClient(`${mixed.origin}/r`, ALICE, {
      password: ALICE_PW,
      allowBasicOverHttp: true,
    }).get("resource-lists");
    assert(unanswerable.isErr());
    assertEquals(unanswerable.error._tag, "MalformedResponse");
    assert(seen.every((h) => h === null || h.startsWith("Digest ")), seen.join("\n"));
  } finally {
    await server.close();
    await mixed.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Users kept apart on the embedded server
// ---------------------------------------------------------------------------------------------

/** Request-targets that try to reach Bob's document with Alice's credentials. */
function bobTargets(port: number): string[] {
  const r = "/xcap-root/resource-lists";
  return [
    `${r}/users/${BOB}/index`,
    `${r}/users/sip%3Abob%40example.com/index`,
    `${r}/users/sip:bob%40example.com/index`,
    `${r}/users/sip%253Abob%2540example.com/index`,
    `${r}/users/SIP:bob@example.com/index`,
    `${r}/users/sip:BOB@example.com/index`,
    `${r}/users/sip:bob@EXAMPLE.COM/index`,
    `${r}/users/sip:bob@example.com./index`,
    `${r}/users/sip:bob@example.com%2e/index`,
    `${r}/users/sip:bob@example.com;user=alice/index`,
    `${r}/users/bob@example.com/index`,
    `${r}/users/bob/index`,
    `${r}/users/${ALICE}/../${BOB}/index`,
    `${r}/users/${ALICE}/%2e%2e/${BOB}/index`,
    `${r}/users/${ALICE}/.%2E/${BOB}/index`,
    `${r}/users/${ALICE}\\..\\${BOB}\\index`,
    `${r}/users/${ALICE}%2F..%2F${BOB}/index`,
    `${r}/users/${ALICE}%2f%2e%2e%2f${BOB}/index`,
    `${r}/users/${ALICE}%5C..%5C${BOB}/index`,
    `${r}/users/./${BOB}/index`,
    `${r}/users//${BOB}/index`,
    `${r}/users/${ALICE};x/../../${BOB}/index`,
    `${r}/global/../users/${BOB}/index`,
    `${r}/global/%2e%2e/users/${BOB}/index`,
    `${r}/users/${BOB}/index/`,
    `${r}/users/${BOB}/%69ndex`,
    `${r}/users/${BOB}/./index`,
    `${r}/users/${BOB}/index?/../../${ALICE}/index`,
    `${r}/users/${BOB}/index#/../../${ALICE}/index`,
    `${r}/users/${BOB}/index/~~/resource-lists`,
    `${r}/users/${BOB}/index/~~/resource-lists/list/@name`,
    `${r}/users/${BOB}/index/~~/resource-lists/namespace::*`,
    `/xcap-root/xcap-caps/../resource-lists/users/${BOB}/index`,
    `/xcap-root/%72esource-lists/users/${BOB}/index`,
    `/xcap-root//resource-lists/users/${BOB}/index`,
    `/xcap-root/./resource-lists/users/${BOB}/index`,
    `/XCAP-ROOT/resource-lists/users/${BOB}/index`,
    `http://127.0.0.1:${port}${r}/users/${BOB}/index`,
    `http://evil.example${r}/users/${BOB}/index`,
  ];
}

async function bobDocument(server: XcapServer): Promise<{ text: string; etag: string }> {
  const got = await new XCAPClient(server.xcapRoot, BOB, { password: BOB_PW }).get(
    "resource-lists",
  );
  assert(got.isOk(), got.isErr() ? got.error.message : "");
  return { text: got.value.body, etag: got.value.etag ?? "" };
}

async function attack(
  port: number,
  target: string,
  authorization: string | undefined,
): Promise<{ method: string; status: number; text: string }[]> {
  const headers = authorization === undefined ? {} : { authorization };
  const out = [];
  for (const method of ["GET", "HEAD", "DELETE"]) {
    out.push({ method, ...await rawRequest(port, { method, target, headers }) });
  }
  out.push({
    method: "PUT",
    ...await rawRequest(port, {
      method: "PUT",
      target,
      headers: { ...headers, "content-type": RL_TYPE },
      body: `<resource-lists xmlns="${RL}"><list name="from-alice"/></resource-lists>`,
    }),
  });
  out.push({
    method: "PUT",
    ...await rawRequest(port, {
      method: "PUT",
      target: `${target.replace(/[?#].*$/, "")}/~~/resource-lists/list%5B@name=%22from-alice%22%5D`,
      headers: { ...headers, "content-type": "application/xcap-el+xml" },
      body: `<list name="from-alice"/>`,
    }),
  });
  return out;
}

Deno.test("the embedded server never lets Alice read or change Bob's documents, however the path is written", async () => {
  await withUsersServer(async (server) => {
    const bob = new XCAPClient(server.xcapRoot, BOB, { password: BOB_PW });
    assert((await bob.put("resource-lists", BOB_DOC)).isOk());
    const before = await bobDocument(server);
    const alice = basic("alice", ALICE_PW);
    let attempts = 0;
    for (const target of bobTargets(server.port)) {
      for (const answer of await attack(server.port, target, alice)) {
        attempts++;
        const where = `${answer.method} ${target} -> ${answer.status}`;
        assert(!answer.text.includes(MARKER), `${where} leaked Bob's document`);
        assert(answer.status !== 0, `${where}: no answer`);
        // Reads of Bob's document are refused (403), or name nothing (400, 404).
        if (answer.method === "GET" || answer.method === "HEAD") {
          assert([400, 403, 404].includes(answer.status), where);
        }
      }
    }
    assertEquals(await bobDocument(server), before);
    console.log(`cross-user: ${attempts} requests, Bob's document unchanged`);
  }, { allowBasicOverHttp: true });
});

/** Bob's XUI rewritten the ways a path can be disguised: escapes, case, dots, separators. */
const disguisedBob = fc.record({
  chars: fc.array(fc.constantFrom("keep", "encode", "double", "upper"), {
    minLength: BOB.length,
    maxLength: BOB.length,
  }),
  prefix: fc.constantFrom(
    "",
    "./",
    "%2e/",
    `${ALICE}/../`,
    `${ALICE}/%2e%2e/`,
    `${ALICE}\\..\\`,
    `${ALICE}%2F..%2F`,
    "..%2F",
    "/",
  ),
  suffix: fc.constantFrom("", ".", "%2e", "%2E", ";", "%3B", "%20", "%00", "/", "%2F", "\\", "%5C"),
  document: fc.constantFrom("index", "%69ndex", "./index", "index/", "index/~~/resource-lists"),
}).map(({ chars, prefix, suffix, document }) => {
  let xui = "";
  for (const [i, ch] of [...BOB].entries()) {
    const hex = `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`;
    switch (chars[i]) {
      case "encode":
        xui += hex;
        break;
      case "double":
        xui += `%25${hex.slice(1)}`;
        break;
      case "upper":
        xui += ch.toUpperCase();
        break;
      default:
        xui += ch;
    }
  }
  return `/xcap-root/resource-lists/users/${prefix}${xui}${suffix}/${document}`;
});

Deno.test("the embedded server keeps users apart for generated disguises of another user's path", async () => {
  await withUsersServer(async (server) => {
    const bob = new XCAPClient(server.xcapRoot, BOB, { password: BOB_PW });
    assert((await bob.put("resource-lists", BOB_DOC)).isOk());
    const before = await bobDocument(server);
    const alice = basic("alice", ALICE_PW);
    await fc.assert(
      fc.asyncProperty(disguisedBob, async (target) => {
        for (const answer of await attack(server.port, target, alice)) {
          assert(!answer.text.includes(MARKER), `${answer.method} ${target} leaked`);
          assert(answer.status !== 0);
        }
        // Without credentials, nothing but 401 (or a malformed-request 400).
        const anonymous = await rawRequest(server.port, { method: "GET", target });
        assert([400, 401].includes(anonymous.status), `${target} -> ${anonymous.status}`);
      }),
      fcParams("disguised cross-user paths", 150),
    );
    assertEquals(await bobDocument(server), before);
  }, { allowBasicOverHttp: true });
});

Deno.test({
  name: "the embedded server asks for credentials on every path outside xcap-caps",
  // Regression (found by this suite, fixed): src/server/handler.ts handle() decides that a request is an anonymous xcap-caps read from
  // `new URL(request.url).pathname` (WHATWG-normalized: "\" becomes "/", ".." and "%2e%2e"
  // segments are resolved) but resolves the document from the raw `request.url` with
  // parseXcapUri(). Deno.serve hands the request-target over un-normalized, so a GET of
  //   /xcap-root/resource-lists/users/sip:bob@example.com/index/~~/resource-lists/
  //   list%5B@name=%22x\..\..\..\..\..\..\..\xcap-caps\global\index%22%5D
  // looks like `xcap-caps/global/index` to the authentication check (skipped, so the owner check
  // is skipped too) and like Bob's document to everything after it. Without any credentials the
  // answer is 404 "No element matches node selector ..." when Bob has the document and 404 "no
  // document at this URI" when he has not (a document existence oracle for any user and path;
  // a selector whose predicates match Bob's data would return it). Expected: 401. Fix: decide
  // `capsRead` from the parsed URI (`uri.auid === "xcap-caps"`), i.e. from the same string that
  // selects the document.
  async fn() {
    await withUsersServer(async (server) => {
      const bob = new XCAPClient(server.xcapRoot, BOB, { password: BOB_PW });
      assert((await bob.put("resource-lists", BOB_DOC)).isOk());
      const back = "\\..".repeat(7);
      for (const who of [BOB, "sip:nobody@example.com"]) {
        const target = `/xcap-root/resource-lists/users/${who}/index/~~/resource-lists/` +
          `list%5B@name=%22x${back}\\xcap-caps\\global\\index%22%5D`;
        const anonymous = await rawRequest(server.port, { method: "GET", target });
        assertEquals(anonymous.status, 401, anonymous.text);
      }
    });
  },
});

Deno.test("the embedded server refuses a Digest answer computed for another request-target", async () => {
  await withUsersServer(async (server) => {
    const bob = new XCAPClient(server.xcapRoot, BOB, { password: BOB_PW });
    assert((await bob.put("resource-lists", BOB_DOC)).isOk());
    const own = `/xcap-root/resource-lists/users/${ALICE}/index`;
    const foreign = `/xcap-root/resource-lists/users/${BOB}/index`;
    const challenge = await rawRequest(server.port, { method: "GET", target: own });
    const header = /www-authenticate: (Digest [^\r\n]*algorithm=SHA-256[^\r\n]*)/i
      .exec(challenge.text)?.[1];
    assert(header !== undefined, challenge.text);
    const parsed = parseWwwAuthenticate(header)._unsafeUnwrap()[0]!;
    const answer = (uri: string, nc: number) =>
      digestAuthorization(parsed, {
        username: "alice",
        password: ALICE_PW,
        method: "GET",
        uri,
        cnonce: `c${nc}`,
        nc,
      })._unsafeUnwrap();
    // Alice's answer for her own document, replayed against Bob's.
    const replayed = await rawRequest(server.port, {
      method: "GET",
      target: foreign,
      headers: { authorization: answer(own, 1) },
    });
    assertEquals(replayed.status, 401);
    assert(!replayed.text.includes(MARKER));
    // A correct answer for Bob's URI is authenticated, and then refused as Bob's.
    const honest = await rawRequest(server.port, {
      method: "GET",
      target: foreign,
      headers: { authorization: answer(foreign, 2) },
    });
    assertEquals(honest.status, 403);
    assert(!honest.text.includes(MARKER));
  });
});

// ---------------------------------------------------------------------------------------------
// Entity expansion
// ---------------------------------------------------------------------------------------------

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
`;
/** Quadratic blow-up: one big entity referenced many times. */
const QUADRATIC = `<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY big "${"x".repeat(50_000)}">]>\n`;

// What these inputs cost is measured by `deno bench` (tests/bench/hostile_input_bench.ts), never by
// a timed assertion here: a parser that expanded the entities would not return these error values.

Deno.test("parseXmlDocument() refuses billion-laughs and quadratic entity expansion at once", () => {
  const documents = [
    `${BILLION_LAUGHS}<resource-lists xmlns="${RL}"><list name="&lol9;"/></resource-lists>`,
    `${QUADRATIC}<r>${"&big;".repeat(10_000)}</r>`,
    // An external entity: nothing is fetched or read.
    `<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<r>&x;</r>`,
  ];
  for (const text of documents) {
    const parsed = parseXmlDocument(text);
    assert(parsed.isErr());
    assertEquals(parsed.error.tag, "constraint-failure");
  }
  // Without a DTD an undeclared entity is simply not well-formed.
  const undeclared = parseXmlDocument(`<r>${"&lol9;".repeat(1000)}</r>`);
  assert(undeclared.isErr());
  assertEquals(undeclared.error.tag, "not-well-formed");
});

Deno.test("parseXmlDocument() refuses deep nesting without exhausting the stack", () => {
  for (const depth of [101, 10_000, 200_000]) {
    const text = "<a>".repeat(depth) + "</a>".repeat(depth);
    const parsed = parseXmlDocument(text);
    assert(parsed.isErr());
    assertEquals(parsed.error.tag, "constraint-failure");
  }
});

Deno.test("parseConflictReport() and interpretResponse() do not expand entities or overflow on hostile 409 bodies", () => {
  const bodies = [
    `${BILLION_LAUGHS}<xcap-error xmlns="urn:ietf:params:xml:ns:xcap-error">` +
    `<not-well-formed phrase="&lol9;"/></xcap-error>`,
    `${QUADRATIC}<xcap-error xmlns="urn:ietf:params:xml:ns:xcap-error">` +
    `<extension>${"&big;".repeat(10_000)}</extension></xcap-error>`,
    `<xcap-error xmlns="urn:ietf:params:xml:ns:xcap-error"><extension>` +
    "<a>".repeat(100_000) + "</a>".repeat(100_000) + "</extension></xcap-error>",
  ];
  for (const body of bodies) {
    const parsed = parseConflictReport(body);
    if (parsed.isOk()) {
      // Whatever it returns is no bigger than the input: nothing was expanded.
      assert(JSON.stringify(parsed.value).length <= body.length * 2);
      assert(!JSON.stringify(parsed.value).includes("lollollol"));
    }
    const response = interpretResponse({
      status: 409,
      headers: new Headers({ "content-type": "application/xcap-error+xml" }),
      body,
      url: "http://127.0.0.1/x",
    });
    assert(response.isErr());
    assertEquals(response.error._tag, "Conflict");
    assert(response.error.message.length < 10_000, "the message repeats the body");
  }
});

Deno.test("the embedded server answers entity-expansion and oversized documents with 409 and 413", async () => {
  await withUsersServer(async (server) => {
    const alice = new XCAPClient(server.xcapRoot, ALICE, { password: ALICE_PW });
    const laughs = await alice.put(
      "resource-lists",
      `${BILLION_LAUGHS}<resource-lists xmlns="${RL}"><list name="&lol9;"/></resource-lists>`,
    );
    assert(laughs.isErr() && laughs.error._tag === "Conflict");
    assertEquals(laughs.error.condition?.tag, "constraint-failure");
    const huge = await alice.put(
      "resource-lists",
      `<resource-lists xmlns="${RL}"><!--${"x".repeat(1_100_000)}--></resource-lists>`,
    );
    assert(huge.isErr());
    assertEquals(huge.error._tag, "HttpError");
    assertStringIncludes(huge.error.message, "413");
    // Nothing was stored.
    const got = await alice.get("resource-lists");
    assert(got.isErr() && got.error._tag === "NotFound");
  });
});

Deno.test("withAuthentication() keeps the caller's own Authorization header and adds none", async () => {
  const sent: XcapRequest[] = [];
  const execute = withAuthentication((request) => {
    sent.push(request);
    return createFetchExecutor({
      fetch: () =>
        Promise.resolve(
          new Response(null, {
            status: 401,
            headers: { "www-authenticate": 'Digest realm="x", nonce="n"' },
          }),
        ),
    })(request);
  }, { username: "alice", password: ALICE_PW });
  const result = await execute({
    method: "GET",
    url: "http://127.0.0.1:9/x",
    headers: { authorization: "Bearer caller-token" },
  });
  assert(result.isOk());
  assertEquals(sent.length, 1);
  assertEquals(sent[0]?.headers.authorization, "Bearer caller-token");
});
