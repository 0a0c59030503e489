import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { createFetchExecutor, type XcapRequest } from "../mod.ts";

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
