import {
  assert,
  assertEquals,
  assertFalse,
  assertMatch,
  assertNotMatch,
  assertStrictEquals,
  assertStringIncludes,
} from "@std/assert";
import type { ConflictCondition, XcapError, XcapErrorTag } from "../src/client/errors.ts";
import { invalidArgument } from "../src/client/errors.ts";
import type { XcapResponse } from "../src/client/types.ts";
import { interpretResponse, isXcapError, type XcapResource } from "../src/client/response.ts";
import { buildConflictReport, describeConflictCondition } from "../src/client/conflict_report.ts";

const URL_ = "http://127.0.0.1:8000/xcap-root/resource-lists/users/sip:alice@example.com/index";
const NS = "urn:ietf:params:xml:ns:xcap-error";

function response(
  status: number,
  init: { body?: string; headers?: Record<string, string>; url?: string } = {},
): XcapResponse {
  return {
    status,
    headers: new Headers(init.headers ?? {}),
    body: init.body ?? "",
    url: init.url ?? URL_,
  };
}

function okValue(r: XcapResponse): XcapResource {
  const result = interpretResponse(r);
  if (result.isErr()) throw new Error(`expected Ok, got ${result.error.message}`);
  assert(Object.isFrozen(result.value), "resource is frozen");
  return result.value;
}

function errValue(r: XcapResponse): XcapError {
  const result = interpretResponse(r);
  assert(result.isErr(), `expected Err for status ${r.status}`);
  const error = result.error;
  assert(Object.isFrozen(error), "error is frozen");
  assertNotMatch(error.message, /\.$/);
  if ("status" in error) assertEquals(error.status, r.status);
  if ("headers" in error) assertStrictEquals(error.headers, r.headers);
  if ("body" in error) assertEquals(error.body, r.body);
  return error;
}

function assertContext(error: XcapError, status: number, reason: string, url = URL_): void {
  assertStringIncludes(error.message, `HTTP ${status} ${reason} from ${url}: `);
}

Deno.test("interpretResponse() turns a 200 into a frozen Resource", () => {
  const r = response(200, {
    body: '<?xml version="1.0"?><resource-lists/>',
    headers: {
      etag: ' "abc123" ',
      "content-type": "Application/Resource-Lists+XML; charset=UTF-8",
    },
  });
  const resource = okValue(r);
  assertEquals(resource.status, 200);
  assertEquals(resource.body, '<?xml version="1.0"?><resource-lists/>');
  assertEquals(resource.etag, '"abc123"');
  assertEquals(resource.contentType, "application/resource-lists+xml");
  assertStrictEquals(resource.headers, r.headers);
  assertEquals(resource.url, URL_);
});

Deno.test("interpretResponse() accepts every 2xx, including 201 and an empty 204", () => {
  for (const status of [200, 201, 202, 203, 204, 206, 299]) {
    const resource = okValue(response(status));
    assertEquals(resource.status, status);
    assertEquals(resource.body, "");
    assertFalse("etag" in resource);
    assertFalse("contentType" in resource);
  }
});

Deno.test("interpretResponse() keeps strong, weak and unquoted ETags as sent", () => {
  const cases: [string, string][] = [
    ['"xyz"', '"xyz"'],
    ['W/"xyz"', 'W/"xyz"'],
    ["xyz", "xyz"], // unquoted, as some servers send them
    ["  1617983212.1  ", "1617983212.1"],
    ['""', '""'],
    ['"\u00e9t\u00e9"', '"\u00e9t\u00e9"'],
  ];
  for (const [header, expected] of cases) {
    assertEquals(okValue(response(200, { headers: { etag: header } })).etag, expected, header);
  }
});

Deno.test("interpretResponse() drops a malformed ETag instead of failing the 2xx", () => {
  for (const header of ['"abc', 'abc"', '"a"b"', "a b", '"a", "b"', "", "   ", 'w/"x"']) {
    const resource = okValue(response(200, { headers: { etag: header } }));
    assertFalse("etag" in resource, JSON.stringify(header));
  }
});

