import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { createFetchExecutor, type XcapRequest } from "../mod.ts";
import { type RawConnection, serveRaw } from "./_hostile_server.ts";

/** A loopback server for one test; `handler` decides each response. */
async function withServer(
  handler: (request: Request) => Response | Promise<Response>,
  fn: (base: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

function request(url: string, extra: Partial<XcapRequest> = {}): XcapRequest {
  return { method: "GET", url, headers: {}, ...extra };
}

Deno.test("createFetchExecutor() sends PUT bodies with Content-Length, not chunked", async () => {
  let seen: { length: string | null; te: string | null; body: string } | undefined;
  await withServer(async (req) => {
    seen = {
      length: req.headers.get("content-length"),
      te: req.headers.get("transfer-encoding"),
      body: await req.text(),
    };
    return new Response("ok", { status: 201, headers: { etag: '"1"' } });
  }, async (base) => {
    const body = '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">é</resource-lists>';
    const result = await createFetchExecutor()(
      request(`${base}/x`, {
        method: "PUT",
        headers: { "content-type": "application/resource-lists+xml" },
        body,
      }),
    );
    const response = result._unsafeUnwrap();
    assertEquals(response.status, 201);
    assertEquals(response.body, "ok");
    assertEquals(response.headers.get("etag"), '"1"');
    assertEquals(seen?.length, String(new TextEncoder().encode(body).byteLength));
    assertEquals(seen?.te, null);
    assertEquals(seen?.body, body);
  });
});

Deno.test("createFetchExecutor() treats every HTTP status as a response", async () => {
  await withServer(() => new Response("gone", { status: 500 }), async (base) => {
    const response = (await createFetchExecutor()(request(base)))._unsafeUnwrap();
    assertEquals(response.status, 500);
    assertEquals(response.body, "gone");
  });
});

Deno.test("createFetchExecutor() gives Timeout when the server is too slow", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  await withServer(async () => {
    await released;
    return new Response("late");
  }, async (base) => {
    const result = await createFetchExecutor({ timeoutMs: 50 })(request(base));
    release();
    assert(result.isErr());
    assertEquals(result.error._tag, "Timeout");
    assertEquals(result.error._tag === "Timeout" && result.error.timeoutMs, 50);
  });
});

Deno.test("createFetchExecutor() gives Aborted when the caller's signal fires", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  await withServer(async () => {
    await released;
    return new Response("late");
  }, async (base) => {
    const controller = new AbortController();
    const pending = createFetchExecutor({ timeoutMs: 10_000 })(request(base), {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error("user gave up")), 20);
    const result = await pending;
    release();
    assert(result.isErr());
    assertEquals(result.error._tag, "Aborted");
  });
});

Deno.test("createFetchExecutor() gives NetworkError when nothing listens", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const result = await createFetchExecutor()(request(`http://127.0.0.1:${port}/x`));
  assert(result.isErr());
  assertEquals(result.error._tag, "NetworkError");
  assertStringIncludes(result.error.message, `127.0.0.1:${port}`);
});

Deno.test("createFetchExecutor() refuses a response body over the size limit", async () => {
  await withServer(() => new Response("x".repeat(5000)), async (base) => {
    const result = await createFetchExecutor({ maxResponseBytes: 1000 })(request(base));
    assert(result.isErr());
    assertEquals(result.error._tag, "MalformedResponse");
    assertStringIncludes(result.error.message, "too large");
  });
  // Streamed without Content-Length: the limit still holds.
  await withServer(() => {
    const chunk = new TextEncoder().encode("y".repeat(600));
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(chunk);
        c.enqueue(chunk);
        c.close();
      },
    });
    return new Response(body);
  }, async (base) => {
    const result = await createFetchExecutor({ maxResponseBytes: 1000 })(request(base));
    assert(result.isErr());
    assertEquals(result.error._tag, "MalformedResponse");
  });
});

Deno.test("createFetchExecutor() refuses a body that is not UTF-8", async () => {
  await withServer(() => new Response(new Uint8Array([0x3c, 0xff, 0xfe, 0x3e])), async (base) => {
    const result = await createFetchExecutor()(request(base));
    assert(result.isErr());
    assertEquals(result.error._tag, "MalformedResponse");
    assertStringIncludes(result.error.message, "UTF-8");
  });
});

