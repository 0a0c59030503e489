import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { type Executor, parseNodeSelector, XCAPClient, type XcapRequest } from "../mod.ts";
import { okAsync } from "npm:neverthrow@^8.2.0";

const ROOT = "http://127.0.0.1:8080/xcap-root";
const DOC = `${ROOT}/resource-lists/users/sip:alice@example.com/index`;

/** A fake fetch that records what it was given and answers with `reply`. */
function recorder(reply: (url: string, init: RequestInit) => Response) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    calls.push({ url, init: init ?? {} });
    return Promise.resolve(reply(url, init ?? {}));
  };
  return { calls, fetch: fetch as typeof globalThis.fetch };
}

Deno.test("XCAPClient.get() reads a whole document and returns body, etag and content type", async () => {
  const { calls, fetch } = recorder(() =>
    new Response("<resource-lists/>", {
      headers: { etag: '"e1"', "content-type": "application/resource-lists+xml; charset=utf-8" },
    })
  );
  const client = new XCAPClient(ROOT, "sip:alice@example.com", { fetch });
  const resource = (await client.get("resource-lists"))._unsafeUnwrap();
  assertEquals(calls.length, 1);
  assertEquals(calls[0]?.url, DOC);
  assertEquals(calls[0]?.init.method, "GET");
  assertEquals(resource.status, 200);
  assertEquals(resource.body, "<resource-lists/>");
  assertEquals(resource.etag, '"e1"');
  assertEquals(resource.contentType, "application/resource-lists+xml");
});

Deno.test("XCAPClient.get() addresses elements, attributes, global documents and filenames", async () => {
  const { calls, fetch } = recorder(() => new Response("x"));
  const client = new XCAPClient(ROOT, "sip:alice@example.com", { fetch });
  await client.get("resource-lists", "/resource-lists/list/entry/display-name");
  await client.get("resource-lists", "/resource-lists/list/entry/@uri");
  await client.get("xcap-caps", undefined, { global: true });
  await client.get("resource-lists", undefined, { filename: "lists/work.xml" });
  assertEquals(calls.map((c) => c.url), [
    `${DOC}/~~/resource-lists/list/entry/display-name`,
    `${DOC}/~~/resource-lists/list/entry/@uri`,
    `${ROOT}/xcap-caps/global/index`,
    `${ROOT}/resource-lists/users/sip:alice@example.com/lists/work.xml`,
  ]);
});

Deno.test("XCAPClient.put() sends the element body with If-Match and xcap-el+xml", async () => {
  const { calls, fetch } = recorder(() =>
    new Response(null, { status: 201, headers: { etag: '"e2"' } })
  );
  const client = new XCAPClient(ROOT, "sip:alice@example.com", { fetch });
  const body = '<entry uri="sip:bob@example.com"><display-name>The Bob</display-name></entry>';
  const put = await client.put(
    "resource-lists",
    body,
    '/resource-lists/list/entry[@uri="sip:bob@example.com"]',
    { etag: "e1" },
  );
  assertEquals(put._unsafeUnwrap().status, 201);
  assertEquals(put._unsafeUnwrap().etag, '"e2"');
  const headers = new Headers(calls[0]?.init.headers);
  assertEquals(calls[0]?.init.method, "PUT");
  assertEquals(calls[0]?.init.body, body);
  assertEquals(headers.get("content-type"), "application/xcap-el+xml");
  assertEquals(headers.get("if-match"), '"e1"');
  assertEquals(
    calls[0]?.url,
    `${DOC}/~~/resource-lists/list/entry%5B@uri=%22sip:bob@example.com%22%5D`,
  );
});

Deno.test("XCAPClient.put() returns Conflict with the parsed xcap-error condition", async () => {
  const { fetch } = recorder(() =>
    new Response(
      '<?xml version="1.0"?><xcap-error xmlns="urn:ietf:params:xml:ns:xcap-error">' +
        '<uniqueness-failure><exists field="entry/@uri"><alt-value>sip:bob2@example.com</alt-value>' +
        "</exists></uniqueness-failure></xcap-error>",
      { status: 409, headers: { "content-type": "application/xcap-error+xml" } },
    )
  );
  const client = new XCAPClient(ROOT, "sip:alice@example.com", { fetch });
  const put = await client.put("resource-lists", "<resource-lists/>");
  assert(put.isErr());
  const error = put.error;
  assert(error._tag === "Conflict");
  assert(error.condition?.tag === "uniqueness-failure");
  assertEquals(error.condition.exists, [{
    field: "entry/@uri",
    altValues: ["sip:bob2@example.com"],
  }]);
});

Deno.test("XCAPClient.delete() returns PreconditionFailed on 412 and NotModified on 304", async () => {
  const { fetch } = recorder((_url, init) =>
    new Response(null, { status: init.method === "DELETE" ? 412 : 304 })
  );
  const client = new XCAPClient(ROOT, "sip:alice@example.com", { fetch });
  const deleted = await client.delete("resource-lists", "/resource-lists/list[1]", {
    etag: "old",
  });
  assert(deleted.isErr());
  assertEquals(deleted.error._tag, "PreconditionFailed");
  const got = await client.get("resource-lists", undefined, { ifNoneMatch: "same" });
  assert(got.isErr());
  assertEquals(got.error._tag, "NotModified");
});

