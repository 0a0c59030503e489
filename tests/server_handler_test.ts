import {
  assert,
  assertEquals,
  assertMatch,
  assertNotEquals,
  assertStringIncludes,
} from "@std/assert";
import { buildXcapUri, type XcapTarget } from "../src/client/uri.ts";
import { parseConflictReport } from "../src/client/conflict_report.ts";
import type { ConflictCondition } from "../src/client/errors.ts";
import {
  createXcapHandler,
  type DocumentKey,
  type DocumentStore,
  MemoryStore,
  type StoredDocument,
  type XcapHandlerOptions,
} from "../src/server/mod.ts";
import { okAsync, ResultAsync } from "npm:neverthrow@^8.2.0";

const ORIGIN = "http://127.0.0.1";
const ROOT = `${ORIGIN}/xcap-root`;
const RL = "urn:ietf:params:xml:ns:resource-lists";
const RL_TYPE = "application/resource-lists+xml";
const ALICE = "sip:alice@example.com";
const DOC_URL = `${ROOT}/resource-lists/users/${ALICE}/index`;
const DOC = `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="${RL}">
  <!-- my lists -->
  <list name="friends">
    <entry uri="sip:bob@example.com">
      <display-name>Bob</display-name>
    </entry>
    <entry uri='sip:carol@example.com'/>
  </list>
</resource-lists>
`;

type Handler = (request: Request) => Promise<Response>;

function uri(options: Partial<XcapTarget> = {}): string {
  const built = buildXcapUri({ xcapRoot: ROOT, auid: "resource-lists", xui: ALICE, ...options });
  assert(built.isOk(), built.isErr() ? built.error.message : "");
  return built.value;
}

function put(
  handler: Handler,
  url: string,
  body: string | Uint8Array<ArrayBuffer>,
  contentType: string | null = RL_TYPE,
  headers: Record<string, string> = {},
): Promise<Response> {
  return handler(
    new Request(url, {
      method: "PUT",
      headers: {
        ...(contentType === null ? {} : { "content-type": contentType }),
        ...headers,
      },
      body,
    }),
  );
}

function get(handler: Handler, url: string, headers: Record<string, string> = {}) {
  return handler(new Request(url, { headers }));
}

function del(handler: Handler, url: string, headers: Record<string, string> = {}) {
  return handler(new Request(url, { method: "DELETE", headers }));
}

async function conditionOf(response: Response): Promise<ConflictCondition> {
  assertEquals(response.status, 409);
  assertEquals(response.headers.get("content-type"), "application/xcap-error+xml");
  const parsed = parseConflictReport(await response.text());
  assert(parsed.isOk(), parsed.isErr() ? parsed.error.message : "");
  return parsed.value;
}

async function withDocument(options: XcapHandlerOptions = {}) {
  const handler = createXcapHandler(options);
  const created = await put(handler, DOC_URL, DOC);
  assertEquals(created.status, 201);
  const etag = created.headers.get("etag");
  assert(etag !== null);
  return { handler, etag };
}

// ---------------------------------------------------------------------------------------------
// Documents
// ---------------------------------------------------------------------------------------------

Deno.test("createXcapHandler() creates a document with 201 and replaces it with 200", async () => {
  const handler = createXcapHandler();
  const created = await put(handler, DOC_URL, DOC);
  assertEquals(created.status, 201);
  const first = created.headers.get("etag");
  assertMatch(first ?? "", /^"[^"]+"$/);
  const replacement = DOC.replace("friends", "family");
  const replaced = await put(handler, DOC_URL, replacement);
  assertEquals(replaced.status, 200);
  const second = replaced.headers.get("etag");
  assertNotEquals(second, first);
  const read = await get(handler, DOC_URL);
  assertEquals(read.status, 200);
  assertEquals(read.headers.get("content-type"), RL_TYPE);
  assertEquals(read.headers.get("etag"), second);
  assertEquals(await read.text(), replacement);
});

Deno.test("createXcapHandler() keeps the entity-tag when a PUT writes the same bytes", async () => {
  const { handler, etag } = await withDocument();
  const again = await put(handler, DOC_URL, DOC);
  assertEquals(again.status, 200);
  assertEquals(again.headers.get("etag"), etag);
});

Deno.test("createXcapHandler() answers 404 for a document that does not exist", async () => {
  const handler = createXcapHandler();
  const response = await get(handler, DOC_URL);
  assertEquals(response.status, 404);
  assertEquals(response.headers.get("content-type"), "text/plain; charset=utf-8");
  assertEquals(response.headers.get("etag"), null);
});

Deno.test("createXcapHandler() with strictContentType refuses a document PUT of another MIME type with 415 (RFC 4825 §8.2.2)", async () => {
  const handler = createXcapHandler({ strictContentType: true });
  const wrong = await put(handler, DOC_URL, DOC, "application/xml");
  assertEquals(wrong.status, 415);
  assertEquals(wrong.headers.get("accept"), RL_TYPE);
  assertStringIncludes(await wrong.text(), "application/resource-lists+xml");
  // A byte body gets no Content-Type from the Request constructor.
  const missing = await put(handler, DOC_URL, new TextEncoder().encode(DOC), null);
  assertEquals(missing.status, 415);
  assertStringIncludes(await missing.text(), "the request has none");
  // Parameters and case do not matter.
  const withCharset = await put(
    handler,
    DOC_URL,
    DOC,
    "Application/Resource-Lists+XML; charset=UTF-8",
  );
  assertEquals(withCharset.status, 201);
  assertEquals((await get(handler, DOC_URL)).status, 200);
});

