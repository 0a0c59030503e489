/**
 * Digest as deployed clients answer it (issue 11.2) and authentication before any other answer
 * (issue 11.5), on the handler in process. The same against real peers (python-xcaplib,
 * xcapclient3) is in python_xcaplib_test.ts.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { withAuthentication } from "../src/client/auth.ts";
import { createFetchExecutor } from "../src/client/executor.ts";
import { computeDigestAuthorization } from "../src/client/_digest_answer.ts";
import {
  createXcapHandler,
  type ServerAuthenticationOptions,
  startXcapServer,
  usersAuthentication,
} from "../src/server/mod.ts";
import { digestChallenges, type PeerChallenge, urllibAuthorization } from "./_digest_peer.ts";

const RL = "urn:ietf:params:xml:ns:resource-lists";
const RL_TYPE = "application/resource-lists+xml";
const ALICE = "sip:alice@example.com";
const DOC =
  `<resource-lists xmlns="${RL}"><list name="friends"><entry uri="sip:bob@example.com"/>` +
  `</list></resource-lists>`;
const USERS = [
  { address: ALICE, password: "wonder land" },
  { address: "sip:bob@example.org", password: "builder" },
];

type Handler = (request: Request) => Promise<Response>;

function docPath(xui = ALICE, auid = "resource-lists"): string {
  return `/xcap-root/${auid}/users/${xui}/index`;
}

function handlerFor(options: Partial<ServerAuthenticationOptions> = {}): Handler {
  return createXcapHandler({ authentication: { ...usersAuthentication(USERS), ...options } });
}

/** GET `path` without credentials; the 401's Digest challenges. */
async function challenge(handler: Handler, path: string, method = "GET"): Promise<PeerChallenge[]> {
  const response = await handler(new Request(`http://127.0.0.1${path}`, { method }));
  await response.body?.cancel();
  assertEquals(response.status, 401, path);
  return digestChallenges(response.headers.get("www-authenticate"));
}

/** The MD5 challenge, as python-xcaplib picks it. */
function md5Of(challenges: PeerChallenge[]): PeerChallenge {
  const found = challenges.find((c) => c.algorithm === "MD5");
  assert(found !== undefined, "no MD5 challenge");
  return found;
}

/** Send `path` with urllib-style credentials for `uri` (the raw request-target by default). */
async function send(
  handler: Handler,
  path: string,
  options: {
    username?: string;
    password?: string;
    uri?: string;
    method?: string;
    body?: string;
    contentType?: string;
    challengePath?: string;
  } = {},
): Promise<Response> {
  const method = options.method ?? "GET";
  const c = md5Of(await challenge(handler, options.challengePath ?? path));
  const authorization = urllibAuthorization(c, {
    username: options.username ?? "alice",
    password: options.password ?? "wonder land",
    method,
    uri: options.uri ?? path,
  });
  return await handler(
    new Request(`http://127.0.0.1${path}`, {
      method,
      headers: {
        authorization,
        ...(options.contentType === undefined ? {} : { "content-type": options.contentType }),
      },
      ...(options.body === undefined ? {} : { body: options.body }),
    }),
  );
}

Deno.test("createXcapHandler() challenges in the addressed user's domain as its realm", async () => {
  const handler = handlerFor();
  for (
    const [path, realm] of [
      [docPath(), "example.com"],
      [docPath("sip:bob@example.org"), "example.org"],
      [docPath("sips:carol@Other.Example;transport=tls"), "Other.Example"],
      [docPath("alice@example.com", "com.example.unknown"), "example.com"],
      [docPath("sip:alice@example.com", "xcap-caps"), "example.com"],
      // An invalid URI still addresses a user: its domain.
      [`${docPath()}/~~/resource-lists/list[`, "example.com"],
      // No user, or no usable domain: the default realm (two domains here, so "xcap").
      ["/xcap-root/resource-lists/global/index", "xcap"],
      [docPath("tel:+15551234"), "xcap"],
      [docPath('sip:alice@exa"mple.com'), "xcap"],
      [docPath("sip:alice@ex%0Dample.com"), "xcap"],
    ] as const
  ) {
    const challenges = await challenge(handler, path);
    assertEquals(challenges.map((c) => c.realm), [realm, realm], path);
  }
});

Deno.test("usersAuthentication() defaults the realm of requests that address no user to the users' one domain", async () => {
  const handler = createXcapHandler({
    authentication: usersAuthentication([{ address: ALICE, password: "pw" }]),
  });
  const challenges = await challenge(handler, "/xcap-root/resource-lists/global/index");
  assertEquals(challenges[0]?.realm, "example.com");
  const fixed = createXcapHandler({
    authentication: usersAuthentication([{ address: ALICE, password: "pw" }], {
      defaultRealm: "global.example",
    }),
  });
  assertEquals(
    (await challenge(fixed, "/xcap-root/resource-lists/global/index"))[0]?.realm,
    "global.example",
  );
});

