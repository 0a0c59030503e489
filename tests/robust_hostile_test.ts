// Hostile server responses, served from 127.0.0.1: every one of them must come back to the caller
// as a typed value (an Ok resource or a tagged XcapError), promptly and without leaking
// resources (Deno's op and resource sanitizers stay on for every test here).
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { createFetchExecutor, withAuthentication, XCAPClient, type XcapError } from "../mod.ts";
import { parseXmlDocument } from "../src/xml/mod.ts";
import { formatEntityTag } from "../src/client/etag.ts";
import { isXcapError } from "../src/client/response.ts";
import { serveHttp, serveRaw, sleep } from "./_hostile_server.ts";

const XUI = "sip:alice@example.com";
const RL = "urn:ietf:params:xml:ns:resource-lists";
const PASSWORD = "hostile-test-password";

/** A client for the server at `origin`, with a password so that it answers challenges. */
function clientFor(
  origin: string,
  options: { timeoutMs?: number; redirect?: RequestRedirect } = {},
): XCAPClient {
  return new XCAPClient(`${origin}/xcap-root`, XUI, { password: PASSWORD, ...options });
}

function errorOf<T>(result: { isErr(): boolean; error?: unknown; value?: T }): XcapError {
  assert(result.isErr(), `expected an error, got ${JSON.stringify(result.value)}`);
  const error = result.error;
  assert(isXcapError(error), `not a typed error: ${String(error)}`);
  assert(!JSON.stringify(error).includes(PASSWORD));
  return error;
}

// ---------------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------------

Deno.test("XCAPClient.get() hands over truncated XML as text, and parseXmlDocument() rejects it", async () => {
  const server = serveHttp(() =>
    new Response(`<?xml version="1.0"?><resource-lists xmlns="${RL}"><list name="fr`, {
      headers: { "content-type": "application/resource-lists+xml", etag: '"t1"' },
    })
  );
  try {
    const got = await clientFor(server.origin).get("resource-lists");
    assert(got.isOk());
    const parsed = parseXmlDocument(got.value.body);
    assert(parsed.isErr());
    assertEquals(parsed.error.tag, "not-well-formed");
  } finally {
    await server.close();
  }
});

Deno.test("XCAPClient.put() turns a 409 with a malformed or foreign body into a Conflict without condition", async () => {
  const bodies: [string, string][] = [
    ["application/xcap-error+xml", '<xcap-error xmlns="urn:ietf:params:xml:ns:xcap-error"><no-par'],
    ["application/xcap-error+xml", "<xcap-error><not-well-formed/></xcap-error>"],
    ["application/xcap-error+xml", "\u0000\u0001garbage"],
    ["application/xcap-error+xml", "<!DOCTYPE x [<!ENTITY a 'aaaa'>]><x>&a;&a;</x>"],
    ["text/html", "<html><body>Conflict</body></html>"],
    ["", ""],
  ];
  let i = 0;
  const server = serveHttp(() => {
    const [type, body] = bodies[i++ % bodies.length]!;
    return new Response(body, {
      status: 409,
      headers: type === "" ? {} : { "content-type": type },
    });
  });
  try {
    for (const _ of bodies) {
      const put = await clientFor(server.origin).put(
        "resource-lists",
        '<entry uri="sip:bob@example.com"/>',
        '/resource-lists/list[@name="a"]/entry[@uri="sip:bob@example.com"]',
      );
      const error = errorOf(put);
      assertEquals(error._tag, "Conflict");
      assert(error._tag === "Conflict" && error.condition === undefined);
      assertStringIncludes(error.message, "409");
    }
  } finally {
    await server.close();
  }
});

Deno.test("XCAPClient.get() reports wrong content types as they are, and never fails on them", async () => {
  const types = ["text/html; charset=utf-8", "};;;=", "application/json", "", 'A/B; q="x"'];
  let i = 0;
  const server = serveHttp(() => {
    const type = types[i++ % types.length]!;
    // Bytes, not a string: a string body would get a default text/plain type.
    return new Response(new TextEncoder().encode("<resource-lists/>"), {
      headers: type === "" ? {} : { "content-type": type },
    });
  });
  try {
    for (const type of types) {
      const got = await clientFor(server.origin).get("resource-lists");
      assert(got.isOk());
      const expected = type.split(";")[0]!.trim().toLowerCase();
      assertEquals(got.value.contentType, expected === "" ? undefined : expected);
      assertEquals(got.value.body, "<resource-lists/>");
    }
  } finally {
    await server.close();
  }
});