Deno.test("createXcapHandler() answers 409 not-well-formed for broken XML", async () => {
  const handler = createXcapHandler();
  const condition = await conditionOf(
    await put(handler, DOC_URL, `<resource-lists xmlns="${RL}">`),
  );
  assertEquals(condition.tag, "not-well-formed");
  assertEquals((await get(handler, DOC_URL)).status, 404);
});

Deno.test("createXcapHandler() answers 409 not-utf-8 for a body that is not UTF-8", async () => {
  const handler = createXcapHandler();
  const bytes = new TextEncoder().encode(
    `<resource-lists xmlns="${RL}"><list name="x"/></resource-lists>`,
  );
  bytes[bytes.length - 20] = 0xff;
  const condition = await conditionOf(await put(handler, DOC_URL, bytes));
  assertEquals(condition.tag, "not-utf-8");
});

Deno.test("createXcapHandler() answers 409 schema-validation-error for another usage's document", async () => {
  const handler = createXcapHandler();
  const wrongRoot = '<ruleset xmlns="urn:ietf:params:xml:ns:common-policy"/>';
  const condition = await conditionOf(await put(handler, DOC_URL, wrongRoot));
  assertEquals(condition.tag, "schema-validation-error");
  assertStringIncludes(condition.phrase ?? "", "resource-lists");
  // The right name in the wrong namespace is just as wrong.
  const wrongNamespace = '<resource-lists xmlns="urn:example:other"/>';
  assertEquals(
    (await conditionOf(await put(handler, DOC_URL, wrongNamespace))).tag,
    "schema-validation-error",
  );
  // An entry without its required uri.
  const noUri = `<resource-lists xmlns="${RL}"><list><entry/></list></resource-lists>`;
  assertEquals(
    (await conditionOf(await put(handler, DOC_URL, noUri))).tag,
    "schema-validation-error",
  );
});

Deno.test("createXcapHandler() reports duplicate entry URIs in a list as uniqueness-failure (RFC 4826 §3.4.5)", async () => {
  const handler = createXcapHandler();
  const doc = `<resource-lists xmlns="${RL}"><list name="a">` +
    `<entry uri="sip:bob@example.com"/><entry uri="sip:bob@example.com"/></list></resource-lists>`;
  const condition = await conditionOf(await put(handler, DOC_URL, doc));
  assertEquals(condition, {
    tag: "uniqueness-failure",
    phrase: 'The uri "sip:bob@example.com" of <entry> is not unique',
    exists: [{ field: "resource-lists/list/entry[2]/@uri", altValues: [] }],
  });
  // The same URI in two different lists is fine.
  const twoLists =
    `<resource-lists xmlns="${RL}"><list name="a"><entry uri="sip:bob@example.com"/>` +
    `</list><list name="b"><entry uri="sip:bob@example.com"/></list></resource-lists>`;
  assertEquals((await put(handler, DOC_URL, twoLists)).status, 201);
});

Deno.test("createXcapHandler() suggests free list names in alt-value", async () => {
  const handler = createXcapHandler();
  const doc = `<resource-lists xmlns="${RL}"><list name="friends"/><list name="friends"/>` +
    `<list name="friends-2"/></resource-lists>`;
  const condition = await conditionOf(await put(handler, DOC_URL, doc));
  assert(condition.tag === "uniqueness-failure");
  assertEquals(condition.exists, [{
    field: "resource-lists/list[2]/@name",
    altValues: ["friends-3", "friends-4", "friends-5"],
  }]);
});

Deno.test("createXcapHandler() enforces unique rule ids in pres-rules documents", async () => {
  const handler = createXcapHandler();
  const url = uri({ auid: "pres-rules" });
  const doc = '<cr:ruleset xmlns:cr="urn:ietf:params:xml:ns:common-policy">' +
    '<cr:rule id="a"/><cr:rule id="a"/></cr:ruleset>';
  const condition = await conditionOf(await put(handler, url, doc, "application/auth-policy+xml"));
  assert(condition.tag === "uniqueness-failure");
  assertEquals(condition.exists[0]?.field, "cr:ruleset/cr:rule[2]/@id");
});

Deno.test("createXcapHandler() keeps documents in folders apart", async () => {
  const handler = createXcapHandler();
  const inFolder = uri({ filename: "work/contacts.xml" });
  assertEquals((await put(handler, inFolder, DOC)).status, 201);
  assertEquals((await get(handler, DOC_URL)).status, 404);
  assertEquals(await (await get(handler, inFolder)).text(), DOC);
});

Deno.test("createXcapHandler() deletes a document with 200 and no entity-tag", async () => {
  const { handler } = await withDocument();
  const deleted = await del(handler, DOC_URL);
  assertEquals(deleted.status, 200);
  assertEquals(deleted.headers.get("etag"), null);
  assertEquals((await get(handler, DOC_URL)).status, 404);
  assertEquals((await del(handler, DOC_URL)).status, 404);
});

// ---------------------------------------------------------------------------------------------
// Elements, attributes, namespace bindings
// ---------------------------------------------------------------------------------------------

Deno.test("createXcapHandler() GETs an element, an attribute and namespace bindings with their MIME types", async () => {
  const { handler, etag } = await withDocument();
  const element = await get(
    handler,
    uri({ node: '/resource-lists/list[@name="friends"]/entry[1]' }),
  );
  assertEquals(element.status, 200);
  assertEquals(element.headers.get("content-type"), "application/xcap-el+xml");
  assertEquals(element.headers.get("etag"), etag);
  assertEquals(
    await element.text(),
    '<entry uri="sip:bob@example.com">\n      <display-name>Bob</display-name>\n    </entry>',
  );
  const attribute = await get(handler, uri({ node: "/resource-lists/list/entry[2]/@uri" }));
  assertEquals(attribute.headers.get("content-type"), "application/xcap-att+xml");
  assertEquals(attribute.headers.get("etag"), etag);
  assertEquals(await attribute.text(), "sip:carol@example.com");
  const namespaces = await get(handler, uri({ node: "/resource-lists/list/namespace::*" }));
  assertEquals(namespaces.headers.get("content-type"), "application/xcap-ns+xml");
  assertEquals(await namespaces.text(), `<list xmlns="${RL}"/>`);
});