Deno.test("interpretResponse() handles Kamailio's element GET answered with the AUID's MIME type", () => {
  const resource = okValue(response(200, {
    body: '<entry uri="sip:bob@example.com"/>',
    headers: {
      etag: '"sr-1700000000-1234-1"',
      "content-type": "application/resource-lists+xml",
    },
    url: `${URL_}/~~/resource-lists/list%5b@name=%22friends%22%5d/entry`,
  }));
  assertEquals(resource.contentType, "application/resource-lists+xml");
  assertEquals(resource.body, '<entry uri="sip:bob@example.com"/>');
  assertEquals(resource.etag, '"sr-1700000000-1234-1"');
});

Deno.test("interpretResponse() ignores an empty Content-Type", () => {
  assertFalse("contentType" in okValue(response(200, { headers: { "content-type": "" } })));
  assertFalse("contentType" in okValue(response(200, { headers: { "content-type": " ;a=b" } })));
});

Deno.test("interpretResponse() turns a 304 into NotModified with the ETag", () => {
  const error = errValue(response(304, { headers: { etag: '"v1"' } }));
  assert(error._tag === "NotModified");
  assertEquals(error.etag, '"v1"');
  assertContext(error, 304, "Not Modified");
  assertStringIncludes(error.message, '"v1"');
  const bare = errValue(response(304));
  assert(bare._tag === "NotModified");
  assertFalse("etag" in bare);
});

Deno.test("interpretResponse() parses the condition of a 409 for every condition kind", () => {
  const conditions: ConflictCondition[] = [
    { tag: "not-well-formed" },
    { tag: "not-xml-frag" },
    { tag: "schema-validation-error", phrase: "element entry not allowed" },
    { tag: "not-xml-att-value" },
    { tag: "cannot-insert" },
    { tag: "cannot-delete" },
    { tag: "constraint-failure" },
    { tag: "not-utf-8" },
    { tag: "no-parent", ancestor: `${URL_}/~~/resource-lists` },
    {
      tag: "uniqueness-failure",
      exists: [{ field: "rls-services/service/@uri", altValues: ["sip:x@example.com"] }],
    },
    { tag: "extension", content: '<q:over xmlns:q="urn:q"/>' },
  ];
  for (const condition of conditions) {
    const r = response(409, {
      body: buildConflictReport(condition),
      headers: { "content-type": "application/xcap-error+xml; charset=utf-8" },
    });
    const error = errValue(r);
    assert(error._tag === "Conflict");
    assertEquals(error.condition, condition);
    assertContext(error, 409, "Conflict");
    assertStringIncludes(error.message, describeConflictCondition(condition));
  }
});

Deno.test("interpretResponse() reads OpenXCAP's 409 cannot-insert body", () => {
  const error = errValue(response(409, {
    headers: { "content-type": "application/xcap-error+xml;charset=utf-8" },
    body: '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<xcap-error xmlns="${NS}"><cannot-insert phrase="PUT request failed GET(PUT(x))==x invariant"/></xcap-error>`,
  }));
  assert(error._tag === "Conflict");
  assertEquals(error.condition, {
    tag: "cannot-insert",
    phrase: "PUT request failed GET(PUT(x))==x invariant",
  });
  assertStringIncludes(error.message, "PUT request failed GET(PUT(x))==x invariant");
});

Deno.test("interpretResponse() reads OpenXCAP's not-well-formed and bare exists bodies", () => {
  const notWellFormed = errValue(response(409, {
    headers: { "content-type": "application/xcap-error+xml" },
    body:
      `<xcap-error xmlns="${NS}"><not-well-formed><!--\nmismatched tag: line 3\n--></not-well-formed></xcap-error>`,
  }));
  assert(notWellFormed._tag === "Conflict");
  assertEquals(notWellFormed.condition, { tag: "not-well-formed" });
  const uniqueness = errValue(response(409, {
    headers: { "content-type": "application/xcap-error+xml" },
    body:
      `<xcap-error xmlns="${NS}"><uniqueness-failure><exists field="/*/*[0]/*[1]/@uri"/></uniqueness-failure></xcap-error>`,
  }));
  assert(uniqueness._tag === "Conflict");
  assertEquals(uniqueness.condition, {
    tag: "uniqueness-failure",
    exists: [{ field: "/*/*[0]/*[1]/@uri", altValues: [] }],
  });
  assertStringIncludes(uniqueness.message, '"/*/*[0]/*[1]/@uri" is not unique');
});

