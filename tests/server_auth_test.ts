import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { withAuthentication } from "../src/client/auth.ts";
import { createFetchExecutor } from "../src/client/executor.ts";
import {
  computeBasicAuthorization,
  type DigestChallenge,
  parseChallenges,
  readDigestChallenge,
} from "../src/client/_digest.ts";
import { computeDigestAuthorization } from "../src/client/_digest_answer.ts";
import { createXcapHandler, type ServerAuthenticationOptions } from "../src/server/mod.ts";
import { createAuthenticator, ownsXui } from "../src/server/auth.ts";

const ROOT = "http://127.0.0.1/xcap-root";
const RL = "urn:ietf:params:xml:ns:resource-lists";
const RL_TYPE = "application/resource-lists+xml";
const ALICE = "sip:alice@example.com";
const BOB = "sip:bob@example.com";
const DOC = `<resource-lists xmlns="${RL}"><list name="friends"/></resource-lists>`;
const PASSWORDS: Record<string, string> = {
  "alice": "wonder land",
  "alice@example.com": "wonder land",
  "bob": "builder",
};

function docUrl(xui = ALICE, root = ROOT): string {
  return `${root}/resource-lists/users/${xui}/index`;
}

function authOptions(
  extra: Partial<ServerAuthenticationOptions> = {},
): ServerAuthenticationOptions {
  return { realm: "xcap", lookup: (user) => PASSWORDS[user], ...extra };
}

/** The Digest challenges of a 401, by algorithm. */
function digestChallenges(response: Response): Map<string, DigestChallenge> {
  assertEquals(response.status, 401);
  const parsed = parseChallenges(response.headers.get("www-authenticate") ?? "");
  assert(parsed.isOk());
  const result = new Map<string, DigestChallenge>();
  for (const challenge of parsed.value) {
    const digest = readDigestChallenge(challenge);
    if (digest.isOk()) result.set(digest.value.hash, digest.value);
  }
  return result;
}

async function challenge(
  handler: (r: Request) => Promise<Response>,
  url: string,
  hash: "MD5" | "SHA-256" = "SHA-256",
): Promise<DigestChallenge> {
  const response = await handler(new Request(url));
  await response.body?.cancel();
  const found = digestChallenges(response).get(hash);
  assert(found !== undefined, `no ${hash} challenge`);
  return found;
}

function answer(
  c: DigestChallenge,
  url: string,
  options: { username?: string; password?: string; method?: string; nc?: number; uri?: string } =
    {},
): string {
  const target = new URL(url);
  return computeDigestAuthorization(c, {
    username: options.username ?? "alice",
    password: options.password ?? "wonder land",
    method: options.method ?? "GET",
    uri: options.uri ?? target.pathname + target.search,
    cnonce: "0a4f113b",
    nc: options.nc ?? 1,
  });
}

Deno.test("createXcapHandler() with authentication challenges with Digest SHA-256, then MD5", async () => {
  const handler = createXcapHandler({ authentication: authOptions() });
  const response = await handler(new Request(docUrl()));
  assertEquals(response.status, 401);
  assertEquals(response.headers.get("content-type"), "text/plain; charset=utf-8");
  const body = await response.text();
  assertStringIncludes(body, "Authentication required");
  const parsed = parseChallenges(response.headers.get("www-authenticate") ?? "");
  assert(parsed.isOk());
  assertEquals(parsed.value.map((c) => [c.scheme, c.params.algorithm]), [
    ["Digest", "SHA-256"],
    ["Digest", "MD5"],
  ]);
  for (const c of parsed.value) {
    assertEquals(c.params.realm, "xcap");
    assertEquals(c.params.qop, "auth");
    assert((c.params.nonce ?? "").length > 20);
  }
});