Deno.test("createXcapHandler() selects with prefixes bound in the query (RFC 4825 §6.4)", async () => {
  const { handler } = await withDocument();
  const response = await get(
    handler,
    uri({
      node: '/r:resource-lists/r:list[@name="friends"]/r:entry[2]/@uri',
      namespaces: { r: RL },
    }),
  );
  assertEquals(response.status, 200);
  assertEquals(await response.text(), "sip:carol@example.com");
});

Deno.test("createXcapHandler() answers 404 when a selector selects nothing or several nodes (RFC 4825 §8.1.1)", async () => {
  const { handler } = await withDocument();
  const none = await get(handler, uri({ node: "/resource-lists/list/entry[3]" }));
  assertEquals(none.status, 404);
  await none.body?.cancel();
  const several = await get(handler, uri({ node: "/resource-lists/list/entry" }));
  assertEquals(several.status, 404);
  await several.body?.cancel();
});

Deno.test("createXcapHandler() inserts an element after its last sibling, keeping every other byte", async () => {
  const { handler, etag } = await withDocument();
  const url = uri({ node: '/resource-lists/list/entry[@uri="sip:dave@example.com"]' });
  const body = '<entry uri="sip:dave@example.com"/>';
  const created = await put(handler, url, body, "application/xcap-el+xml");
  assertEquals(created.status, 201);
  const newTag = created.headers.get("etag");
  assertNotEquals(newTag, etag);
  const doc = await (await get(handler, DOC_URL)).text();
  assertEquals(
    doc,
    DOC.replace(
      "<entry uri='sip:carol@example.com'/>",
      `<entry uri='sip:carol@example.com'/>\n    ${body}`,
    ),
  );
  const read = await get(handler, url);
  assertEquals(read.headers.get("etag"), newTag);
  assertEquals(await read.text(), body);
});

Deno.test("createXcapHandler() replaces an element in place with 200", async () => {
  const { handler } = await withDocument();
  const url = uri({ node: '/resource-lists/list/entry[@uri="sip:bob@example.com"]' });
  const body = '<entry uri="sip:bob@example.com"><display-name>Robert</display-name></entry>';
  const replaced = await put(handler, url, body, "application/xcap-el+xml");
  assertEquals(replaced.status, 200);
  const doc = await (await get(handler, DOC_URL)).text();
  assertStringIncludes(doc, `  <list name="friends">\n    ${body}\n    <entry uri='sip:carol`);
  assertStringIncludes(doc, "<!-- my lists -->");
});

Deno.test("createXcapHandler() refuses an element PUT of another MIME type with 415", async () => {
  const { handler } = await withDocument();
  const url = uri({ node: '/resource-lists/list/entry[@uri="sip:x@example.com"]' });
  const response = await put(handler, url, '<entry uri="sip:x@example.com"/>', RL_TYPE);
  assertEquals(response.status, 415);
  assertEquals(response.headers.get("accept"), "application/xcap-el+xml");
});

Deno.test("createXcapHandler() answers no-parent with the user's directory when the document is missing (RFC 4825 §8.2.1)", async () => {
  const handler = createXcapHandler();
  const url = uri({ filename: "dir/doc", node: '/resource-lists/list[@name="a"]' });
  const condition = await conditionOf(
    await put(handler, url, '<list name="a"/>', "application/xcap-el+xml"),
  );
  assertEquals(condition.tag, "no-parent");
  assert(condition.tag === "no-parent");
  assertEquals(condition.ancestor, `${ROOT}/resource-lists/users/${ALICE}/dir/`);
});

Deno.test("createXcapHandler() answers no-parent with the closest existing ancestor as an absolute URI", async () => {
  const { handler } = await withDocument();
  const url = uri({
    node: '/resource-lists/list[@name="friends"]/list[@name="a/b"]/entry[@uri="sip:x@y"]',
  });
  const condition = await conditionOf(
    await put(handler, url, '<entry uri="sip:x@y"/>', "application/xcap-el+xml"),
  );
  assert(condition.tag === "no-parent");
  assertEquals(condition.ancestor, uri({ node: '/resource-lists/list[@name="friends"]' }));
  const underRoot = uri({ node: "/resource-lists/foo/bar" });
  const root = await conditionOf(
    await put(handler, underRoot, "<bar/>", "application/xcap-el+xml"),
  );
  assert(root.tag === "no-parent");
  assertEquals(root.ancestor, uri({ node: "/resource-lists" }));
  // No element of the path exists: the ancestor is the document itself.
  const deep = uri({ node: "/foo/bar" });
  const top = await conditionOf(await put(handler, deep, "<bar/>", "application/xcap-el+xml"));
  assert(top.tag === "no-parent");
  assertEquals(top.ancestor, DOC_URL);
});

Deno.test("createXcapHandler() answers cannot-insert when the body is not what the URI selects", async () => {
  const { handler } = await withDocument();
  const url = uri({ node: '/resource-lists/list/entry[@uri="sip:x@example.com"]' });
  const condition = await conditionOf(
    await put(handler, url, '<entry uri="sip:other@example.com"/>', "application/xcap-el+xml"),
  );
  assertEquals(condition.tag, "cannot-insert");
});