Deno.test("XCAPClient keeps only usable ETags: missing or malformed ones are dropped, never sent back", async () => {
  const etags = [
    null,
    "",
    '"unterminated',
    'two"quotes"',
    "has space",
    'W/"weak"',
    "unquoted-tag",
    '"ok"',
    '""',
    `"${"x".repeat(10_000)}"`,
    "\u00ff\u00fe",
    // "W/" and "*" are kept by interpretResponse() but refused by formatEntityTag(): see the
    // ignored BUG property in robust_property_test.ts.
  ];
  let i = 0;
  const seen: (string | null)[] = [];
  const server = serveHttp((request) => {
    if (request.method === "PUT") {
      seen.push(request.headers.get("if-match"));
      return new Response(null, { status: 200 });
    }
    const etag = etags[i++ % etags.length];
    return new Response("<resource-lists/>", {
      headers: etag === null || etag === undefined ? {} : { etag },
    });
  });
  try {
    const client = clientFor(server.origin);
    for (const _ of etags) {
      const got = await client.get("resource-lists");
      assert(got.isOk());
      const etag = got.value.etag;
      if (etag === undefined) continue;
      // Whatever the response layer keeps can be used as a precondition.
      assert(formatEntityTag(etag).isOk(), etag);
      const put = await client.put("resource-lists", "<resource-lists/>", undefined, { etag });
      assert(put.isOk());
    }
    assert(seen.every((h) => h !== null && formatEntityTag(h).isOk()));
    assert(seen.length >= 4, `only ${seen.length} ETags were usable`);
  } finally {
    await server.close();
  }
});

Deno.test("XCAPClient.get() refuses a body over the size limit with MalformedResponse, streamed or declared", async () => {
  let cancelled = 0;
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  const server = serveHttp((request) => {
    if (new URL(request.url).pathname.includes("declared")) {
      // Declares far more than the limit, sends little.
      return new Response("<a/>", { headers: { "content-length": "4" } });
    }
    // An endless body: the client must stop reading at its limit.
    return new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(chunk);
        },
        cancel() {
          cancelled++;
        },
      }),
      { headers: { "content-type": "application/resource-lists+xml" } },
    );
  });
  try {
    const started = performance.now();
    const got = await clientFor(server.origin).get("resource-lists");
    const error = errorOf(got);
    assertEquals(error._tag, "MalformedResponse");
    assertStringIncludes(error.message, "too large");
    assertStringIncludes(error.message, "16777216");
    assert(performance.now() - started < 10_000);

    const small = createFetchExecutor({ maxResponseBytes: 3 });
    const declared = await small({
      method: "GET",
      url: `${server.origin}/xcap-root/declared`,
      headers: {},
    });
    const declaredError = errorOf(declared);
    assertEquals(declaredError._tag, "MalformedResponse");
    assertStringIncludes(declaredError.message, "declared 4 bytes");
  } finally {
    await server.close();
  }
  // The server saw the client go away and stopped producing.
  assert(cancelled >= 1);
});