Deno.test("createXcapHandler() accepts Digest SHA-256 and MD5 answers", async () => {
  const handler = createXcapHandler({ authentication: authOptions() });
  for (const hash of ["SHA-256", "MD5"] as const) {
    const c = await challenge(handler, docUrl(), hash);
    const response = await handler(
      new Request(docUrl(), {
        headers: { authorization: answer(c, docUrl()) },
      }),
    );
    assertEquals(response.status, 404, hash); // authenticated; the document does not exist yet
    await response.body?.cancel();
  }
});

Deno.test("createXcapHandler() refuses wrong passwords, unknown users and foreign realms", async () => {
  const handler = createXcapHandler({ authentication: authOptions() });
  const cases = [
    { password: "s3cr3t-guess" },
    { username: "mallory", password: "s3cr3t-guess" },
  ];
  for (const options of cases) {
    const c = await challenge(handler, docUrl());
    const response = await handler(
      new Request(docUrl(), {
        headers: { authorization: answer(c, docUrl(), options) },
      }),
    );
    assertEquals(response.status, 401);
    const body = await response.text();
    assertStringIncludes(body, "Unknown user name or wrong password");
    // No credential is echoed.
    assert(!body.includes("s3cr3t-guess") && !body.includes("mallory"));
    assert(!(response.headers.get("www-authenticate") ?? "").includes("stale=true"));
  }
  const c = await challenge(handler, docUrl());
  const foreign = await handler(
    new Request(docUrl(), {
      headers: { authorization: answer({ ...c, realm: "other" }, docUrl()) },
    }),
  );
  assertEquals(foreign.status, 401);
  assertStringIncludes(await foreign.text(), "another realm");
});

Deno.test("createXcapHandler() refuses Digest credentials computed for another URI (RFC 7616 §3.4.6)", async () => {
  const handler = createXcapHandler({ authentication: authOptions() });
  const c = await challenge(handler, docUrl());
  const other = new URL(`${docUrl()}/~~/resource-lists`);
  const response = await handler(
    new Request(docUrl(), {
      headers: { authorization: answer(c, docUrl(), { uri: other.pathname }) },
    }),
  );
  assertEquals(response.status, 401);
  assertStringIncludes(await response.text(), "does not match the request");
});

Deno.test("createXcapHandler() accepts an absolute Digest uri naming the request target", async () => {
  const handler = createXcapHandler({ authentication: authOptions() });
  const c = await challenge(handler, docUrl());
  const response = await handler(
    new Request(docUrl(), {
      headers: { authorization: answer(c, docUrl(), { uri: docUrl() }) },
    }),
  );
  assertEquals(response.status, 404);
  await response.body?.cancel();
});

Deno.test("createXcapHandler() refuses a replayed nonce count with stale=true", async () => {
  const handler = createXcapHandler({ authentication: authOptions() });
  const c = await challenge(handler, docUrl());
  const authorization = answer(c, docUrl(), { nc: 1 });
  const first = await handler(new Request(docUrl(), { headers: { authorization } }));
  assertEquals(first.status, 404);
  await first.body?.cancel();
  const replay = await handler(new Request(docUrl(), { headers: { authorization } }));
  assertEquals(replay.status, 401);
  assertStringIncludes(replay.headers.get("www-authenticate") ?? "", "stale=true");
  assertStringIncludes(await replay.text(), "used before");
  // The next count with the same nonce is fine, also out of order.
  for (const nc of [3, 2]) {
    const next = await handler(
      new Request(docUrl(), {
        headers: { authorization: answer(c, docUrl(), { nc }) },
      }),
    );
    assertEquals(next.status, 404, `nc ${nc}`);
    await next.body?.cancel();
  }
});