Deno.test("createXcapHandler() answers not-xml-frag for a body of two elements", async () => {
  const { handler } = await withDocument();
  const url = uri({ node: "/resource-lists/list[2]" });
  const condition = await conditionOf(
    await put(handler, url, "<list/><list/>", "application/xcap-el+xml"),
  );
  assertEquals(condition.tag, "not-xml-frag");
});

Deno.test("createXcapHandler() validates after an element PUT: a duplicate entry is a uniqueness-failure", async () => {
  const { handler, etag } = await withDocument();
  const url = uri({ node: "/resource-lists/list/entry[3]" });
  const condition = await conditionOf(
    await put(handler, url, '<entry uri="sip:bob@example.com"/>', "application/xcap-el+xml"),
  );
  assert(condition.tag === "uniqueness-failure");
  assertEquals(condition.exists[0]?.field, "resource-lists/list/entry[3]/@uri");
  // Nothing was written.
  assertEquals((await get(handler, DOC_URL)).headers.get("etag"), etag);
});

Deno.test("createXcapHandler() PUTs attributes with 201 or 200 and xcap-att+xml bodies", async () => {
  const { handler, etag } = await withDocument();
  const nameUrl = uri({ node: "/resource-lists/list/@name" });
  const replaced = await put(handler, nameUrl, "close friends", "application/xcap-att+xml");
  assertEquals(replaced.status, 200);
  assertNotEquals(replaced.headers.get("etag"), etag);
  assertEquals(await (await get(handler, nameUrl)).text(), "close friends");
  // A new attribute the schema allows (an undeclared one is a schema-validation-error).
  const newUrl = uri({ node: "/resource-lists/list/entry[1]/display-name/@xml:lang" });
  const created = await put(handler, newUrl, "en", "application/xcap-att+xml");
  assertEquals(created.status, 201);
  const wrongType = await put(handler, nameUrl, "x", "application/xcap-el+xml");
  assertEquals(wrongType.status, 415);
  await wrongType.body?.cancel();
  const notValue = await conditionOf(
    await put(handler, nameUrl, 'a"<b', "application/xcap-att+xml"),
  );
  assertEquals(notValue.tag, "not-xml-att-value");
});

Deno.test("createXcapHandler() answers 405 with Allow for PUT and DELETE of namespace bindings", async () => {
  const { handler } = await withDocument();
  const url = uri({ node: "/resource-lists/namespace::*" });
  const putResponse = await put(handler, url, "<x/>", "application/xcap-el+xml");
  assertEquals(putResponse.status, 405);
  assertEquals(putResponse.headers.get("allow"), "GET, HEAD");
  await putResponse.body?.cancel();
  const deleteResponse = await del(handler, url);
  assertEquals(deleteResponse.status, 405);
  assertEquals(deleteResponse.headers.get("allow"), "GET, HEAD");
  await deleteResponse.body?.cancel();
});

Deno.test("createXcapHandler() deletes an element and an attribute with 200 and the new entity-tag", async () => {
  const { handler, etag } = await withDocument();
  const entry = uri({ node: '/resource-lists/list/entry[@uri="sip:bob@example.com"]' });
  const deleted = await del(handler, entry);
  assertEquals(deleted.status, 200);
  const afterEntry = deleted.headers.get("etag");
  assert(afterEntry !== null && afterEntry !== etag);
  assertEquals((await get(handler, entry)).status, 404);
  assertEquals((await del(handler, entry)).status, 404);
  const doc = await (await get(handler, DOC_URL)).text();
  assertEquals(
    doc,
    DOC.replace(
      '\n    <entry uri="sip:bob@example.com">\n      <display-name>Bob</display-name>\n    </entry>',
      "",
    ),
  );
  const attribute = await del(handler, uri({ node: "/resource-lists/list/@name" }));
  assertEquals(attribute.status, 200);
  assertNotEquals(attribute.headers.get("etag"), afterEntry);
  assertStringIncludes(await (await get(handler, DOC_URL)).text(), "  <list>\n");
});

Deno.test("createXcapHandler() answers cannot-delete when the URI would select a sibling afterwards (RFC 4825 §8.4)", async () => {
  const { handler } = await withDocument();
  const condition = await conditionOf(
    await del(handler, uri({ node: "/resource-lists/list/entry[1]" })),
  );
  assertEquals(condition.tag, "cannot-delete");
});

Deno.test("createXcapHandler() refuses to delete an entry's required uri attribute", async () => {
  const { handler } = await withDocument();
  const condition = await conditionOf(
    await del(handler, uri({ node: "/resource-lists/list/entry[2]/@uri" })),
  );
  assertEquals(condition.tag, "schema-validation-error");
});

// ---------------------------------------------------------------------------------------------
// Preconditions
// ---------------------------------------------------------------------------------------------

Deno.test("createXcapHandler() answers 304 to a GET whose If-None-Match matches", async () => {
  const { handler, etag } = await withDocument();
  const notModified = await get(handler, DOC_URL, { "if-none-match": etag });
  assertEquals(notModified.status, 304);
  assertEquals(notModified.headers.get("etag"), etag);
  assertEquals(await notModified.text(), "");
  const star = await get(handler, DOC_URL, { "if-none-match": "*" });
  assertEquals(star.status, 304);
  const other = await get(handler, DOC_URL, { "if-none-match": '"other", "tags"' });
  assertEquals(other.status, 200);
  await other.body?.cancel();
  // Elements share the document's entity-tag (RFC 4825 §7.11).
  const element = await get(handler, uri({ node: "/resource-lists/list" }), {
    "if-none-match": etag,
  });
  assertEquals(element.status, 304);
});

