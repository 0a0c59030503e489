// The responses the server builds (src/server/_response.ts), and how serveHttp1 reads them.
import { assert, assertEquals } from "@std/assert";
import { staticBody, staticResponse } from "../src/server/_response.ts";
import { serveHttp1, withCors } from "../src/server/mod.ts";
import { RawConnection } from "./_raw_http.ts";

/** `response`, with a note in `touched` whenever its `body` is read. */
function spied(response: Response, touched: string[]): Response {
  const body = Object.getOwnPropertyDescriptor(Response.prototype, "body")!.get!;
  Object.defineProperty(response, "body", {
    get() {
      touched.push("body");
      return body.call(response);
    },
  });
  return response;
}

Deno.test("staticResponse() builds the response new Response() would, and records its body", async () => {
  const cases: [string | null, ConstructorParameters<typeof Response>[1]][] = [
    ["<a/>", { headers: { "content-type": "application/xml", etag: '"1"' } }],
    ["<a/>", { status: 200, headers: { etag: '"1"', "x-b": "2" } }],
    ["text", { status: 404, headers: { "content-type": "text/plain" } }],
    ["text", {}],
    [null, { status: 204, headers: { etag: '"2"' } }],
    ["ok", { status: 200, headers: new Headers([["Content-Type", "a/b"], ["ETag", '"3"']]) }],
  ];
  for (const [body, init] of cases) {
    const made = staticResponse(body, init as Parameters<typeof staticResponse>[1]);
    const expected = new Response(body, init);
    assertEquals(made.status, expected.status);
    assertEquals([...made.headers], [...expected.headers]);
    assertEquals(staticBody(made), body);
    assertEquals(await made.text(), await expected.text());
    // Read once: the server must not send it again from the record.
    assertEquals(staticBody(made), body === null ? null : undefined);
  }
  assertEquals(staticBody(new Response("elsewhere")), undefined);
});

Deno.test("serveHttp1 sends a staticResponse body (also through withCors) without reading response.body", async () => {
  const touched: string[] = [];
  const inner = () =>
    Promise.resolve(spied(
      staticResponse("<doc/>", {
        headers: { "content-type": "application/xml", etag: '"e"' },
      }),
      touched,
    ));
  const handler = withCors(inner, { origins: ["https://sip.example.com"] });
  const server = serveHttp1(handler)._unsafeUnwrap();
  try {
    const c = await RawConnection.open(server.addr.port);
    try {
      await c.send("GET / HTTP/1.1\r\nHost: a\r\nOrigin: https://sip.example.com\r\n\r\n");
      const response = (await c.response())!;
      assertEquals(response.body, "<doc/>");
      assertEquals(response.header("content-length"), "6");
      assertEquals(response.header("etag"), '"e"');
      assertEquals(response.header("access-control-allow-origin"), "https://sip.example.com");
    } finally {
      c.close();
    }
  } finally {
    await server.shutdown(1_000);
  }
  assertEquals(touched, []);
});

Deno.test("serveHttp1 answers 500 for a staticResponse whose body was read before it was returned", async () => {
  const errors: unknown[] = [];
  const handler = async () => {
    const response = staticResponse("once", { headers: { "content-type": "text/plain" } });
    await response.text();
    return response;
  };
  const server = serveHttp1(handler, { onError: (error) => errors.push(error) })._unsafeUnwrap();
  try {
    const c = await RawConnection.open(server.addr.port);
    try {
      await c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      assertEquals((await c.response())?.status, 500);
    } finally {
      c.close();
    }
  } finally {
    await server.shutdown(1_000);
  }
  assertEquals(errors.length, 1);
  assert(errors[0] instanceof TypeError);
});