Deno.test("createXcapHandler() answers an expired nonce with stale=true", async () => {
  const handler = createXcapHandler({ authentication: authOptions({ nonceLifetimeSeconds: 1 }) });
  const c = await challenge(handler, docUrl());
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const response = await handler(
    new Request(docUrl(), {
      headers: { authorization: answer(c, docUrl()) },
    }),
  );
  assertEquals(response.status, 401);
  assertStringIncludes(await response.text(), "expired");
  const fresh = digestChallenges(response);
  assert([...fresh.values()].every((d) => d.stale));
  // With the wrong password the old nonce is not reported stale: that would confirm nothing.
  const wrong = await handler(
    new Request(docUrl(), {
      headers: { authorization: answer(c, docUrl(), { password: "nope" }) },
    }),
  );
  assertEquals(wrong.status, 401);
  assert(!(wrong.headers.get("www-authenticate") ?? "").includes("stale=true"));
  await wrong.body?.cancel();
});

Deno.test("createXcapHandler() accepts nonces of another instance with the same secret only", async () => {
  const secret = "shared secret for all instances";
  const one = createXcapHandler({ authentication: authOptions({ secret }) });
  const two = createXcapHandler({ authentication: authOptions({ secret }) });
  const stranger = createXcapHandler({ authentication: authOptions({ secret: "other" }) });
  const c = await challenge(one, docUrl());
  const accepted = await two(
    new Request(docUrl(), { headers: { authorization: answer(c, docUrl()) } }),
  );
  assertEquals(accepted.status, 404);
  await accepted.body?.cancel();
  const refused = await stranger(
    new Request(docUrl(), {
      headers: { authorization: answer(c, docUrl(), { nc: 2 }) },
    }),
  );
  assertEquals(refused.status, 401);
  assertStringIncludes(await refused.text(), "foreign opaque value");
  const { opaque: _opaque, ...withoutOpaque } = c;
  const noOpaque = await stranger(
    new Request(docUrl(), {
      headers: { authorization: answer(withoutOpaque, docUrl(), { nc: 3 }) },
    }),
  );
  assertEquals(noOpaque.status, 401);
  assertStringIncludes(await noOpaque.text(), "Unknown nonce");
});

Deno.test("createXcapHandler() refuses forged nonces and unsupported algorithms", async () => {
  const handler = createXcapHandler({
    authentication: authOptions({ schemes: ["digest-sha-256"] }),
  });
  const c = await challenge(handler, docUrl());
  const forged = await handler(
    new Request(docUrl(), {
      headers: { authorization: answer({ ...c, nonce: "bm90IGEgbm9uY2U" }, docUrl()) },
    }),
  );
  assertEquals(forged.status, 401);
  assertStringIncludes(await forged.text(), "Unknown nonce");
  const md5 = await handler(
    new Request(docUrl(), {
      headers: {
        authorization: answer({ ...c, hash: "MD5", algorithmToken: "MD5" }, docUrl()),
      },
    }),
  );
  assertEquals(md5.status, 401);
  assertStringIncludes(await md5.text(), "not accepted");
  const parsed = parseChallenges(md5.headers.get("www-authenticate") ?? "");
  assert(parsed.isOk());
  assertEquals(parsed.value.length, 1);
});

Deno.test("createXcapHandler() takes Basic only over HTTPS unless allowBasicOverHttp", async () => {
  const basic = computeBasicAuthorization("alice", "wonder land");
  const strict = createXcapHandler({ authentication: authOptions() });
  const overHttp = await strict(new Request(docUrl(), { headers: { authorization: basic } }));
  assertEquals(overHttp.status, 401);
  assertStringIncludes(await overHttp.text(), "only accepted over HTTPS");
  assert(!(overHttp.headers.get("www-authenticate") ?? "").includes("Basic"));
  const httpsRoot = "https://127.0.0.1/xcap-root";
  const challengeHttps = await strict(new Request(docUrl(ALICE, httpsRoot)));
  assertStringIncludes(challengeHttps.headers.get("www-authenticate") ?? "", 'Basic realm="xcap"');
  await challengeHttps.body?.cancel();
  const overHttps = await strict(
    new Request(docUrl(ALICE, httpsRoot), {
      headers: { authorization: basic },
    }),
  );
  assertEquals(overHttps.status, 404);
  await overHttps.body?.cancel();

  const lenient = createXcapHandler({ authentication: authOptions({ allowBasicOverHttp: true }) });
  const accepted = await lenient(new Request(docUrl(), { headers: { authorization: basic } }));
  assertEquals(accepted.status, 404);
  await accepted.body?.cancel();
  const wrong = await lenient(
    new Request(docUrl(), {
      headers: { authorization: computeBasicAuthorization("alice", "nope") },
    }),
  );
  assertEquals(wrong.status, 401);
  await wrong.body?.cancel();
  const garbage = await lenient(new Request(docUrl(), { headers: { authorization: "Basic %%%" } }));
  assertEquals(garbage.status, 401);
  await garbage.body?.cancel();
});