Deno.test("createXcapHandler() answers 412 to a stale If-Match on GET, PUT and DELETE", async () => {
  const { handler, etag } = await withDocument();
  const stale = { "if-match": '"stale"' };
  const read = await get(handler, DOC_URL, stale);
  assertEquals(read.status, 412);
  assertEquals(read.headers.get("etag"), etag);
  await read.body?.cancel();
  assertEquals(
    (await put(handler, DOC_URL, DOC.replace("friends", "x"), RL_TYPE, stale)).status,
    412,
  );
  assertEquals((await del(handler, DOC_URL, stale)).status, 412);
  assertEquals(
    (await del(handler, uri({ node: "/resource-lists/list/@name" }), stale)).status,
    412,
  );
  // The document is untouched.
  assertEquals(await (await get(handler, DOC_URL)).text(), DOC);
  assertEquals((await get(handler, DOC_URL, { "if-match": etag })).status, 200);
  assertEquals((await get(handler, DOC_URL, { "if-match": `"x", ${etag}` })).status, 200);
});

Deno.test("createXcapHandler() compares If-Match strongly: a weak tag never matches", async () => {
  const { handler, etag } = await withDocument();
  assertEquals((await get(handler, DOC_URL, { "if-match": `W/${etag}` })).status, 412);
});

Deno.test("createXcapHandler() honours If-None-Match: * for creation and If-Match: * for replacement", async () => {
  const handler = createXcapHandler();
  assertEquals((await put(handler, DOC_URL, DOC, RL_TYPE, { "if-match": "*" })).status, 412);
  const created = await put(handler, DOC_URL, DOC, RL_TYPE, { "if-none-match": "*" });
  assertEquals(created.status, 201);
  const again = DOC.replace("friends", "x");
  assertEquals((await put(handler, DOC_URL, again, RL_TYPE, { "if-none-match": "*" })).status, 412);
  assertEquals((await put(handler, DOC_URL, again, RL_TYPE, { "if-match": "*" })).status, 200);
});

Deno.test('createXcapHandler() treats a quoted "*" as an ordinary entity-tag (RFC 7232 §3.2; Kamailio differs)', async () => {
  // Kamailio only understands the quoted form as a wildcard; RFC 7232 makes `*` the wildcard and
  // `"*"` an entity-tag whose opaque value is `*`, which this document does not have.
  const { handler } = await withDocument();
  const replaced = await put(handler, DOC_URL, DOC.replace("friends", "x"), RL_TYPE, {
    "if-none-match": '"*"',
  });
  assertEquals(replaced.status, 200);
  assertEquals((await get(handler, DOC_URL, { "if-match": '"*"' })).status, 412);
});

Deno.test("createXcapHandler() lets If-Match carry the document's tag when inserting an element (RFC 4825 §7.11)", async () => {
  const { handler, etag } = await withDocument();
  const url = uri({ node: '/resource-lists/list/entry[@uri="sip:new@example.com"]' });
  const body = '<entry uri="sip:new@example.com"/>';
  const inserted = await put(handler, url, body, "application/xcap-el+xml", { "if-match": etag });
  assertEquals(inserted.status, 201);
  const next = inserted.headers.get("etag")!;
  // The old tag is stale now for every resource of the document.
  const other = uri({ node: '/resource-lists/list/entry[@uri="sip:other@example.com"]' });
  const stale = await put(
    handler,
    other,
    '<entry uri="sip:other@example.com"/>',
    "application/xcap-el+xml",
    {
      "if-match": etag,
    },
  );
  assertEquals(stale.status, 412);
  const deleted = await del(handler, url, { "if-match": next });
  assertEquals(deleted.status, 200);
});

Deno.test("createXcapHandler() applies If-None-Match: * to the element itself", async () => {
  const { handler } = await withDocument();
  const existing = uri({ node: '/resource-lists/list/entry[@uri="sip:bob@example.com"]' });
  const refused = await put(
    handler,
    existing,
    '<entry uri="sip:bob@example.com"/>',
    "application/xcap-el+xml",
    {
      "if-none-match": "*",
    },
  );
  assertEquals(refused.status, 412);
  const missing = uri({ node: '/resource-lists/list/entry[@uri="sip:new@example.com"]' });
  const created = await put(
    handler,
    missing,
    '<entry uri="sip:new@example.com"/>',
    "application/xcap-el+xml",
    {
      "if-none-match": "*",
    },
  );
  assertEquals(created.status, 201);
});

Deno.test("createXcapHandler() answers 404, not 412, for a conditional GET of a missing node (RFC 7232 §5)", async () => {
  const { handler } = await withDocument();
  const response = await get(handler, uri({ node: "/resource-lists/list/entry[9]" }), {
    "if-match": '"stale"',
  });
  assertEquals(response.status, 404);
});

// ---------------------------------------------------------------------------------------------
// URIs, methods, trees
// ---------------------------------------------------------------------------------------------