Deno.test("XCAPClient.get() refuses a body that is not UTF-8 with MalformedResponse", async () => {
  const server = serveHttp(() => new Response(new Uint8Array([0x3c, 0x61, 0xff, 0xfe, 0x3e])));
  try {
    const error = errorOf(await clientFor(server.origin).get("resource-lists"));
    assertEquals(error._tag, "MalformedResponse");
    assertStringIncludes(error.message, "UTF-8");
  } finally {
    await server.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Slow servers and broken connections (raw TCP)
// ---------------------------------------------------------------------------------------------

Deno.test("XCAPClient with timeoutMs gives Timeout when the server never answers", async () => {
  const server = serveRaw(async (conn) => {
    await conn.closing; // Read the request, then say nothing until the test ends.
  });
  try {
    const started = performance.now();
    const error = errorOf(await clientFor(server.origin, { timeoutMs: 200 }).get("resource-lists"));
    const elapsed = performance.now() - started;
    assertEquals(error._tag, "Timeout");
    assert(error._tag === "Timeout" && error.timeoutMs === 200);
    assert(elapsed >= 150 && elapsed < 3_000, `${elapsed} ms`);
  } finally {
    await server.close();
  }
});

Deno.test("createFetchExecutor() timeout also covers a body that trickles in", async () => {
  const server = serveRaw(async (conn) => {
    await conn.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 1000\r\n\r\n");
    for (let i = 0; i < 100; i++) {
      await conn.write("x");
      await sleep(50, conn.closing);
    }
  });
  try {
    const execute = createFetchExecutor({ timeoutMs: 300 });
    const started = performance.now();
    const result = await execute({ method: "GET", url: `${server.origin}/x`, headers: {} });
    const error = errorOf(result);
    assertEquals(error._tag, "Timeout");
    assert(performance.now() - started < 3_000);
  } finally {
    await server.close();
  }
});

Deno.test("createFetchExecutor() gives NetworkError for a connection reset mid-body and other broken responses", async () => {
  const scripts: [string, string][] = [
    ["reset mid-body", "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n<resource-lists xmlns="],
    ["reset mid-chunk", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n10\r\n<resource-li"],
    ["reset before the status line", ""],
    ["reset inside the headers", "HTTP/1.1 200 OK\r\ncontent-le"],
    ["not HTTP at all", "SSH-2.0-OpenSSH_9.6\r\n\r\n"],
    [
      "bad chunk size",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    ],
  ];
  const server = serveRaw(async (conn) => {
    const [, bytes] = scripts[(conn.count - 1) % scripts.length]!;
    await conn.write(bytes);
  });
  try {
    const execute = createFetchExecutor({ timeoutMs: 5_000 });
    for (const [name] of scripts) {
      const result = await execute({ method: "GET", url: `${server.origin}/x`, headers: {} });
      const error = errorOf(result);
      assertEquals(error._tag, "NetworkError", name);
      assertStringIncludes(error.message, `GET ${server.origin}/x failed`, name);
    }
  } finally {
    await server.close();
  }
});

Deno.test("XCAPClient.put() reports a reset connection as NetworkError, not as success", async () => {
  const server = serveRaw(async (conn) => {
    // Half a 200: the client cannot know whether the write happened.
    await conn.write('HTTP/1.1 200 OK\r\netag: "e1"\r\ncontent-length: 50\r\n\r\n<par');
  });
  try {
    const put = await new XCAPClient(`${server.origin}/xcap-root`, XUI).put(
      "resource-lists",
      `<resource-lists xmlns="${RL}"/>`,
    );
    assertEquals(errorOf(put)._tag, "NetworkError");
  } finally {
    await server.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Redirects
// ---------------------------------------------------------------------------------------------

Deno.test("XCAPClient.get() ends a redirect loop with NetworkError after a bounded number of hops", async () => {
  const server = serveHttp((request, count) =>
    new Response(null, {
      status: 302,
      headers: { location: new URL(count % 2 ? "/a" : "/b", request.url).href },
    })
  );
  try {
    const error = errorOf(
      await clientFor(server.origin, { redirect: "follow" }).get("resource-lists"),
    );
    assertEquals(error._tag, "NetworkError");
    assertStringIncludes(error.message, "more than 20 redirects");
    assert(server.hits() <= 21, `${server.hits()} requests`);
  } finally {
    await server.close();
  }
});

Deno.test("XCAPClient.get() reports a redirect without Location as HttpError", async () => {
  const server = serveHttp(() => new Response(null, { status: 302 }));
  try {
    const error = errorOf(await clientFor(server.origin).get("resource-lists"));
    assertEquals(error._tag, "HttpError");
    assertStringIncludes(error.message, "302");
  } finally {
    await server.close();
  }
});

Deno.test("a redirect to another origin, once followed, does not carry the Authorization header", async () => {
  const elsewhere: (string | null)[] = [];
  const other = serveHttp((request) => {
    elsewhere.push(request.headers.get("authorization"));
    return new Response("<resource-lists/>");
  });
  const server = serveHttp((request) => {
    if (request.headers.get("authorization") === null) {
      return new Response(null, {
        status: 401,
        headers: {
          "www-authenticate": 'Digest realm="x", nonce="n1", qop="auth", algorithm=SHA-256',
        },
      });
    }
    return new Response(null, { status: 302, headers: { location: `${other.origin}/steal` } });
  });
  try {
    // Not followed by default: the caller gets the Location, the other origin nothing.
    const error = errorOf(await clientFor(server.origin).get("resource-lists"));
    assertEquals(error._tag, "Redirected");
    assertEquals(error._tag === "Redirected" && error.location, `${other.origin}/steal`);
    assertEquals(elsewhere, []);
    const got = await clientFor(server.origin, { redirect: "follow" }).get("resource-lists");
    assert(got.isOk());
    assertEquals(elsewhere, [null]);
  } finally {
    await server.close();
    await other.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Authentication challenges
// ---------------------------------------------------------------------------------------------

Deno.test("withAuthentication() bounds a 401 loop and returns Unauthorized", async () => {
  const variants: Record<string, (n: number) => Record<string, string>> = {
    "fresh Digest challenge every time": (n) => ({
      "www-authenticate": `Digest realm="x", nonce="n${n}", qop="auth", algorithm=MD5`,
    }),
    "stale=true every time": (n) => ({
      "www-authenticate": `Digest realm="x", nonce="s${n}", qop="auth", stale=true`,
    }),
    "bare 401": () => ({}),
  };
  for (const [name, headers] of Object.entries(variants)) {
    const server = serveHttp((_request, n) =>
      new Response("no", { status: 401, headers: headers(n) })
    );
    try {
      const error = errorOf(await clientFor(server.origin).get("resource-lists"));
      assertEquals(error._tag, "Unauthorized", name);
      // One request, at most maxChallenges (3) reactions.
      assert(server.hits() <= 4, `${name}: ${server.hits()} requests`);
      // A second request does not loop either.
      errorOf(await clientFor(server.origin).get("resource-lists"));
      assert(server.hits() <= 8, `${name}: ${server.hits()} requests`);
    } finally {
      await server.close();
    }
  }
});

Deno.test("withAuthentication() gives MalformedResponse for Digest challenges it cannot answer, and sends nothing", async () => {
  const challenges = [
    'Digest realm="x", nonce="n", algorithm=SHA-1',
    'Digest realm="x", nonce="n", algorithm=ROT13, qop="auth"',
    'Digest realm="x", nonce="n", qop="auth-conf"',
    'Digest realm="x", qop="auth"',
    'Digest realm="x, nonce="n"',
    "Digest realm=",
    'Digest realm="x", realm="y", nonce="n"',
  ];
  for (const challenge of challenges) {
    const authorizations: (string | null)[] = [];
    const server = serveHttp((request) => {
      authorizations.push(request.headers.get("authorization"));
      return new Response(null, { status: 401, headers: { "www-authenticate": challenge } });
    });
    try {
      const error = errorOf(await clientFor(server.origin).get("resource-lists"));
      assertEquals(error._tag, "MalformedResponse", challenge);
      assertEquals(authorizations, [null], challenge);
    } finally {
      await server.close();
    }
  }
});

Deno.test("withAuthentication() over a fetch executor survives servers that reset during the handshake", async () => {
  const server = serveRaw(async (conn) => {
    if (conn.count === 1) {
      await conn.write(
        "HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n" +
          'www-authenticate: Digest realm="x", nonce="n1", qop="auth"\r\n\r\n',
      );
    }
    // The answer to the challenge gets a reset.
  });
  try {
    const execute = withAuthentication(createFetchExecutor({ timeoutMs: 5_000 }), {
      username: "alice",
      password: PASSWORD,
    });
    const error = errorOf(await execute({ method: "GET", url: `${server.origin}/x`, headers: {} }));
    assertEquals(error._tag, "NetworkError");
  } finally {
    await server.close();
  }
});