Deno.test("createFetchExecutor() turns a throwing fetch into NetworkError", async () => {
  const result = await createFetchExecutor({
    fetch: () => {
      throw new TypeError("synchronous failure");
    },
  })(request("http://127.0.0.1:1/x"));
  assert(result.isErr());
  assertEquals(result.error._tag, "NetworkError");
  assertStringIncludes(result.error.message, "synchronous failure");
});

Deno.test("createFetchExecutor() reports a redirect loop as NetworkError", async () => {
  await withServer((req) => {
    return new Response(null, { status: 302, headers: { location: new URL(req.url).pathname } });
  }, async (base) => {
    const result = await createFetchExecutor({ redirect: "follow" })(request(`${base}/loop`));
    assert(result.isErr());
    assertEquals(result.error._tag, "NetworkError");
  });
});

// ---------------------------------------------------------------------------------------------
// Network failures say why (issue 10, item 14)
// ---------------------------------------------------------------------------------------------

Deno.test("createFetchExecutor() names a refused connection and its host and port", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const result = await createFetchExecutor()(request(`http://127.0.0.1:${port}/x`));
  assert(result.isErr());
  assertEquals(result.error._tag, "NetworkError");
  assertEquals(
    result.error.message,
    `GET http://127.0.0.1:${port}/x failed: connection refused to 127.0.0.1:${port}`,
  );
});

Deno.test("createFetchExecutor() says the connection closed before the response was complete", async () => {
  // Real sockets: one server closes before the status line, one inside the headers, one mid-body.
  const scripts: Array<[string, (conn: RawConnection) => Promise<void>]> = [
    ["before the status line", async () => {}],
    ["inside the headers", (conn) => conn.write("HTTP/1.1 200 OK\r\ncontent-le")],
    ["mid-body", (conn) => conn.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n<resource")],
    [
      "mid-chunk",
      (conn) => conn.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n10\r\n<reso"),
    ],
  ];
  for (const [name, script] of scripts) {
    const server = serveRaw(script);
    try {
      const result = await createFetchExecutor({ timeoutMs: 5_000 })(
        request(`${server.origin}/x`),
      );
      assert(result.isErr(), name);
      assertEquals(result.error._tag, "NetworkError", name);
      assertStringIncludes(
        result.error.message,
        "failed: connection closed before the response was complete",
        name,
      );
      assert(!result.error.message.includes("fetch failed"), name);
    } finally {
      await server.close();
    }
  }
});

Deno.test("createFetchExecutor() names a host that does not resolve (Deno's and Node's errors)", async () => {
  // What Deno 2.9 throws for a failed DNS lookup, and what Node's undici throws; DNS itself is
  // not queried (tests talk to 127.0.0.1 only).
  const deno = new TypeError("fetch failed", {
    cause: new Error(
      "error sending request for url (http://xcap.example.invalid/x): client error (Connect): " +
        "dns error: failed to lookup address information: Name or service not known",
    ),
  });
  const node = Object.assign(new TypeError("fetch failed"), {
    cause: Object.assign(new Error("getaddrinfo ENOTFOUND xcap.example.invalid"), {
      code: "ENOTFOUND",
    }),
  });
  for (const thrown of [deno, node]) {
    const result = await createFetchExecutor({ fetch: () => Promise.reject(thrown) })(
      request("http://xcap.example.invalid/x"),
    );
    assert(result.isErr());
    assertEquals(result.error._tag, "NetworkError");
    assertStringIncludes(
      result.error.message,
      "GET http://xcap.example.invalid/x failed: cannot resolve host xcap.example.invalid",
    );
    assertEquals(result.error._tag === "NetworkError" && result.error.cause, thrown);
  }
  const refused = Object.assign(new TypeError("fetch failed"), {
    cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }),
  });
  const result = await createFetchExecutor({ fetch: () => Promise.reject(refused) })(
    request("http://127.0.0.1:9/x"),
  );
  assertStringIncludes(
    result.isErr() ? result.error.message : "",
    "connection refused to 127.0.0.1:9",
  );
});