Deno.test("createXcapHandler() with a fixed realm uses it for every request", async () => {
  const handler = handlerFor({ realm: "xcap.example" });
  for (const path of [docPath(), docPath("sip:bob@example.org"), "/xcap-root/nothing"]) {
    assertEquals((await challenge(handler, path)).map((c) => c.realm), [
      "xcap.example",
      "xcap.example",
    ]);
  }
  // Under a fixed realm, Alice still signs in with her user part and reaches her tree.
  const response = await send(handler, docPath());
  assertEquals(response.status, 404);
  await response.body?.cancel();
});

Deno.test("createXcapHandler() sends every challenge in one WWW-Authenticate field, MD5 last, one nonce", async () => {
  const handler = handlerFor();
  const response = await handler(new Request(`http://127.0.0.1${docPath()}`));
  await response.body?.cancel();
  const fields = [...response.headers].filter(([name]) => name === "www-authenticate");
  assertEquals(fields.length, 1);
  const challenges = digestChallenges(fields[0]![1]);
  assertEquals(challenges.map((c) => c.algorithm), ["SHA-256", "MD5"]);
  assertEquals(new Set(challenges.map((c) => c.nonce)).size, 1);
  // What Python's urllib makes of the one field: later parameters win (parse_keqv_list).
  const merged: Record<string, string> = {};
  for (
    const [, key, quoted, token] of fields[0]![1].matchAll(/([\w-]+)=(?:"([^"]*)"|([^,\s]+))/g)
  ) {
    merged[key!] = quoted ?? token!;
  }
  assertEquals(merged.algorithm, "MD5");
  assertEquals(merged.realm, "example.com");
});

Deno.test("createXcapHandler() accepts the user part, user@host or the whole address as the user name", async () => {
  const handler = handlerFor();
  for (const username of ["alice", "alice@example.com", "sip:alice@example.com"]) {
    const response = await send(handler, docPath(), { username });
    assertEquals(response.status, 404, username); // signed in; no document yet
    await response.body?.cancel();
  }
  // Bob's user part in Alice's domain is nobody.
  const bob = await send(handler, docPath(), { username: "bob", password: "builder" });
  assertEquals(bob.status, 401);
  await bob.body?.cancel();
  // Bob signed in as himself still cannot read Alice's tree.
  const foreign = await send(handler, docPath(), {
    username: "bob@example.org",
    password: "builder",
  });
  assertEquals(foreign.status, 403);
  await foreign.body?.cancel();
});

Deno.test("createXcapHandler() parses a Digest uri with the raw quotes of an unencoded node selector", async () => {
  const handler = handlerFor();
  const created = await send(handler, docPath(), {
    method: "PUT",
    body: DOC,
    contentType: RL_TYPE,
  });
  assertEquals(created.status, 201);
  const selector =
    `${docPath()}/~~/resource-lists/list[@name="friends"]/entry[@uri="sip:bob@example.com"]/@uri`;
  const attribute = await send(handler, selector);
  assertEquals(attribute.status, 200);
  assertEquals(await attribute.text(), "sip:bob@example.com");
  // The same request with the selector percent-encoded in the request line (as our client sends
  // it) and raw in uri, and the other way round.
  const encoded = selector.replaceAll('"', "%22").replaceAll("[", "%5B").replaceAll("]", "%5D");
  for (const [path, uri] of [[encoded, selector], [selector, encoded]] as const) {
    const response = await send(handler, path, { uri });
    assertEquals(response.status, 200, `${path} with uri ${uri}`);
    await response.body?.cancel();
  }
  // RFC-conformant escaping of the quotes (quoted-pair) is read too.
  const c = md5Of(await challenge(handler, selector));
  const escaped = computeDigestAuthorization({
    realm: c.realm,
    nonce: c.nonce,
    ...(c.opaque === undefined ? {} : { opaque: c.opaque }),
    algorithmToken: "MD5",
    hash: "MD5",
    session: false,
    qop: "auth",
    stale: false,
    userhash: false,
  }, {
    username: "alice",
    password: "wonder land",
    method: "GET",
    uri: selector,
    cnonce: "c0ffee",
    nc: 1,
  });
  assertStringIncludes(escaped, '\\"friends\\"');
  const quoted = await handler(
    new Request(`http://127.0.0.1${selector}`, { headers: { authorization: escaped } }),
  );
  assertEquals(quoted.status, 200);
  await quoted.body?.cancel();
});

Deno.test("createXcapHandler() accepts a raw-quote Digest uri only when it names this request's target", async () => {
  const handler = handlerFor();
  const friends = `${docPath()}/~~/resource-lists/list[@name="friends"]`;
  const cases: [string, string][] = [
    // Another node of the same document.
    [friends, `${docPath()}/~~/resource-lists/list[@name="family"]`],
    // The same selector in another user's tree.
    [friends, friends.replace("alice@example.com", "bob@example.org")],
    // The query is part of the target.
    [`${friends}?xmlns(rl=${RL})`, friends],
    [friends, `${friends}?xmlns(rl=${RL})`],
    // Quotes placed so that another reading would name the target: none does.
    [friends, `${friends}", uri="${friends}`],
  ];
  for (const [path, uri] of cases) {
    const response = await send(handler, path, { uri });
    assertEquals(response.status, 401, `${path} with uri ${uri}`);
    assertStringIncludes(await response.text(), "Digest uri does not match the request");
  }
});