Deno.test("XCAPClient returns InvalidArgument without sending anything for a bad selector", async () => {
  const { calls, fetch } = recorder(() => new Response("x"));
  const client = new XCAPClient(ROOT, "sip:alice@example.com", { fetch });
  const got = await client.get("resource-lists", "/resource-lists/list[@name=");
  assert(got.isErr());
  assertEquals(got.error._tag, "InvalidArgument");
  const badRoot = await new XCAPClient("not a url", "sip:alice@example.com", { fetch })
    .get("resource-lists");
  assert(badRoot.isErr());
  assertEquals(badRoot.error._tag, "InvalidArgument");
  assertEquals(calls.length, 0);
});

Deno.test("XCAPClient merges client headers with per-call headers, the call winning", async () => {
  const { calls, fetch } = recorder(() => new Response("x"));
  const client = new XCAPClient(ROOT, "sip:alice@example.com", {
    fetch,
    headers: { "x-client": "a", "x-both": "client" },
  });
  await client.get("resource-lists", undefined, { headers: { "X-Both": "call" } });
  const headers = new Headers(calls[0]?.init.headers);
  assertEquals(headers.get("x-client"), "a");
  assertEquals(headers.get("x-both"), "call");
});

Deno.test("XCAPClient runs on a caller's executor and passes the signal through", async () => {
  const seen: Array<{ request: XcapRequest; signal: AbortSignal | undefined }> = [];
  const executor: Executor = (request, options) => {
    seen.push({ request, signal: options?.signal });
    return okAsync({ status: 200, headers: new Headers(), body: "ok", url: request.url });
  };
  const controller = new AbortController();
  const client = new XCAPClient(ROOT, "sip:alice@example.com", { executor });
  const got = await client.get("resource-lists", undefined, { signal: controller.signal });
  assertEquals(got._unsafeUnwrap().body, "ok");
  assertEquals(seen[0]?.signal, controller.signal);
  assert(Object.isFrozen(seen[0]?.request));
});

Deno.test("XCAPClient answers Basic over http only when allowed, with the XUI's user part", async () => {
  const replies = (url: string, init: RequestInit) => {
    void url;
    const auth = new Headers(init.headers).get("authorization");
    return auth === null
      ? new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="x"' } })
      : new Response(atob(auth.replace(/^Basic /, "")));
  };
  const refused = recorder(replies);
  const strict = new XCAPClient(ROOT, "sip:alice@example.com", {
    fetch: refused.fetch,
    password: "pw",
  });
  const denied = await strict.get("resource-lists");
  assert(denied.isErr());
  assertEquals(denied.error._tag, "Unauthorized");
  assertEquals(refused.calls.length, 1);
  // The password was not sent at all: neither "none given" nor "refused".
  assertEquals(denied.error._tag === "Unauthorized" && denied.error.credentials, "unanswered");
  assertStringIncludes(denied.error.message, "allowBasicOverHttp");

  const allowed = recorder(replies);
  const lax = new XCAPClient(ROOT, "sip:alice@example.com", {
    fetch: allowed.fetch,
    password: "pw",
    allowBasicOverHttp: true,
  });
  assertEquals((await lax.get("resource-lists"))._unsafeUnwrap().body, "alice:pw");
  const named = new XCAPClient(ROOT, "sip:alice@example.com", {
    fetch: recorder(replies).fetch,
    password: "pw",
    username: "alice@example.com",
    allowBasicOverHttp: true,
  });
  assertEquals((await named.get("resource-lists"))._unsafeUnwrap().body, "alice@example.com:pw");
});

Deno.test("XCAPClient never puts the password into an error message", async () => {
  const { fetch } = recorder(() =>
    new Response("no", { status: 401, headers: { "www-authenticate": 'Basic realm="x"' } })
  );
  const client = new XCAPClient(ROOT, "sip:alice@example.com", {
    fetch,
    password: "s3cr3t-pw",
    allowBasicOverHttp: true,
  });
  const got = await client.get("resource-lists");
  assert(got.isErr());
  assertEquals(got.error._tag, "Unauthorized");
  assert(!JSON.stringify(got.error).includes("s3cr3t-pw"));
  assert(!got.error.message.includes("s3cr3t-pw"));
  assertStringIncludes(got.error.message, "401");
});