Deno.test("createXcapHandler() answers 400 or 404 for malformed URIs, never 500", async () => {
  const { handler } = await withDocument();
  const cases: [string, number][] = [
    [`${ORIGIN}/elsewhere/resource-lists/users/${ALICE}/index`, 404],
    [`${ROOT}`, 404],
    [`${ROOT}/`, 404],
    [`${ROOT}/resource-lists`, 404],
    [`${ROOT}/resource-lists/users`, 404],
    [`${ROOT}/resource-lists/users/${ALICE}`, 404],
    [`${ROOT}/resource-lists/users/${ALICE}/`, 404],
    [`${ROOT}/resource-lists/people/${ALICE}/index`, 404],
    [`${ROOT}/com.example.unknown/users/${ALICE}/index`, 404],
    [`${ROOT}/pres-rules/global/index`, 404],
    [`${DOC_URL}/~~/resource-lists/list%5B`, 400],
    [`${DOC_URL}/~~/resource-lists/list[@name="a"`, 400],
    [`${DOC_URL}/~~/p:resource-lists`, 400],
    [`${DOC_URL}/~~/resource-lists/child::list`, 400],
    [`${DOC_URL}/~~/`, 400],
    [`${ROOT}/resource-lists/users/sip:%zz@example.com/index`, 400],
    [`${ROOT}/resource-lists/users/${ALICE}/a%2Fb`, 400],
    // The URL parser resolves an encoded ".." before the handler sees it: no document is left.
    [`${ROOT}/resource-lists/users/${ALICE}/%2e%2e/index`, 404],
    [`${DOC_URL}?xmlns(p=`, 400],
  ];
  for (const [url, status] of cases) {
    for (const method of ["GET", "PUT", "DELETE"]) {
      const response = await handler(
        new Request(url, {
          method,
          ...(method === "PUT" ? { body: "<x/>", headers: { "content-type": RL_TYPE } } : {}),
        }),
      );
      assertEquals(response.status, status, `${method} ${url}`);
      assertEquals(response.headers.get("content-type"), "text/plain; charset=utf-8");
      await response.body?.cancel();
    }
  }
});

Deno.test("createXcapHandler() survives random URIs without a 500", async () => {
  const { handler } = await withDocument();
  const alphabet = [
    "/",
    "~~",
    "[",
    "]",
    "@",
    '"',
    "'",
    "%",
    "%2",
    "%2F",
    "%C3",
    "a",
    ":",
    "=",
    "*",
    "(",
    ")",
    "namespace::*",
    "resource-lists",
    "list",
    "?",
    "xmlns(",
    "..",
    "&",
    "#",
    "\u00e9",
    " ",
  ];
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 400; i++) {
    let tail = "";
    const length = Math.floor(next() * 12);
    for (let j = 0; j < length; j++) tail += alphabet[Math.floor(next() * alphabet.length)];
    const url = `${DOC_URL}/~~/resource-lists${tail}`;
    let request: Request;
    try {
      request = new Request(url);
    } catch {
      continue;
    }
    const response = await handler(request);
    assert(response.status < 500, `${response.status} for ${url}`);
    await response.body?.cancel();
  }
});

Deno.test("createXcapHandler() answers 405 with Allow for methods XCAP does not use", async () => {
  const handler = createXcapHandler();
  const response = await handler(new Request(DOC_URL, { method: "POST", body: "x" }));
  assertEquals(response.status, 405);
  assertEquals(response.headers.get("allow"), "GET, HEAD, PUT, DELETE");
  await response.body?.cancel();
});

Deno.test("createXcapHandler() answers HEAD like GET without a body", async () => {
  const { handler, etag } = await withDocument();
  const head = await handler(new Request(DOC_URL, { method: "HEAD" }));
  assertEquals(head.status, 200);
  assertEquals(head.headers.get("etag"), etag);
  assertEquals(head.headers.get("content-type"), RL_TYPE);
  assertEquals(head.body, null);
});

Deno.test("createXcapHandler() keeps global documents read-only unless globalWritable", async () => {
  const url = `${ROOT}/resource-lists/global/index`;
  const readOnly = createXcapHandler();
  const refused = await put(readOnly, url, DOC);
  assertEquals(refused.status, 403);
  await refused.body?.cancel();
  const writable = createXcapHandler({ globalWritable: true });
  assertEquals((await put(writable, url, DOC)).status, 201);
  assertEquals(await (await get(writable, url)).text(), DOC);
});

Deno.test("createXcapHandler() serves under another XCAP root path", async () => {
  for (const root of ["/x/", "", "/"]) {
    const handler = createXcapHandler({ xcapRootPath: root });
    const base = root.replace(/\/+$/, "");
    const url = `${ORIGIN}${base}/resource-lists/users/${ALICE}/index`;
    assertEquals((await put(handler, url, DOC)).status, 201, root);
    assertEquals((await get(handler, url)).status, 200, root);
  }
});

// ---------------------------------------------------------------------------------------------
// xcap-caps
// ---------------------------------------------------------------------------------------------

Deno.test("createXcapHandler() generates xcap-caps from the configured usages (RFC 4825 §12)", async () => {
  const handler = createXcapHandler();
  const caps = await get(handler, `${ROOT}/xcap-caps/global/index`);
  assertEquals(caps.status, 200);
  assertEquals(caps.headers.get("content-type"), "application/xcap-caps+xml");
  const etag = caps.headers.get("etag")!;
  const text = await caps.text();
  for (
    const auid of ["xcap-caps", "resource-lists", "rls-services", "pres-rules", "pidf-manipulation"]
  ) {
    assertStringIncludes(text, `<auid>${auid}</auid>`);
  }
  assertStringIncludes(text, "<namespace>urn:ietf:params:xml:ns:common-policy</namespace>");
  assertEquals(
    (await get(handler, `${ROOT}/xcap-caps/global/index`, { "if-none-match": etag })).status,
    304,
  );
  const auids = await get(handler, `${ROOT}/xcap-caps/global/index/~~/xcap-caps/auids/auid[2]`);
  assertEquals(auids.headers.get("content-type"), "application/xcap-el+xml");
  assertEquals(await auids.text(), "<auid>resource-lists</auid>");

  const custom = createXcapHandler({
    applications: [{
      auid: "com.example.notes",
      mimeType: "application/vnd.example.notes+xml",
      defaultNamespace: "urn:example:notes",
      defaultDocumentName: "index",
      scope: "users",
    }],
  });
  const customCaps = await (await get(custom, `${ROOT}/xcap-caps/global/index`)).text();
  assertStringIncludes(customCaps, "<auid>com.example.notes</auid>");
  assert(!customCaps.includes("<auid>resource-lists</auid>"));
});

