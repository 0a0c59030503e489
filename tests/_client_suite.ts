/**
 * The client's integration suite, run against every real server we have: Kamailio's
 * xcap_server (tests/client_kamailio_test.ts) and the embedded server
 * (tests/client_embedded_test.ts). Where the two disagree, the test names the RFC rule and which
 * side follows it; `server.kind` selects the expectation.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { XCAPClient } from "../mod.ts";

/** A server the suite runs against. */
export interface SuiteServer {
  /** Which implementation it is, for the places where they differ. */
  readonly kind: "kamailio" | "embedded";
  /** The XCAP root. */
  readonly xcapRoot: string;
  /** The password of every user when started with authentication. */
  readonly password: string;
  /** Stop it. */
  stop(): Promise<void>;
}

/** Registers one test: `start` gives it a fresh server, `stop` is awaited afterwards. */
export type SuiteTest = (
  name: string,
  options: { auth?: boolean },
  fn: (server: SuiteServer) => Promise<void>,
) => void;

/** The users every server knows (authentication tests sign in as alice). */
export const HOST = "127.0.0.1";

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

/** Register the whole suite with `test`. */
export function clientSuite(test: SuiteTest): void {
  test("whole-document PUT, GET and DELETE", {}, async (server) => {
    const client = new XCAPClient(server.xcapRoot, `sip:doc@${HOST}`);
    const put = (await client.put("resource-lists", LISTS))._unsafeUnwrap();
    // RFC 4825 §8.2.1 / RFC 9110: a PUT that creates answers 201. Kamailio answers 200.
    assertEquals(put.status, server.kind === "kamailio" ? 200 : 201);
    assert(put.etag !== undefined);
    const got = (await client.get("resource-lists"))._unsafeUnwrap();
    assertEquals(got.status, 200);
    assertEquals(got.body.trim(), LISTS.trim());
    assertEquals(got.etag, put.etag);
    assertEquals(got.contentType, "application/resource-lists+xml");
    const replaced = (await client.put("resource-lists", LISTS.replace("Bob", "Robert")))
      ._unsafeUnwrap();
    assertEquals(replaced.status, 200);
    assert(replaced.etag !== put.etag);
    const deleted = await client.delete("resource-lists", undefined, { etag: replaced.etag });
    assert(deleted.isOk());
    const gone = await client.get("resource-lists");
    assert(gone.isErr());
    assertEquals(gone.error._tag, "NotFound");
  });

  test("element and attribute GET", {}, async (server) => {
    const client = new XCAPClient(server.xcapRoot, `sip:elements@${HOST}`);
    (await client.put("resource-lists", LISTS))._unsafeUnwrap();
    const name = (await client.get(
      "resource-lists",
      '/resource-lists/list/entry[@uri="sip:bob@example.com"]/display-name',
    ))._unsafeUnwrap();
    assertEquals(name.body.trim(), "<display-name>Bob</display-name>");
    // RFC 4825 §15.2.1: an element is application/xcap-el+xml. Kamailio sends the AUID's type.
    assertEquals(
      name.contentType,
      server.kind === "kamailio" ? "application/resource-lists+xml" : "application/xcap-el+xml",
    );
    const uri = (await client.get("resource-lists", "/resource-lists/list/entry[2]/@uri"))
      ._unsafeUnwrap();
    assertEquals(uri.body.trim(), "sip:carol@example.com");
    assertEquals(
      uri.contentType,
      server.kind === "kamailio" ? "application/resource-lists+xml" : "application/xcap-att+xml",
    );
    const missing = await client.get("resource-lists", "/resource-lists/list/entry[9]");
    assert(missing.isErr());
    assertEquals(missing.error._tag, "NotFound");
    // RFC 4825 §8.3: a selector that matches several elements is a 404. Kamailio answers 200
    // with the matches joined by ",".
    const several = await client.get("resource-lists", "/resource-lists/list/entry");
    if (server.kind === "kamailio") {
      assert(several.isOk());
      assertStringIncludes(several.value.body, "sip:carol@example.com");
    } else {
      assert(several.isErr());
      assertEquals(several.error._tag, "NotFound");
    }
  });

  test("element PUT adds, replaces and DELETE removes", {}, async (server) => {
    const client = new XCAPClient(server.xcapRoot, `sip:edit@${HOST}`);
    const first = (await client.put("resource-lists", LISTS))._unsafeUnwrap();
    const dave = '<entry uri="sip:dave@example.com"><display-name>Dave</display-name></entry>';
    const selector = '/resource-lists/list/entry[@uri="sip:dave@example.com"]';
    const added = (await client.put("resource-lists", dave, selector, { etag: first.etag }))
      ._unsafeUnwrap();
    assert(added.etag !== first.etag);
    const read = (await client.get("resource-lists", `${selector}/display-name`))._unsafeUnwrap();
    assertEquals(read.body.trim(), "<display-name>Dave</display-name>");
    (await client.put("resource-lists", dave.replace("Dave", "David"), selector))._unsafeUnwrap();
    const reread = (await client.get("resource-lists", `${selector}/display-name`))
      ._unsafeUnwrap();
    assertEquals(reread.body.trim(), "<display-name>David</display-name>");
    (await client.delete("resource-lists", selector))._unsafeUnwrap();
    const gone = await client.get("resource-lists", selector);
    assert(gone.isErr());
    assertEquals(gone.error._tag, "NotFound");
  });

  test("replacing an element keeps its place", {}, async (server) => {
    const client = new XCAPClient(server.xcapRoot, `sip:order@${HOST}`);
    (await client.put("resource-lists", LISTS))._unsafeUnwrap();
    const bob = '<entry uri="sip:bob@example.com"><display-name>Robert</display-name></entry>';
    (await client.put(
      "resource-lists",
      bob,
      '/resource-lists/list/entry[@uri="sip:bob@example.com"]',
    ))
      ._unsafeUnwrap();
    const firstUri = (await client.get("resource-lists", "/resource-lists/list/entry[1]/@uri"))
      ._unsafeUnwrap();
    // RFC 4825 §8.2.4: the replaced element takes the place of the old one. Kamailio removes
    // it and appends the new one as the last child.
    assertEquals(
      firstUri.body.trim(),
      server.kind === "kamailio" ? "sip:carol@example.com" : "sip:bob@example.com",
    );
  });

  test("attribute PUT and DELETE", {}, async (server) => {
    const client = new XCAPClient(server.xcapRoot, `sip:attr@${HOST}`);
    (await client.put("resource-lists", LISTS))._unsafeUnwrap();
    const put = await client.put("resource-lists", "buddies", "/resource-lists/list/@name");
    if (server.kind === "kamailio") {
      // Kamailio: attribute PUT answers 500; attribute DELETE sets the value to "".
      assert(put.isErr());
      assertEquals(put.error._tag, "HttpError");
      assert((await client.delete("resource-lists", "/resource-lists/list/@name")).isOk());
      return;
    }
    assert(put.isOk());
    const name = (await client.get("resource-lists", "/resource-lists/list/@name"))
      ._unsafeUnwrap();
    assertEquals(name.body, "buddies");
    const deleted = await client.delete("resource-lists", "/resource-lists/list/@name");
    assert(deleted.isOk());
    const gone = await client.get("resource-lists", "/resource-lists/list/@name");
    assert(gone.isErr());
    assertEquals(gone.error._tag, "NotFound");
  });

  test("conditional requests: 304 and 412", {}, async (server) => {
    const client = new XCAPClient(server.xcapRoot, `sip:cond@${HOST}`);
    const put = (await client.put("resource-lists", LISTS))._unsafeUnwrap();
    const notModified = await client.get("resource-lists", undefined, { ifNoneMatch: put.etag });
    assert(notModified.isErr());
    assertEquals(notModified.error._tag, "NotModified");
    const stale = await client.put("resource-lists", LISTS, undefined, { etag: '"stale-tag"' });
    assert(stale.isErr());
    assertEquals(stale.error._tag, "PreconditionFailed");
    const staleDelete = await client.delete("resource-lists", undefined, { etag: "stale-tag" });
    assert(staleDelete.isErr());
    assertEquals(staleDelete.error._tag, "PreconditionFailed");
    // The entity-tag is quoted on the wire even when the caller holds it unquoted.
    const bare = put.etag!.replace(/^"|"$/g, "");
    assertEquals(
      (await client.get("resource-lists", undefined, { etag: bare }))._unsafeUnwrap().etag,
      put.etag,
    );
    const fresh = new XCAPClient(server.xcapRoot, `sip:fresh@${HOST}`);
    const created = await fresh.put("resource-lists", LISTS, undefined, { ifNoneMatch: "*" });
    assert(created.isOk());
  });

  test(
    'create-only PUT (ifNoneMatch: "*") never overwrites a document or a node',
    {},
    async (server) => {
      const client = new XCAPClient(server.xcapRoot, `sip:create@${HOST}`);
      // Absent: created (Kamailio gets its quoted "*", which it honours for a document).
      const created = await client.put("resource-lists", LISTS, { ifNoneMatch: "*" });
      assert(created.isOk(), created.isErr() ? created.error.message : "");
      // Present: refused, on Kamailio too, which ignores the unquoted If-None-Match: * of RFC 7232
      // §3.2 and would overwrite (tests/kamailio/README.md, quirk 7): the client checks first.
      const again = await client.put("resource-lists", LISTS.replace("Bob", "Mallory"), {
        ifNoneMatch: "*",
      });
      assert(again.isErr());
      assert(again.error._tag === "PreconditionFailed");
      assertEquals(again.error.exists, true);
      assertEquals(again.error.etag, created._unsafeUnwrap().etag);
      assertStringIncludes(again.error.message, "exists already");
      const kept =
        (await client.get("resource-lists", "/resource-lists/list/entry[1]/display-name"))
          ._unsafeUnwrap();
      assertEquals(kept.body, "<display-name>Bob</display-name>");

      // A node: absent, created; present, refused and left as it was.
      const dave = '/resource-lists/list/entry[@uri="sip:dave@example.com"]';
      const entry = (name: string) =>
        `<entry uri="sip:dave@example.com"><display-name>${name}</display-name></entry>`;
      const added = await client.put("resource-lists", entry("Dave"), dave, { ifNoneMatch: "*" });
      assert(added.isOk(), added.isErr() ? added.error.message : "");
      const twice = await client.put("resource-lists", entry("Mallory"), dave, {
        ifNoneMatch: "*",
      });
      assert(twice.isErr());
      assertEquals(twice.error._tag === "PreconditionFailed" && twice.error.exists, true);
      assertEquals(
        (await client.get("resource-lists", `${dave}/display-name`))._unsafeUnwrap().body,
        "<display-name>Dave</display-name>",
      );
      // The version the node was found absent in is pinned: a stale one is a 412 (not `exists`).
      const stale = await client.put(
        "resource-lists",
        '<entry uri="sip:erin@example.com"/>',
        '/resource-lists/list/entry[@uri="sip:erin@example.com"]',
        { ifNoneMatch: "*", etag: created._unsafeUnwrap().etag! },
      );
      assert(stale.isErr());
      assert(stale.error._tag === "PreconditionFailed");
      assertEquals(stale.error.exists, undefined);
    },
  );

  test("bad documents, namespace bindings and prefixed selectors", {}, async (server) => {
    const client = new XCAPClient(server.xcapRoot, `sip:quirks@${HOST}`);
    // RFC 4825 §8.2.5: malformed XML is a 409 <not-well-formed>. Kamailio answers 500.
    const bad = await client.put("resource-lists", "<resource-lists><unclosed>");
    assert(bad.isErr());
    if (server.kind === "kamailio") {
      assertEquals(bad.error._tag, "HttpError");
    } else {
      assert(bad.error._tag === "Conflict");
      assertEquals(bad.error.condition?.tag, "not-well-formed");
    }
    (await client.put("resource-lists", LISTS))._unsafeUnwrap();
    // RFC 4825 §7.10: namespace::* returns the bindings in scope as application/xcap-ns+xml.
    // Kamailio's module crashes on it, so its config answers 501.
    const ns = await client.get("resource-lists", "/resource-lists/list/namespace::*");
    if (server.kind === "kamailio") {
      assert(ns.isErr());
      assertEquals(ns.error._tag === "HttpError" && ns.error.status, 501);
    } else {
      const bindings = ns._unsafeUnwrap();
      assertEquals(bindings.contentType, "application/xcap-ns+xml");
      assertStringIncludes(bindings.body, 'xmlns="urn:ietf:params:xml:ns:resource-lists"');
    }
    // RFC 4825 §6.4: prefixes are bound by the xmlns() query. Kamailio answers 500.
    const prefixed = await client.get("resource-lists", "/rl:resource-lists/rl:list/@name", {
      namespaces: { rl: "urn:ietf:params:xml:ns:resource-lists" },
    });
    if (server.kind === "kamailio") {
      assert(prefixed.isErr());
      assertEquals(prefixed.error._tag, "HttpError");
    } else {
      assertEquals(prefixed._unsafeUnwrap().body, "friends");
    }
    const unknown = await client.get("com.example.nothing");
    assert(unknown.isErr());
    assertEquals(unknown.error._tag, "NotFound");
    const caps = (await client.get("xcap-caps", undefined, { global: true }))._unsafeUnwrap();
    assertStringIncludes(caps.body, "<auid>resource-lists</auid>");
  });

  test("Digest authentication and per-user documents", { auth: true }, async (server) => {
    const alice = new XCAPClient(server.xcapRoot, `sip:alice@${HOST}`, {
      password: server.password,
    });
    const put = (await alice.put("resource-lists", LISTS))._unsafeUnwrap();
    assert(put.etag !== undefined);
    // Later requests answer the known challenge (the nonce count goes up) without a new 401.
    for (let i = 0; i < 12; i++) {
      const got = (await alice.get("resource-lists", "/resource-lists/list/@name"))
        ._unsafeUnwrap();
      assertEquals(got.body.trim(), "friends");
    }
    const wrong = new XCAPClient(server.xcapRoot, `sip:alice@${HOST}`, {
      password: "not-the-password-42",
    });
    const denied = await wrong.get("resource-lists");
    assert(denied.isErr());
    assertEquals(denied.error._tag, "Unauthorized");
    assert(!JSON.stringify(denied.error).includes("not-the-password-42"));
    // A wrong password and no password at all are told apart.
    assertEquals(denied.error._tag === "Unauthorized" && denied.error.credentials, "refused");
    assertStringIncludes(denied.error.message, 'credentials of user "alice" were refused');
    const anonymous = await new XCAPClient(server.xcapRoot, `sip:alice@${HOST}`)
      .get("resource-lists");
    assert(anonymous.isErr());
    assertEquals(anonymous.error._tag, "Unauthorized");
    assertEquals(anonymous.error._tag === "Unauthorized" && anonymous.error.credentials, "none");
    assertStringIncludes(anonymous.error.message, "no credentials were given");
    // A user may touch only its own documents.
    const intruder = new XCAPClient(server.xcapRoot, `sip:bob@${HOST}`, {
      password: server.password,
      username: "alice",
    });
    const forbidden = await intruder.get("resource-lists");
    assert(forbidden.isErr());
    assertEquals(forbidden.error._tag, "Forbidden");
  });
}