Deno.test("createXcapHandler() refuses a header full of quotes with a 401, not a 500", async () => {
  const handler = handlerFor();
  const c = md5Of(await challenge(handler, docPath()));
  for (
    const header of [
      `Digest username="alice", uri="${'", nonce="'.repeat(2_000)}`,
      `Digest ${'uri="a", '.repeat(500)}response="x"`,
      `Digest uri="${'"'.repeat(5_000)}", nonce="${c.nonce}"`,
      'Digest uri="/x[@a="1"]"',
    ]
  ) {
    const response = await handler(
      new Request(`http://127.0.0.1${docPath()}`, { headers: { authorization: header } }),
    );
    assertEquals(response.status, 401);
    await response.body?.cancel();
  }
});

Deno.test("createXcapHandler() with users challenges every request before saying whether anything exists", async () => {
  const handler = handlerFor();
  const requests: [string, string][] = [
    ["GET", docPath()],
    ["GET", docPath("sip:nobody@example.com")],
    ["GET", docPath(ALICE, "com.example.unknown")],
    ["GET", docPath(ALICE, "xcap-caps")],
    ["GET", `/xcap-root/xcap-caps/users/${ALICE}/other`],
    ["GET", `${docPath()}/~~/resource-lists/list[`],
    ["GET", `/xcap-root/resource-lists/users/${ALICE}/`],
    ["GET", `/xcap-root/resource-lists/users/`],
    ["GET", "/xcap-root/nothing"],
    ["GET", "/elsewhere"],
    ["GET", "/xcap-root/resource-lists/global/index"],
    ["GET", "/xcap-root/pres-rules/global/index"],
    ["POST", docPath()],
    ["OPTIONS", "/xcap-root/xcap-caps/global/index"],
    ["PUT", "/xcap-root/xcap-caps/global/index"],
    ["DELETE", "/xcap-root/xcap-caps/global/index"],
    ["PUT", docPath()],
    ["DELETE", docPath()],
  ];
  for (const [method, path] of requests) {
    const response = await handler(new Request(`http://127.0.0.1${path}`, { method }));
    assertEquals(response.status, 401, `${method} ${path}`);
    assertStringIncludes(await response.text(), "Authentication required");
  }
  // The global capabilities stay readable without credentials, as on OpenXCAP.
  for (
    const path of [
      "/xcap-root/xcap-caps/global/index",
      "/xcap-root/xcap-caps/global/index/~~/xcap-caps/auids",
    ]
  ) {
    for (const method of ["GET", "HEAD"]) {
      const response = await handler(new Request(`http://127.0.0.1${path}`, { method }));
      assertEquals(response.status, 200, `${method} ${path}`);
      await response.body?.cancel();
    }
  }
  const otherCaps = await handler(new Request("http://127.0.0.1/xcap-root/xcap-caps/global/other"));
  assertEquals(otherCaps.status, 404);
  await otherCaps.body?.cancel();
  // Signed in, the answers are the usual ones.
  for (
    const [method, path, status] of [
      ["GET", docPath(ALICE, "com.example.unknown"), 404],
      ["GET", docPath(ALICE, "xcap-caps"), 404],
      ["POST", docPath(), 405],
      ["GET", "/elsewhere", 404],
      ["GET", `${docPath()}/~~/resource-lists/list[`, 400],
    ] as const
  ) {
    const response = await send(handler, path, { method });
    assertEquals(response.status, status, `${method} ${path}`);
    await response.body?.cancel();
  }
});

Deno.test("startXcapServer() with users works with this module's own Digest client in the user's realm", async () => {
  const server = (await startXcapServer({ users: { [ALICE]: "wonder land" } }))._unsafeUnwrap();
  try {
    const execute = withAuthentication(createFetchExecutor(), {
      username: "alice",
      password: "wonder land",
    });
    const url = `${server.xcapRoot}/resource-lists/users/${ALICE}/index`;
    const created = await execute({
      method: "PUT",
      url,
      headers: { "content-type": RL_TYPE },
      body: DOC,
    });
    assertEquals(created._unsafeUnwrap().status, 201);
    for (let i = 0; i < 3; i++) {
      const read = await execute({
        method: "GET",
        url: `${url}/~~/resource-lists/list%5B@name=%22friends%22%5D/entry/@uri`,
        headers: {},
      });
      assertEquals(read._unsafeUnwrap().status, 200);
      assertEquals(read._unsafeUnwrap().body, "sip:bob@example.com");
    }
  } finally {
    await server.close();
  }
});