Deno.test("createXcapHandler() answers 405 to writes of xcap-caps and 404 elsewhere in it", async () => {
  const handler = createXcapHandler();
  const written = await put(
    handler,
    `${ROOT}/xcap-caps/global/index`,
    "<x/>",
    "application/xcap-caps+xml",
  );
  assertEquals(written.status, 405);
  assertEquals(written.headers.get("allow"), "GET, HEAD");
  await written.body?.cancel();
  const deleted = await del(handler, `${ROOT}/xcap-caps/global/index`);
  assertEquals(deleted.status, 405);
  await deleted.body?.cancel();
  for (const url of [`${ROOT}/xcap-caps/global/other`, `${ROOT}/xcap-caps/users/${ALICE}/index`]) {
    const response = await get(handler, url);
    assertEquals(response.status, 404, url);
    await response.body?.cancel();
  }
});

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

Deno.test("createXcapHandler() answers 413 for a document over maxDocumentBytes", async () => {
  const handler = createXcapHandler({ limits: { maxDocumentBytes: 200 } });
  const big = `<resource-lists xmlns="${RL}"><list name="${"x".repeat(300)}"/></resource-lists>`;
  const response = await put(handler, DOC_URL, big);
  assertEquals(response.status, 413);
  await response.body?.cancel();
  assertEquals((await get(handler, DOC_URL)).status, 404);
});

Deno.test("createXcapHandler() stops reading a streamed body once it passes maxRequestBytes", async () => {
  const handler = createXcapHandler({ limits: { maxRequestBytes: 1000 } });
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      if (pulled > 1000) controller.close();
      else controller.enqueue(new TextEncoder().encode("x".repeat(100)));
    },
  });
  const response = await handler(
    new Request(DOC_URL, {
      method: "PUT",
      headers: { "content-type": RL_TYPE },
      body,
    }),
  );
  assertEquals(response.status, 413);
  await response.body?.cancel();
  assert(pulled < 20, `read ${pulled} chunks`);
});

Deno.test("createXcapHandler() answers 413 when an element PUT would grow the document past the limit", async () => {
  const { handler } = await withDocument({ limits: { maxDocumentBytes: DOC.length + 50 } });
  const url = uri({ node: '/resource-lists/list/entry[@uri="sip:long@example.com"]' });
  const body = `<entry uri="sip:long@example.com"><display-name>${
    "x".repeat(100)
  }</display-name></entry>`;
  const response = await put(handler, url, body, "application/xcap-el+xml");
  assertEquals(response.status, 413);
  await response.body?.cancel();
});

Deno.test("createXcapHandler() refuses documents deeper or larger than maxDepth and maxElements", async () => {
  const handler = createXcapHandler({ limits: { maxDepth: 4, maxElements: 5 } });
  const deep =
    `<resource-lists xmlns="${RL}"><list><list><list><list/></list></list></list></resource-lists>`;
  assertEquals((await conditionOf(await put(handler, DOC_URL, deep))).tag, "constraint-failure");
  const wide = `<resource-lists xmlns="${RL}">${
    Array.from({ length: 6 }, (_, i) => `<list name="${i}"/>`).join("")
  }</resource-lists>`;
  assertEquals((await conditionOf(await put(handler, DOC_URL, wide))).tag, "constraint-failure");
});

// ---------------------------------------------------------------------------------------------
// Robustness, cache, concurrency
// ---------------------------------------------------------------------------------------------

Deno.test("createXcapHandler() turns a failing store into a plain 500 and reports it to onError", async () => {
  const errors: unknown[] = [];
  const broken: DocumentStore = {
    get: () => {
      throw new Error("disk on fire");
    },
    put: () => okAsync({ text: "", etag: '"x"' }),
    delete: () => okAsync(true),
  };
  const handler = createXcapHandler({ store: broken, onError: (e) => errors.push(e) });
  const response = await get(handler, DOC_URL);
  assertEquals(response.status, 500);
  assertEquals(response.headers.get("content-type"), "text/plain; charset=utf-8");
  assertEquals(await response.text(), "Internal server error\n");
  assertEquals(errors.length, 1);
});

Deno.test("createXcapHandler() serves element GETs from the parsed-document cache, keyed by entity-tag", async () => {
  // A store that, against the rules, changes the text but not the entity-tag: a handler that
  // re-parsed would see the change, one that uses its cache does not.
  const inner = new MemoryStore();
  let override: StoredDocument | undefined;
  const store: DocumentStore = {
    get: (key: DocumentKey) => override === undefined ? inner.get(key) : okAsync(override),
    put: (key, text, options) => inner.put(key, text, options),
    delete: (key, options) => inner.delete(key, options),
  };
  const handler = createXcapHandler({ store });
  const created = await put(handler, DOC_URL, DOC);
  const etag = created.headers.get("etag")!;
  const nameUrl = uri({ node: "/resource-lists/list/@name" });
  assertEquals(await (await get(handler, nameUrl)).text(), "friends");
  override = { text: DOC.replace("friends", "enemies"), etag };
  assertEquals(await (await get(handler, DOC_URL)).text(), override.text);
  assertEquals(await (await get(handler, nameUrl)).text(), "friends");
  // A new entity-tag means a new parse.
  override = { text: override.text, etag: '"new"' };
  assertEquals(await (await get(handler, nameUrl)).text(), "enemies");
});