Deno.test("XCAPClient.get(), put() and delete() take options in place of the node selector", async () => {
  const { calls, fetch } = recorder(() => new Response("x", { headers: { etag: '"e1"' } }));
  const client = new XCAPClient(ROOT, "sip:alice@example.com", { fetch });
  await client.get("xcap-caps", { global: true });
  await client.get("resource-lists", { filename: "work", etag: '"e0"' });
  await client.put("resource-lists", "<resource-lists/>", { filename: "work", etag: '"e1"' });
  await client.delete("resource-lists", { filename: "work", etag: '"e1"' });
  // The old form, options after an explicit undefined, and a parsed selector still work.
  await client.get("resource-lists", undefined, { filename: "old" });
  await client.get("resource-lists", parseNodeSelector("/resource-lists")._unsafeUnwrap());
  assertEquals(calls.map((c) => `${c.init.method} ${c.url.replace(ROOT, "")}`), [
    "GET /xcap-caps/global/index",
    "GET /resource-lists/users/sip:alice@example.com/work",
    "PUT /resource-lists/users/sip:alice@example.com/work",
    "DELETE /resource-lists/users/sip:alice@example.com/work",
    "GET /resource-lists/users/sip:alice@example.com/old",
    "GET /resource-lists/users/sip:alice@example.com/index/~~/resource-lists",
  ]);
  assertEquals(calls.slice(1, 4).map((c) => new Headers(c.init.headers).get("if-match")), [
    '"e0"',
    '"e1"',
    '"e1"',
  ]);
});

Deno.test('XCAPClient.put() with ifNoneMatch: "*" checks first and never overwrites', async () => {
  // A server that ignores If-None-Match, as Kamailio does with the unquoted one.
  const exists = recorder(() => new Response("<resource-lists/>", { headers: { etag: '"e1"' } }));
  const client = new XCAPClient(ROOT, "sip:alice@example.com", { fetch: exists.fetch });
  const refused = await client.put("resource-lists", "<resource-lists/>", { ifNoneMatch: "*" });
  assert(refused.isErr());
  assert(refused.error._tag === "PreconditionFailed");
  assertEquals(refused.error.exists, true);
  assertEquals(refused.error.etag, '"e1"');
  assertEquals(exists.calls.map((c) => c.init.method), ["GET"]);

  // Absent document: one GET, then the PUT under If-None-Match: * (Kamailio: its quoted "*").
  const servers: Array<[string, string]> = [["", "*"], ["kamailio (5.6.3 (x86_64/linux))", '"*"']];
  for (const [server, wildcard] of servers) {
    const absent = recorder((_url, init) =>
      init.method === "GET"
        ? new Response(null, { status: 404, headers: server === "" ? {} : { server } })
        : new Response(null, { status: 201, headers: { etag: '"n1"' } })
    );
    const fresh = new XCAPClient(ROOT, "sip:alice@example.com", { fetch: absent.fetch });
    assert((await fresh.put("resource-lists", "<resource-lists/>", { ifNoneMatch: "*" })).isOk());
    assertEquals(
      absent.calls.map((c) =>
        `${c.init.method} ${new Headers(c.init.headers).get("if-none-match")}`
      ),
      ["GET null", `PUT ${wildcard}`],
    );
  }

  // A node: the document's ETag, the node checked in that version, the PUT pinned to it.
  const node = recorder((url, init) =>
    init.method === "PUT"
      ? new Response(null, { status: 201, headers: { etag: '"d2"' } })
      : url.includes("~~")
      ? new Response(null, { status: 404 })
      : new Response("<resource-lists/>", { headers: { etag: '"d1"' } })
  );
  const nodeClient = new XCAPClient(ROOT, "sip:alice@example.com", { fetch: node.fetch });
  const added = await nodeClient.put("resource-lists", "<list/>", "/resource-lists/list", {
    ifNoneMatch: "*",
  });
  assertEquals(added.isOk() && added.value.etag, '"d2"');
  assertEquals(
    node.calls.map((c) => {
      const h = new Headers(c.init.headers);
      return `${c.init.method} ${c.url.includes("~~") ? "node" : "document"} ` +
        `${h.get("if-match")} ${h.get("if-none-match")}`;
    }),
    ["GET document null null", 'GET node "d1" null', 'PUT node "d1" *'],
  );

  // checkBeforeCreate: false sends the PUT alone.
  const alone = recorder(() => new Response(null, { status: 412 }));
  const raw = new XCAPClient(ROOT, "sip:alice@example.com", { fetch: alone.fetch });
  await raw.put("resource-lists", "<resource-lists/>", {
    ifNoneMatch: "*",
    checkBeforeCreate: false,
  });
  assertEquals(alone.calls.map((c) => c.init.method), ["PUT"]);
});

Deno.test("XCAPClient tells a 401 without credentials from one whose credentials were refused", async () => {
  const challenge = { "www-authenticate": 'Digest realm="xcap", nonce="n1", qop="auth"' };
  const { fetch } = recorder(() => new Response(null, { status: 401, headers: challenge }));
  const none = await new XCAPClient(ROOT, "sip:alice@example.com", { fetch }).get("resource-lists");
  assert(none.isErr() && none.error._tag === "Unauthorized");
  assertEquals(none.error.credentials, "none");
  assertStringIncludes(none.error.message, "no credentials were given");
  const wrong = await new XCAPClient(ROOT, "sip:alice@example.com", { fetch, password: "nope" })
    .get("resource-lists");
  assert(wrong.isErr() && wrong.error._tag === "Unauthorized");
  assertEquals(wrong.error.credentials, "refused");
  assertStringIncludes(wrong.error.message, 'credentials of user "alice" were refused');
  assert(none.error.message !== wrong.error.message);
});
