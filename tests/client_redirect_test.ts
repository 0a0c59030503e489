// Redirects (issue 10, item 13), with two real servers on 127.0.0.1 (two ports: two origins).
// XCAP does not use redirects: by default a 3xx is a `Redirected` error carrying the Location,
// and nothing goes to the other origin. With `redirect: "follow"`, a request is sent again as it
// was within its own origin, and only as a bare GET to another one (RFC 9110 §15.4).
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { createFetchExecutor, XCAPClient, type XcapError } from "../mod.ts";
import { type HostileServer, serveHttp } from "./_hostile_server.ts";

const XUI = "sip:alice@example.com";
const LIST = '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"/>';
const SECRET = "x-api-key-value-6f1e";

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** A server that records every request and answers 200, or what `answer` says. */
function recordingServer(
  answer?: (request: Request, seen: Seen) => Response | undefined,
): HostileServer & { readonly seen: Seen[] } {
  const seen: Seen[] = [];
  const server = serveHttp(async (request) => {
    const entry: Seen = {
      method: request.method,
      path: new URL(request.url).pathname,
      headers: Object.fromEntries(request.headers),
      body: await request.text(),
    };
    seen.push(entry);
    return answer?.(request, entry) ??
      new Response("<ok/>", { headers: { etag: '"e1"', "content-type": "application/xml" } });
  });
  return Object.assign(server, { seen });
}

/** An origin whose every request is redirected with `status` to `target` + the same path. */
function redirectingServer(status: number, target: () => string) {
  return recordingServer((request) =>
    new Response(null, {
      status,
      headers: { location: `${target()}${new URL(request.url).pathname}` },
    })
  );
}

function errorOf(result: { isErr(): boolean; error?: XcapError }): XcapError {
  assert(result.isErr(), "expected an error");
  return result.error!;
}

Deno.test("XCAPClient.put() does not follow a redirect by default: Redirected carries the Location", async () => {
  const other = recordingServer();
  const server = redirectingServer(307, () => other.origin);
  try {
    const client = new XCAPClient(`${server.origin}/xcap-root`, XUI, {
      password: "pw",
      headers: { "x-api-key": SECRET },
    });
    for (
      const call of [() => client.put("resource-lists", LIST), () => client.get("resource-lists")]
    ) {
      const error = errorOf(await call());
      assertEquals(error._tag, "Redirected");
      assert(error._tag === "Redirected");
      assertEquals(error.status, 307);
      assertEquals(
        error.location,
        `${other.origin}/xcap-root/resource-lists/users/sip:alice@example.com/index`,
      );
      assertStringIncludes(error.message, `redirects to ${other.origin}/xcap-root/`);
    }
    assertEquals(other.seen, [], "nothing may reach the other origin");
  } finally {
    await server.close();
    await other.close();
  }
});

Deno.test("redirect: follow never takes a PUT's body, custom headers or credentials to another origin", async () => {
  const other = recordingServer();
  for (const status of [301, 302, 307, 308]) {
    const server = redirectingServer(status, () => other.origin);
    try {
      const client = new XCAPClient(`${server.origin}/xcap-root`, XUI, {
        redirect: "follow",
        headers: { "x-api-key": SECRET },
      });
      const put = errorOf(await client.put("resource-lists", LIST, undefined, { etag: "v1" }));
      assertEquals(put._tag, "Redirected", String(status));
      const del = errorOf(await client.delete("resource-lists"));
      assertEquals(del._tag, "Redirected", String(status));
      assertEquals(other.seen, [], `${status}: a PUT or DELETE went to the other origin`);
    } finally {
      await server.close();
    }
  }
  await other.close();
});

Deno.test("redirect: follow sends only a bare GET to another origin", async () => {
  const other = recordingServer();
  // The first origin asks for Digest, then redirects the authenticated request.
  const server = recordingServer((request) =>
    request.headers.get("authorization") === null
      ? new Response(null, {
        status: 401,
        headers: { "www-authenticate": 'Digest realm="x", nonce="n1", qop="auth"' },
      })
      : new Response(null, { status: 302, headers: { location: `${other.origin}/moved` } })
  );
  try {
    const client = new XCAPClient(`${server.origin}/xcap-root`, XUI, {
      password: "pw",
      redirect: "follow",
      headers: { "x-api-key": SECRET, cookie: "session=1" },
    });
    const got = await client.get("resource-lists", undefined, { ifNoneMatch: "v1" });
    assert(got.isOk());
    assertEquals(got.value.url, `${other.origin}/moved`);
    assertEquals(other.seen.length, 1);
    const sent = other.seen[0]!;
    assertEquals(sent.method, "GET");
    assertEquals(sent.body, "");
    for (const name of ["authorization", "x-api-key", "cookie", "if-none-match"]) {
      assertEquals(sent.headers[name], undefined, `${name} went to the other origin`);
    }
    assert(!JSON.stringify(sent).includes(SECRET));
    // A 303 turns a PUT into such a GET, body dropped.
    const seeOther = redirectingServer(303, () => other.origin);
    try {
      const put = await new XCAPClient(`${seeOther.origin}/xcap-root`, XUI, {
        redirect: "follow",
        headers: { "x-api-key": SECRET },
      }).put("resource-lists", LIST);
      assert(put.isOk());
      const last = other.seen.at(-1)!;
      assertEquals([last.method, last.body, last.headers["content-type"]], ["GET", "", undefined]);
      assert(!JSON.stringify(last).includes(SECRET));
    } finally {
      await seeOther.close();
    }
  } finally {
    await server.close();
    await other.close();
  }
});

Deno.test("redirect: follow re-sends a PUT with its body and headers within its origin", async () => {
  const server = recordingServer((request) =>
    new URL(request.url).pathname.startsWith("/old/")
      ? new Response(null, {
        status: 307,
        headers: { location: new URL(request.url).pathname.replace("/old/", "/new/") },
      })
      : undefined
  );
  try {
    const put = await new XCAPClient(`${server.origin}/old/xcap-root`, XUI, {
      redirect: "follow",
      headers: { "x-api-key": SECRET },
    }).put("resource-lists", LIST, undefined, { etag: "v1" });
    assert(put.isOk());
    assertEquals(server.seen.length, 2);
    const [first, second] = server.seen as [Seen, Seen];
    assertEquals(second.path, first.path.replace("/old/", "/new/"));
    assertEquals(second.method, "PUT");
    assertEquals(second.body, LIST);
    assertEquals(second.headers["x-api-key"], SECRET);
    assertEquals(second.headers["if-match"], '"v1"');
    assertEquals(second.headers["content-type"], "application/resource-lists+xml");
  } finally {
    await server.close();
  }
});

Deno.test('createFetchExecutor({ redirect: "error" }) makes a redirect a NetworkError naming the target', async () => {
  const server = redirectingServer(302, () => "http://127.0.0.1:9");
  try {
    const result = await createFetchExecutor({ redirect: "error" })({
      method: "GET",
      url: `${server.origin}/a`,
      headers: {},
    });
    assert(result.isErr());
    assertEquals(result.error._tag, "NetworkError");
    assertStringIncludes(result.error.message, "redirected to http://127.0.0.1:9/a");
  } finally {
    await server.close();
  }
});