Deno.test("createXcapHandler() lands every one of many concurrent unconditional element PUTs", async () => {
  const { handler } = await withDocument();
  const count = 25;
  const responses = await Promise.all(Array.from({ length: count }, (_, i) => {
    const address = `sip:user${i}@example.com`;
    return put(
      handler,
      uri({ node: `/resource-lists/list/entry[@uri="${address}"]` }),
      `<entry uri="${address}"/>`,
      "application/xcap-el+xml",
    );
  }));
  assertEquals(responses.map((r) => r.status), Array(count).fill(201));
  const doc = await (await get(handler, DOC_URL)).text();
  for (let i = 0; i < count; i++) assertStringIncludes(doc, `sip:user${i}@example.com`);
});

Deno.test("createXcapHandler() works over real HTTP on Deno.serve", async () => {
  const handler = createXcapHandler();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  try {
    const root = `http://127.0.0.1:${server.addr.port}/xcap-root`;
    const url = `${root}/resource-lists/users/${ALICE}/index`;
    const created = await fetch(url, {
      method: "PUT",
      headers: { "content-type": RL_TYPE },
      body: DOC,
    });
    assertEquals(created.status, 201);
    await created.body?.cancel();
    const element = await fetch(
      `${url}/~~/resource-lists/list%5B@name=%22friends%22%5D/entry%5B2%5D`,
    );
    assertEquals(element.status, 200);
    assertEquals(await element.text(), "<entry uri='sip:carol@example.com'/>");
    const conflict = await fetch(url, {
      method: "PUT",
      headers: { "content-type": RL_TYPE },
      body: "<a",
    });
    assertEquals(conflict.status, 409);
    assertEquals(parseConflictReport(await conflict.text())._unsafeUnwrap().tag, "not-well-formed");
  } finally {
    await server.shutdown();
  }
});

/** A store on which another writer changes the document right before the first compare-and-set. */
function racingStore(interfere: (inner: MemoryStore, key: DocumentKey) => Promise<void>) {
  const inner = new MemoryStore();
  let armed = false;
  const store: DocumentStore = {
    get: (key) => inner.get(key),
    put: (key, text, options) => {
      if (!armed) return inner.put(key, text, options);
      armed = false;
      return new ResultAsync(interfere(inner, key).then(() => inner.put(key, text, options)));
    },
    delete: (key, options) => inner.delete(key, options),
  };
  return { store, arm: () => (armed = true) };
}

Deno.test("createXcapHandler() re-applies an unconditional write that lost the compare-and-set", async () => {
  const racing = racingStore(async (inner, key) => {
    const current = (await inner.get(key))._unsafeUnwrap()!;
    const text = current.text.replace("<!-- my lists -->", '<list name="theirs"/>');
    (await inner.put(key, text, { expectedEtag: current.etag }))._unsafeUnwrap();
  });
  const { handler } = await withDocument({ store: racing.store });
  racing.arm();
  const url = uri({ node: '/resource-lists/list[@name="friends"]/entry[@uri="sip:mine@x"]' });
  const response = await put(handler, url, '<entry uri="sip:mine@x"/>', "application/xcap-el+xml");
  assertEquals(response.status, 201);
  const doc = await (await get(handler, DOC_URL)).text();
  assertStringIncludes(doc, '<list name="theirs"/>');
  assertStringIncludes(doc, '<entry uri="sip:mine@x"/>');
});

Deno.test("createXcapHandler() answers 412 to a conditional write that lost the compare-and-set", async () => {
  const racing = racingStore(async (inner, key) => {
    const current = (await inner.get(key))._unsafeUnwrap()!;
    const text = current.text.replace("<!-- my lists -->", '<list name="theirs"/>');
    (await inner.put(key, text, { expectedEtag: current.etag }))._unsafeUnwrap();
  });
  const { handler, etag } = await withDocument({ store: racing.store });
  racing.arm();
  const url = uri({ node: '/resource-lists/list[@name="friends"]/entry[@uri="sip:mine@x"]' });
  const response = await put(handler, url, '<entry uri="sip:mine@x"/>', "application/xcap-el+xml", {
    "if-match": etag,
  });
  assertEquals(response.status, 412);
  await response.body?.cancel();
  const doc = await (await get(handler, DOC_URL)).text();
  assertStringIncludes(doc, '<list name="theirs"/>');
  assert(!doc.includes("sip:mine@x"));
});

Deno.test("createXcapHandler() answers 503 when other writers keep winning", async () => {
  const racing = racingStore(async (inner, key) => {
    const current = (await inner.get(key))._unsafeUnwrap()!;
    (await inner.put(key, current.text, { expectedEtag: current.etag }))._unsafeUnwrap();
    racing.arm();
  });
  const { handler } = await withDocument({ store: racing.store, maxWriteAttempts: 3 });
  racing.arm();
  const response = await put(handler, DOC_URL, DOC.replace("friends", "x"));
  assertEquals(response.status, 503);
  assertEquals(response.headers.get("retry-after"), "1");
  await response.body?.cancel();
});

Deno.test("createXcapHandler() instances sharing one store never lose an update", async () => {
  const store = new MemoryStore();
  const handlers = [createXcapHandler({ store }), createXcapHandler({ store })];
  assertEquals((await put(handlers[0]!, DOC_URL, DOC)).status, 201);
  const count = 20;
  const responses = await Promise.all(Array.from({ length: count }, (_, i) => {
    const address = `sip:user${i}@example.com`;
    return put(
      handlers[i % 2]!,
      uri({ node: `/resource-lists/list/entry[@uri="${address}"]` }),
      `<entry uri="${address}"/>`,
      "application/xcap-el+xml",
    );
  }));
  assertEquals(responses.map((r) => r.status), Array(count).fill(201));
  const doc = await (await get(handlers[1]!, DOC_URL)).text();
  for (let i = 0; i < count; i++) assertStringIncludes(doc, `sip:user${i}@example.com`);
});
