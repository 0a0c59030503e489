import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { buildDeleteRequest, buildGetRequest, buildPutRequest, type XcapTarget } from "../mod.ts";
import { formatEntityTag } from "../src/client/etag.ts";

const ROOT = "https://xcap.example.com/xcap-root";
const DOC = `${ROOT}/resource-lists/users/sip:alice@example.com/index`;
const alice: XcapTarget = { xcapRoot: ROOT, auid: "resource-lists", xui: "sip:alice@example.com" };

Deno.test("buildGetRequest() builds a frozen whole-document GET with no headers", () => {
  const request = buildGetRequest(alice)._unsafeUnwrap();
  assertEquals(request, { method: "GET", url: DOC, headers: {} });
  assert(Object.isFrozen(request));
  assert(Object.isFrozen(request.headers));
  assertEquals("body" in request, false);
});

Deno.test("buildGetRequest() addresses the global tree and sub-folder documents", () => {
  assertEquals(
    buildGetRequest({ xcapRoot: ROOT, auid: "xcap-caps", global: true })._unsafeUnwrap().url,
    `${ROOT}/xcap-caps/global/index`,
  );
  assertEquals(
    buildGetRequest({ ...alice, filename: "lists/friends.xml" })._unsafeUnwrap().url,
    `${ROOT}/resource-lists/users/sip:alice@example.com/lists/friends.xml`,
  );
});

Deno.test("buildGetRequest() percent-encodes the node selector after ~~", () => {
  const request = buildGetRequest({
    ...alice,
    node: '/resource-lists/list[@name="my friends"]/entry[2]/display-name',
  })._unsafeUnwrap();
  assertEquals(
    request.url,
    `${DOC}/~~/resource-lists/list%5B@name=%22my%20friends%22%5D/entry%5B2%5D/display-name`,
  );
});

Deno.test("buildGetRequest() adds the xmlns() query for prefixed selectors", () => {
  const request = buildGetRequest({
    xcapRoot: ROOT,
    auid: "pres-rules",
    xui: "sip:alice@example.com",
    node: '/cr:ruleset/cr:rule[@id="a"]',
    namespaces: { cr: "urn:ietf:params:xml:ns:common-policy" },
  })._unsafeUnwrap();
  assertStringIncludes(request.url, "?xmlns(cr=urn:ietf:params:xml:ns:common-policy)");
});

Deno.test("buildGetRequest() rejects an invalid selector before anything is sent", () => {
  const result = buildGetRequest({ ...alice, node: "/resource-lists/list[" });
  assert(result.isErr());
  assertEquals(result.error._tag, "InvalidArgument");
  assertStringIncludes(result.error.message, "resource-lists/list[");
});

Deno.test("buildGetRequest() turns etag into If-Match and ifNoneMatch into If-None-Match", () => {
  const request = buildGetRequest(alice, { etag: "abc", ifNoneMatch: 'W/"def"' })._unsafeUnwrap();
  assertEquals(request.headers, { "if-match": '"abc"', "if-none-match": 'W/"def"' });
  assertEquals(
    buildPutRequest(alice, "<x/>", { ifNoneMatch: "*" })._unsafeUnwrap().headers["if-none-match"],
    "*",
  );
});

Deno.test("buildGetRequest() rejects `*` as If-Match and entity-tags with quotes inside", () => {
  const star = buildGetRequest(alice, { etag: "*" });
  assert(star.isErr());
  assertEquals(star.error._tag === "InvalidArgument" && star.error.argument, "etag");
  const quoted = buildGetRequest(alice, { ifNoneMatch: 'a"b' });
  assert(quoted.isErr());
  assertEquals(quoted.error._tag === "InvalidArgument" && quoted.error.argument, "ifNoneMatch");
});

Deno.test("buildGetRequest() rejects header values with CR or LF and bad header names", () => {
  for (const headers of [{ "x-a": "1\r\nx-b: 2" }, { "x-a": "1\n" }, { "bad name": "1" }]) {
    const result = buildGetRequest(alice, { headers });
    assert(result.isErr(), JSON.stringify(headers));
    assertEquals(result.error._tag, "InvalidArgument");
  }
  const crlfEtag = buildGetRequest(alice, { etag: "a\r\nb" });
  assert(crlfEtag.isErr());
});