Deno.test("interpretResponse() parses a 409 xcap-error body whatever its Content-Type", () => {
  for (const headers of [{ "content-type": "text/xml" }, { "content-type": "text/plain" }, {}]) {
    const error = errValue(response(409, {
      headers,
      body:
        `<xcap-error xmlns="${NS}"><no-parent><ancestor>http://h/a</ancestor></no-parent></xcap-error>`,
    }));
    assert(error._tag === "Conflict");
    assertEquals(error.condition, { tag: "no-parent", ancestor: "http://h/a" });
    assertStringIncludes(
      error.message,
      "the parent of the new node does not exist (closest ancestor: http://h/a)",
    );
  }
});

Deno.test("interpretResponse() keeps an unparseable 409 as a Conflict without condition", () => {
  const bodies = [
    "",
    "   ",
    "<html><body><h1>409 Conflict</h1></body></html>",
    `<xcap-error xmlns="${NS}"><no-parent>`,
    `<xcap-error xmlns="${NS}"><quota-exceeded/></xcap-error>`,
    "<constructor/>",
    "Conflict",
  ];
  for (const body of bodies) {
    for (const contentType of ["application/xcap-error+xml", "text/html", "text/plain"]) {
      const error = errValue(response(409, { body, headers: { "content-type": contentType } }));
      assert(error._tag === "Conflict");
      assertFalse("condition" in error);
      assertEquals(error.body, body);
      assertContext(error, 409, "Conflict");
    }
  }
});

Deno.test("interpretResponse() explains why a 409 has no condition", () => {
  const empty = errValue(response(409));
  assertStringIncludes(empty.message, "sent no xcap-error report");
  const unreadable = errValue(response(409, {
    body: `<xcap-error xmlns="${NS}"><no-parent>`,
    headers: { "content-type": "application/xcap-error+xml" },
  }));
  assertStringIncludes(
    unreadable.message,
    "xcap-error report is unreadable (it is not well-formed XML",
  );
  const unknown = errValue(response(409, {
    body: `<xcap-error xmlns="${NS}"><quota-exceeded/></xcap-error>`,
    headers: { "content-type": "application/xcap-error+xml" },
  }));
  assertStringIncludes(unknown.message, "<quota-exceeded> is not a condition RFC 4825 defines");
  const html = errValue(response(409, {
    body: "<html><body>Conflict</body></html>",
    headers: { "content-type": "text/html" },
  }));
  assertStringIncludes(html.message, "without an xcap-error report");
  assertNotMatch(html.message, /<html>/);
  const text = errValue(response(409, {
    body: "Document is locked",
    headers: { "content-type": "text/plain" },
  }));
  assertStringIncludes(text.message, '; the server says "Document is locked"');
});

Deno.test("interpretResponse() turns a 412 into PreconditionFailed", () => {
  const error = errValue(response(412, { headers: { etag: '"current"' } }));
  assert(error._tag === "PreconditionFailed");
  assertEquals(error.etag, '"current"');
  assertContext(error, 412, "Precondition Failed");
  assertStringIncludes(error.message, "If-Match");
  assertStringIncludes(error.message, '"current"');
  // Kamailio: 412 without body or ETag.
  const kamailio = errValue(response(412));
  assert(kamailio._tag === "PreconditionFailed");
  assertFalse("etag" in kamailio);
});

Deno.test("interpretResponse() turns a 401 into Unauthorized naming the challenge scheme", () => {
  const error = errValue(response(401, {
    headers: { "www-authenticate": 'Digest realm="example.com", nonce="abc", qop="auth"' },
  }));
  assertEquals(error._tag, "Unauthorized");
  assertContext(error, 401, "Unauthorized");
  assertStringIncludes(error.message, "the server asks for Digest");
  assertNotMatch(errValue(response(401)).message, /asks for/);
});

