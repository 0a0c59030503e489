/**
 * The client against a real Kamailio xcap_server on 127.0.0.1 (see tests/kamailio/README.md for
 * the ways Kamailio deviates from RFC 4825; each quirk met here is named in the test).
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { XCAPClient } from "../mod.ts";
import { kamailioTest } from "./_kamailio.ts";

const LISTS = `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">
  <list name="friends">
    <entry uri="sip:bob@example.com">
      <display-name>Bob</display-name>
    </entry>
    <entry uri="sip:carol@example.com">
      <display-name>Carol</display-name>
    </entry>
  </list>
</resource-lists>
`;

kamailioTest(
  "XCAPClient whole-document PUT, GET and DELETE against Kamailio",
  {},
  async (server) => {
    const client = new XCAPClient(server.xcapRoot, "sip:doc@127.0.0.1");
    const put = (await client.put("resource-lists", LISTS))._unsafeUnwrap();
    // Kamailio quirk 1: a created document answers 200, not 201.
    assert(put.status === 200 || put.status === 201);
    assert(put.etag !== undefined);
    const got = (await client.get("resource-lists"))._unsafeUnwrap();
    assertEquals(got.status, 200);
    assertEquals(got.body.trim(), LISTS.trim());
    assertEquals(got.etag, put.etag);
    const deleted = await client.delete("resource-lists", undefined, { etag: got.etag! });
    assert(deleted.isOk());
    const gone = await client.get("resource-lists");
    assert(gone.isErr());
    assertEquals(gone.error._tag, "NotFound");
  },
);

kamailioTest("XCAPClient reads elements and attributes from Kamailio", {}, async (server) => {
  const client = new XCAPClient(server.xcapRoot, "sip:elements@127.0.0.1");
  (await client.put("resource-lists", LISTS))._unsafeUnwrap();
  const name = (await client.get(
    "resource-lists",
    '/resource-lists/list/entry[@uri="sip:bob@example.com"]/display-name',
  ))._unsafeUnwrap();
  assertEquals(name.body.trim(), "<display-name>Bob</display-name>");
  const uri = (await client.get("resource-lists", "/resource-lists/list/entry[2]/@uri"))
    ._unsafeUnwrap();
  assertEquals(uri.body.trim(), "sip:carol@example.com");
  const missing = await client.get("resource-lists", "/resource-lists/list/entry[9]");
  assert(missing.isErr());
  // Kamailio answers 404 for an empty selection.
  assertEquals(missing.error._tag, "NotFound");
});

kamailioTest("XCAPClient adds, replaces and deletes an element on Kamailio", {}, async (server) => {
  const client = new XCAPClient(server.xcapRoot, "sip:edit@127.0.0.1");
  const first = (await client.put("resource-lists", LISTS))._unsafeUnwrap();
  const dave = '<entry uri="sip:dave@example.com"><display-name>Dave</display-name></entry>';
  const selector = '/resource-lists/list/entry[@uri="sip:dave@example.com"]';
  const added = (await client.put("resource-lists", dave, selector, { etag: first.etag! }))
    ._unsafeUnwrap();
  assert(added.etag !== first.etag);
  const read = (await client.get("resource-lists", `${selector}/display-name`))._unsafeUnwrap();
  assertEquals(read.body.trim(), "<display-name>Dave</display-name>");
  const renamed = dave.replace("Dave", "David");
  (await client.put("resource-lists", renamed, selector))._unsafeUnwrap();
  const reread = (await client.get("resource-lists", `${selector}/display-name`))._unsafeUnwrap();
  assertEquals(reread.body.trim(), "<display-name>David</display-name>");
  (await client.delete("resource-lists", selector))._unsafeUnwrap();
  const gone = await client.get("resource-lists", selector);
  assert(gone.isErr());
  assertEquals(gone.error._tag, "NotFound");
});

kamailioTest("XCAPClient conditional requests: 304 and 412 from Kamailio", {}, async (server) => {
  const client = new XCAPClient(server.xcapRoot, "sip:cond@127.0.0.1");
  const put = (await client.put("resource-lists", LISTS))._unsafeUnwrap();
  const notModified = await client.get("resource-lists", undefined, { ifNoneMatch: put.etag! });
  assert(notModified.isErr());
  assertEquals(notModified.error._tag, "NotModified");
  const stale = await client.put("resource-lists", LISTS, undefined, { etag: '"stale-tag"' });
  assert(stale.isErr());
  assertEquals(stale.error._tag, "PreconditionFailed");
  const staleDelete = await client.delete("resource-lists", undefined, { etag: "stale-tag" });
  assert(staleDelete.isErr());
  assertEquals(staleDelete.error._tag, "PreconditionFailed");
  // The entity-tag is quoted for Kamailio even when the caller holds it unquoted.
  const bare = put.etag!.replace(/^"|"$/g, "");
  const fresh = await client.get("resource-lists", undefined, { etag: bare });
  assertEquals(fresh._unsafeUnwrap().etag, put.etag);
  // If-None-Match: * goes out unquoted, as RFC 7232 §3.2 defines the wildcard. Kamailio quirk 7:
  // it only understands the quoted "*" (an ordinary entity-tag to an RFC server, which would
  // make create-only requests overwrite there), so Kamailio ignores the condition and
  // overwrites. The embedded server's tests show the RFC behaviour (412).
  const create = await client.put("resource-lists", LISTS, undefined, { ifNoneMatch: "*" });
  assert(create.isOk(), "Kamailio ignores an unquoted If-None-Match: *");
});

kamailioTest("XCAPClient handles Kamailio's RFC deviations as error values", {}, async (server) => {
  const client = new XCAPClient(server.xcapRoot, "sip:quirks@127.0.0.1");
  // Quirk 2: malformed XML gives 500 without an xcap-error body (RFC: 409 not-well-formed).
  const bad = await client.put("resource-lists", "<resource-lists><unclosed>");
  assert(bad.isErr());
  assert(bad.error._tag === "HttpError" || bad.error._tag === "Conflict");
  // Quirk 4: namespace::* is refused by the config (the module would crash).
  (await client.put("resource-lists", LISTS))._unsafeUnwrap();
  const ns = await client.get("resource-lists", "/resource-lists/namespace::*");
  assert(ns.isErr());
  assertEquals(ns.error._tag, "HttpError");
  assertEquals(ns.error._tag === "HttpError" && ns.error.status, 501);
  // Quirk 4: a prefixed selector with an xmlns() query gives 500.
  const prefixed = await client.get("resource-lists", "/rl:resource-lists/rl:list", {
    namespaces: { rl: "urn:ietf:params:xml:ns:resource-lists" },
  });
  assert(prefixed.isErr());
  // Unknown AUID: the config answers 404.
  const unknown = await client.get("com.example.nothing");
  assert(unknown.isErr());
  assertEquals(unknown.error._tag, "NotFound");
  // xcap-caps is served as a fixed global document.
  const caps = (await client.get("xcap-caps", undefined, { global: true }))._unsafeUnwrap();
  assertStringIncludes(caps.body, "<auid>resource-lists</auid>");
});

kamailioTest(
  "XCAPClient authenticates with Digest against Kamailio",
  { auth: true },
  async (server) => {
    const client = new XCAPClient(server.xcapRoot, "sip:alice@127.0.0.1", {
      password: server.password,
    });
    const put = (await client.put("resource-lists", LISTS))._unsafeUnwrap();
    assert(put.etag !== undefined);
    // The next requests answer the known challenge without a new round trip.
    for (let i = 0; i < 12; i++) {
      const got = (await client.get("resource-lists", "/resource-lists/list/@name"))
        ._unsafeUnwrap();
      assertEquals(got.body.trim(), "friends");
    }
    const wrong = new XCAPClient(server.xcapRoot, "sip:alice@127.0.0.1", { password: "wrong" });
    const denied = await wrong.get("resource-lists");
    assert(denied.isErr());
    assertEquals(denied.error._tag, "Unauthorized");
    const none = await new XCAPClient(server.xcapRoot, "sip:alice@127.0.0.1").get("resource-lists");
    assert(none.isErr());
    assertEquals(none.error._tag, "Unauthorized");
    // Kamailio lets a user touch only its own documents.
    const other = new XCAPClient(server.xcapRoot, "sip:bob@127.0.0.1", {
      password: server.password,
      username: "alice",
    });
    const forbidden = await other.get("resource-lists");
    assert(forbidden.isErr());
    assertEquals(forbidden.error._tag, "Forbidden");
  },
);