Deno.test("createXcapHandler() lets a user reach only its own tree (403 otherwise)", async () => {
  const handler = createXcapHandler({ authentication: authOptions({ allowBasicOverHttp: true }) });
  const asAlice = { authorization: computeBasicAuthorization("alice", "wonder land") };
  const asQualifiedAlice = {
    authorization: computeBasicAuthorization("alice@example.com", "wonder land"),
  };
  const created = await handler(
    new Request(docUrl(), {
      method: "PUT",
      headers: { ...asAlice, "content-type": RL_TYPE },
      body: DOC,
    }),
  );
  assertEquals(created.status, 201);
  const read = await handler(new Request(docUrl(), { headers: asQualifiedAlice }));
  assertEquals(read.status, 200);
  await read.body?.cancel();
  const foreign = await handler(new Request(docUrl(BOB), { headers: asAlice }));
  assertEquals(foreign.status, 403);
  assertEquals(await foreign.text(), "Forbidden: these are the documents of another user\n");
  // The same user part in another domain is not Alice's under the qualified name.
  const otherDomain = await handler(
    new Request(docUrl("sip:alice@elsewhere.example"), {
      headers: asQualifiedAlice,
    }),
  );
  assertEquals(otherDomain.status, 403);
  await otherDomain.body?.cancel();
});

Deno.test("createXcapHandler() with authentication lets users read global documents but not write them", async () => {
  const handler = createXcapHandler({ authentication: authOptions({ allowBasicOverHttp: true }) });
  const headers = { authorization: computeBasicAuthorization("bob", "builder") };
  const url = `${ROOT}/resource-lists/global/index`;
  const write = await handler(
    new Request(url, {
      method: "PUT",
      headers: { ...headers, "content-type": RL_TYPE },
      body: DOC,
    }),
  );
  assertEquals(write.status, 403);
  await write.body?.cancel();
  const read = await handler(new Request(url, { headers }));
  assertEquals(read.status, 404);
  await read.body?.cancel();
});

Deno.test("createXcapHandler() serves xcap-caps without credentials, but not writes to it", async () => {
  const handler = createXcapHandler({ authentication: authOptions() });
  const caps = await handler(new Request(`${ROOT}/xcap-caps/global/index`));
  assertEquals(caps.status, 200);
  await caps.body?.cancel();
  const write = await handler(
    new Request(`${ROOT}/xcap-caps/global/index`, {
      method: "DELETE",
    }),
  );
  assertEquals(write.status, 401);
  await write.body?.cancel();
});

Deno.test("createXcapHandler() authenticates before it says whether anything exists", async () => {
  const handler = createXcapHandler({ authentication: authOptions() });
  for (const url of [`${ROOT}/com.example.unknown/users/${ALICE}/index`, `${ROOT}/nothing`]) {
    const response = await handler(new Request(url));
    assertEquals(response.status, 401, url);
    await response.body?.cancel();
  }
});