Deno.test("interpretResponse() turns a 403 into Forbidden", () => {
  const error = errValue(
    response(403, { body: "<html>no</html>", headers: { "content-type": "text/html" } }),
  );
  assertEquals(error._tag, "Forbidden");
  assertContext(error, 403, "Forbidden");
  assertNotMatch(error.message, /<html>/);
});

Deno.test("interpretResponse() turns a 404 into NotFound and quotes OpenXCAP's text", () => {
  const error = errValue(response(404, {
    body: "The requested node selector\nmatches more than one element",
    headers: { "content-type": "text/plain" },
  }));
  assertEquals(error._tag, "NotFound");
  assertContext(error, 404, "Not Found");
  assertStringIncludes(error.message, "more than one");
  assertStringIncludes(
    error.message,
    'more than one; the server says "The requested node selector matches more than one element"',
  );
});

Deno.test("interpretResponse() turns a 405 into MethodNotAllowed with the Allow list", () => {
  const cases: [Record<string, string>, string[], string][] = [
    [{ allow: "GET, PUT,DELETE" }, ["GET", "PUT", "DELETE"], "(allowed: GET, PUT, DELETE)"],
    [{ allow: "GET" }, ["GET"], "(allowed: GET)"], // Kamailio on xcap-caps
    [{ allow: "" }, [], "allows no method"],
    [{}, [], "sent no Allow header"],
  ];
  for (const [headers, allow, text] of cases) {
    const error = errValue(response(405, { headers }));
    assert(error._tag === "MethodNotAllowed");
    assertEquals(error.allow, allow);
    assert(Object.isFrozen(error.allow));
    assertContext(error, 405, "Method Not Allowed");
    assertStringIncludes(error.message, text);
  }
});

Deno.test("interpretResponse() turns a 415 into UnsupportedMediaType", () => {
  const error = errValue(response(415));
  assertEquals(error._tag, "UnsupportedMediaType");
  assertContext(error, 415, "Unsupported Media Type");
  assertStringIncludes(error.message, "Content-Type");
});

Deno.test("interpretResponse() turns every other status into HttpError", () => {
  const cases: [number, string, RegExp][] = [
    [100, "Continue", /interim response/],
    [301, "Moved Permanently", /redirects elsewhere/],
    [400, "Bad Request", /rejected the request/],
    [418, "I'm a teapot", /rejected the request/],
    [500, "Internal Server Error", /failed to handle/],
    [501, "Not Implemented", /failed to handle/],
    [503, "Service Unavailable", /failed to handle/],
  ];
  for (const [status, reason, pattern] of cases) {
    const error = errValue(response(status));
    assertEquals(error._tag, "HttpError");
    assertContext(error, status, reason);
    assertMatch(error.message, pattern);
  }
});

Deno.test("interpretResponse() turns a redirect with a Location into Redirected, resolved against the URL", () => {
  for (const status of [301, 302, 303, 307, 308]) {
    const error = errValue(response(status, { headers: { location: "http://127.0.0.1:9000/x" } }));
    assertEquals(error._tag, "Redirected");
    assert(error._tag === "Redirected");
    assertEquals(error.location, "http://127.0.0.1:9000/x");
    assertEquals(error.status, status);
    assertStringIncludes(error.message, "redirects to http://127.0.0.1:9000/x");
    assertStringIncludes(error.message, "not followed");
  }
  const relative = errValue(response(307, { headers: { location: " ../other/index " } }));
  assert(relative._tag === "Redirected");
  assertEquals(
    relative.location,
    "http://127.0.0.1:8000/xcap-root/resource-lists/users/other/index",
  );
});

Deno.test("interpretResponse() keeps a 3xx it cannot follow as HttpError that names the target", () => {
  // 300 and 305 are not redirects a client follows by itself; a Location that is not a URL
  // cannot be followed either.
  const multiple = errValue(response(300, { headers: { location: "http://127.0.0.1:9000/x" } }));
  assertEquals(multiple._tag, "HttpError");
  assertStringIncludes(multiple.message, "redirects to http://127.0.0.1:9000/x");
  const broken = errValue(response(302, { headers: { location: "http://[::1" } }));
  assertEquals(broken._tag, "HttpError");
  const none = errValue(response(302));
  assertEquals(none._tag, "HttpError");
  assertStringIncludes(none.message, "redirects elsewhere");
});