Deno.test("buildGetRequest() lower-cases caller headers and lets etag options win", () => {
  const request = buildGetRequest(alice, {
    headers: [["X-Trace", "t1"], ["If-Match", '"from-headers"']],
    etag: "from-option",
  })._unsafeUnwrap();
  assertEquals(request.headers, { "x-trace": "t1", "if-match": '"from-option"' });
});

Deno.test("buildPutRequest() sends the application usage's MIME type for a document", () => {
  const cases: Array<[string, string]> = [
    ["resource-lists", "application/resource-lists+xml"],
    ["rls-services", "application/rls-services+xml"],
    ["pres-rules", "application/auth-policy+xml"],
    ["pidf-manipulation", "application/pidf+xml"],
    ["xcap-caps", "application/xcap-caps+xml"],
    ["com.example.unknown", "application/xml"],
  ];
  for (const [auid, mime] of cases) {
    const request = buildPutRequest({ ...alice, auid }, "<doc/>")._unsafeUnwrap();
    assertEquals(request.headers["content-type"], mime, auid);
    assertEquals(request.body, "<doc/>");
    assertEquals(request.method, "PUT");
  }
});

Deno.test("buildPutRequest() sends xcap-el+xml for an element and xcap-att+xml for an attribute", () => {
  const element = buildPutRequest(
    { ...alice, node: '/resource-lists/list/entry[@uri="sip:bob@example.com"]' },
    '<entry uri="sip:bob@example.com"/>',
  )._unsafeUnwrap();
  assertEquals(element.headers["content-type"], "application/xcap-el+xml");
  const attribute = buildPutRequest(
    { ...alice, node: "/resource-lists/list/@name" },
    "friends",
  )._unsafeUnwrap();
  assertEquals(attribute.headers["content-type"], "application/xcap-att+xml");
  const override = buildPutRequest(alice, "<x/>", { contentType: "application/xml" });
  assertEquals(override._unsafeUnwrap().headers["content-type"], "application/xml");
});

Deno.test("buildPutRequest() and buildDeleteRequest() refuse namespace::* targets", () => {
  const node = "/resource-lists/namespace::*";
  const put = buildPutRequest({ ...alice, node }, "x");
  assert(put.isErr());
  assertStringIncludes(put.error.message, "read-only");
  const del = buildDeleteRequest({ ...alice, node });
  assert(del.isErr());
  assert(buildGetRequest({ ...alice, node }).isOk());
});

Deno.test("buildPutRequest() rejects a Content-Type override with CR or LF", () => {
  const result = buildPutRequest(alice, "<x/>", { contentType: "text/xml\r\nx: y" });
  assert(result.isErr());
  assertEquals(result.error._tag === "InvalidArgument" && result.error.argument, "contentType");
});

Deno.test("buildDeleteRequest() builds a DELETE with If-Match and no body", () => {
  const request = buildDeleteRequest({ ...alice, node: "/resource-lists/list/entry[1]" }, {
    etag: '"e"',
  })._unsafeUnwrap();
  assertEquals(request, {
    method: "DELETE",
    url: `${DOC}/~~/resource-lists/list/entry%5B1%5D`,
    headers: { "if-match": '"e"' },
  });
});

Deno.test("buildGetRequest() rejects an XUI or path that would escape its segment", () => {
  for (
    const target of [
      { ...alice, xui: "../bob" },
      { ...alice, filename: "../../bob/index" },
      { ...alice, auid: "resource-lists/../x" },
      { ...alice, xui: "" },
    ]
  ) {
    const result = buildGetRequest(target);
    if (result.isOk()) {
      // An encoded form is acceptable as long as the document stays under alice's tree.
      const url = new URL(result.value.url);
      assert(!url.pathname.includes("/../"), result.value.url);
      assert(url.pathname.startsWith("/xcap-root/"), result.value.url);
    } else {
      assertEquals(result.error._tag, "InvalidArgument");
    }
  }
});

Deno.test("formatEntityTag() quotes bare tags and keeps weak and quoted ones", () => {
  assertEquals(formatEntityTag("sr-1-2-3")._unsafeUnwrap(), '"sr-1-2-3"');
  assertEquals(formatEntityTag(' "x" ')._unsafeUnwrap(), '"x"');
  assertEquals(formatEntityTag('W/"x"')._unsafeUnwrap(), 'W/"x"');
  assertEquals(formatEntityTag('""')._unsafeUnwrap(), '""');
  assert(formatEntityTag("").isErr());
  assert(formatEntityTag("*").isErr());
  assert(formatEntityTag("caf\u00e9 x").isErr());
});