Deno.test("createXcapHandler() works with the client's Digest middleware over HTTP", async () => {
  const handler = createXcapHandler({ authentication: authOptions() });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  try {
    const root = `http://127.0.0.1:${server.addr.port}/xcap-root`;
    const execute = withAuthentication(createFetchExecutor(), {
      username: "alice",
      password: "wonder land",
    });
    const url = `${docUrl(ALICE, root)}`;
    const created = await execute({
      method: "PUT",
      url,
      headers: { "content-type": RL_TYPE },
      body: DOC,
    });
    assert(created.isOk());
    assertEquals(created.value.status, 201);
    for (let i = 0; i < 3; i++) {
      const read = await execute({
        method: "GET",
        url: `${url}/~~/resource-lists/list%5B@name=%22friends%22%5D/@name`,
        headers: {},
      });
      assert(read.isOk());
      assertEquals(read.value.status, 200);
      assertEquals(read.value.body, "friends");
    }
    const wrong = withAuthentication(createFetchExecutor(), { username: "alice", password: "x" });
    const refused = await wrong({ method: "GET", url, headers: {} });
    assert(refused.isOk());
    assertEquals(refused.value.status, 401);
  } finally {
    await server.shutdown();
  }
});

Deno.test("createAuthenticator() understands username* (RFC 7616 §3.4.4)", async () => {
  const auth = createAuthenticator({
    realm: "xcap",
    lookup: (u) => u === "jäger" ? "pw" : undefined,
  });
  const first = await auth.authenticate(new Request(docUrl()));
  assert(first.kind === "refused");
  const parsed = parseChallenges(first.challenges[0]!);
  assert(parsed.isOk());
  const c = readDigestChallenge(parsed.value[0]!);
  assert(c.isOk());
  const authorization = answer(c.value, docUrl(), { username: "jäger", password: "pw" });
  assertStringIncludes(authorization, "username*=UTF-8''j%C3%A4ger");
  const result = await auth.authenticate(new Request(docUrl(), { headers: { authorization } }));
  assertEquals(result, {
    kind: "authenticated",
    username: "jäger",
    account: "jäger",
    realm: "xcap",
  });
});

Deno.test("ownsXui() matches Kamailio's user-part convention and qualified names", () => {
  assertEquals(ownsXui("alice", ALICE), true);
  assertEquals(ownsXui("alice@example.com", ALICE), true);
  assertEquals(ownsXui("alice@Example.COM", "sips:alice@example.com;transport=tls"), true);
  assertEquals(ownsXui(ALICE, ALICE), true);
  assertEquals(ownsXui("Alice", ALICE), false);
  assertEquals(ownsXui("alice@other.example", ALICE), false);
  assertEquals(ownsXui("bob", ALICE), false);
  assertEquals(ownsXui("", ALICE), false);
  assertEquals(ownsXui("alice", "tel:+15551234"), false);
  assertEquals(ownsXui("+15551234", "tel:+15551234"), false);
  assertEquals(ownsXui("tel:+15551234", "tel:+15551234"), true);
});

Deno.test("createXcapHandler() answers 500, not 401, when the password lookup fails", async () => {
  const errors: unknown[] = [];
  const handler = createXcapHandler({
    authentication: {
      realm: "xcap",
      allowBasicOverHttp: true,
      lookup: () => Promise.reject(new Error("directory unreachable")),
    },
    onError: (e) => errors.push(e),
  });
  const response = await handler(
    new Request(docUrl(), {
      headers: { authorization: computeBasicAuthorization("alice", "wonder land") },
    }),
  );
  assertEquals(response.status, 500);
  assertEquals(await response.text(), "Internal server error\n");
  assertEquals(errors.length, 1);
});

Deno.test("createAuthenticator() reports a throwing lookup as failed, never rejecting", async () => {
  const auth = createAuthenticator({
    realm: "xcap",
    allowBasicOverHttp: true,
    lookup: () => {
      throw new Error("boom");
    },
  });
  const outcome = await auth.authenticate(
    new Request(docUrl(), {
      headers: { authorization: computeBasicAuthorization("alice", "x") },
    }),
  );
  assertEquals(outcome.kind, "failed");
  assert(outcome.kind === "failed" && outcome.cause instanceof Error);
});