Deno.test("interpretResponse() copes with unknown statuses and a missing URL", () => {
  const unknown = errValue(response(599));
  assertEquals(unknown._tag, "HttpError");
  assertStringIncludes(unknown.message, `HTTP 599 from ${URL_}: `);
  const zero = errValue(response(0, { url: "" }));
  assertEquals(zero._tag, "HttpError");
  assertMatch(zero.message, /^HTTP 0: the status code is not a valid HTTP status$/);
});

Deno.test("interpretResponse() quotes only short plain-text bodies", () => {
  const error = errValue(response(500, {
    body: "x".repeat(5000),
    headers: { "content-type": "text/plain; charset=utf-8" },
  }));
  assert(error.message.length < 400, `message too long: ${error.message.length}`);
  assertStringIncludes(error.message, "…");
  const html = errValue(response(500, {
    body: "<html><body>Internal error</body></html>",
    headers: { "content-type": "text/html" },
  }));
  assertNotMatch(html.message, /Internal error/);
});

Deno.test("interpretResponse() never throws on weird bodies", () => {
  const weird = [
    "",
    "\u0000\u0001",
    "<",
    `<xcap-error xmlns="${NS}"><no-parent><ancestor>http://h`,
    "<!DOCTYPE html><html><body><p>a<br>b</p></body></html>",
    "<constructor/>",
    "<__proto__/>",
    `<xcap-error xmlns="${NS}"><constructor/></xcap-error>`,
    "<a>".repeat(50_000) + "</a>".repeat(50_000),
    "<a>".repeat(50_000),
    "\uFFFD".repeat(10_000),
    '<!DOCTYPE a [<!ENTITY x "&x;&x;">]><a>&x;</a>',
  ];
  const statuses = [200, 204, 304, 401, 403, 404, 405, 409, 412, 415, 500];
  for (const body of weird) {
    for (const status of statuses) {
      for (const contentType of ["application/xcap-error+xml", "text/plain", "text/html"]) {
        const result = interpretResponse(
          response(status, { body, headers: { "content-type": contentType, etag: '"e' } }),
        );
        assertEquals(result.isOk(), status >= 200 && status <= 299);
        if (result.isErr()) assert(isXcapError(result.error));
      }
    }
  }
});

Deno.test("interpretResponse() tolerates a non-string body or URL", () => {
  const r = { status: 200, headers: new Headers(), body: undefined, url: undefined };
  const resource = okValue(r as unknown as XcapResponse);
  assertEquals(resource.body, "");
  assertEquals(resource.url, "");
});

Deno.test("isXcapError() recognizes every error tag", () => {
  const tags: XcapErrorTag[] = [
    "Conflict",
    "PreconditionFailed",
    "NotModified",
    "NotFound",
    "Unauthorized",
    "Forbidden",
    "MethodNotAllowed",
    "UnsupportedMediaType",
    "Redirected",
    "HttpError",
    "NetworkError",
    "Timeout",
    "Aborted",
    "InvalidArgument",
    "MalformedResponse",
  ];
  for (const tag of tags) assert(isXcapError({ _tag: tag, message: "m" }), tag);
  assert(isXcapError(invalidArgument("x", "bad")));
});

Deno.test("isXcapError() rejects everything else", () => {
  const values: unknown[] = [
    null,
    undefined,
    0,
    "Conflict",
    [],
    {},
    new Error("Conflict"),
    { _tag: "Conflict" },
    { _tag: "Conflict", message: 1 },
    { _tag: "conflict", message: "m" },
    { _tag: "toString", message: "m" },
    { _tag: "__proto__", message: "m" },
    { tag: "Conflict", message: "m" },
  ];
  for (const value of values) assertFalse(isXcapError(value), String(value));
});
