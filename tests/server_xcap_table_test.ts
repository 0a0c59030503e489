/**
 * How documents map onto rows of Kamailio's `xcap` table (src/server/_xcap_table.ts), without a
 * database. The Kamailio rows below are what Kamailio 5.6.3 wrote for the same PUTs (its
 * db_postgres module; tests/server_postgres_kamailio_test.ts checks them against a live one).
 */
import { assertEquals, assertNotEquals } from "@std/assert";
import fc from "npm:fast-check@^4.3.0";
import type { DocumentKey } from "../src/server/store.ts";
import {
  DOC_URI_MAX_CHARACTERS,
  normalizeDocUriRoot,
  xcapRowIdentity,
} from "../src/server/_xcap_table.ts";

function users(auid: string, xui: string, documentPath = "index"): DocumentKey {
  return { auid, tree: "users", xui, documentPath };
}

Deno.test("xcapRowIdentity() writes the rows Kamailio writes for sip:user@host documents", () => {
  const rows: [DocumentKey, string, string, string, number][] = [
    [users("resource-lists", "sip:alice@example.com"), "alice", "example.com", "", 4],
    [users("resource-lists", "sip:alice@example.com", "other.xml"), "alice", "example.com", "", 4],
    [
      users("resource-lists", "sip:alice@example.com", "dir/sub.xml"),
      "alice",
      "example.com",
      "",
      4,
    ],
    [users("pres-rules", "sip:alice@example.com"), "alice", "example.com", "", 2],
    [
      users("org.openmobilealliance.pres-rules", "sip:alice@example.com"),
      "alice",
      "example.com",
      "",
      2,
    ],
    [users("rls-services", "sip:alice@example.com"), "alice", "example.com", "", 8],
    [users("pidf-manipulation", "sip:alice@example.com"), "alice", "example.com", "", 16],
    [
      users("org.openmobilealliance.user-profile", "sip:alice@example.com"),
      "alice",
      "example.com",
      "",
      64,
    ],
    [
      users("org.openmobilealliance.pres-content", "sip:alice@example.com"),
      "alice",
      "example.com",
      "",
      128,
    ],
    [users("resource-lists", "sip:dave@example.com:5060"), "dave", "example.com", "", 4],
    [users("resource-lists", "sip:+4930123@[2001:db8::1]"), "+4930123", "[2001:db8::1]", "", 4],
  ];
  for (const [key, username, domain, _, docType] of rows) {
    const path = `${key.auid}/users/${key.xui}/${key.documentPath}`;
    assertEquals(xcapRowIdentity(key, "/xcap-root"), {
      docUri: `/xcap-root/${path}`,
      username,
      domain,
      docType,
    });
  }
});

Deno.test("xcapRowIdentity() keeps documents Kamailio cannot address out of its queries", () => {
  const invisible = (key: DocumentKey, docUri: string) =>
    assertEquals(xcapRowIdentity(key, "/xcap-root"), {
      docUri,
      username: "",
      domain: "",
      docType: 0,
    });
  // The global tree: the routing script decides its username and domain.
  invisible(
    { auid: "resource-lists", tree: "global", documentPath: "index" },
    "/xcap-root/resource-lists/global/index",
  );
  // An AUID Kamailio has no doc_type for (and xcap-caps, which it never stores).
  invisible(
    users("dialog-rules", "sip:alice@example.com"),
    "/xcap-root/dialog-rules/users/sip:alice@example.com/index",
  );
  invisible(
    users("xcap-caps", "sip:alice@example.com"),
    "/xcap-root/xcap-caps/users/sip:alice@example.com/index",
  );
  // XUIs that are not sip:user@host.
  invisible(users("resource-lists", "alice"), "/xcap-root/resource-lists/users/alice/index");
  invisible(
    users("resource-lists", "sips:alice@example.com"),
    "/xcap-root/resource-lists/users/sips:alice@example.com/index",
  );
  invisible(
    users("resource-lists", "tel:+4930123"),
    "/xcap-root/resource-lists/users/tel:+4930123/index",
  );
  invisible(
    users("resource-lists", "sip:alice@example.com;transport=tcp"),
    "/xcap-root/resource-lists/users/sip:alice@example.com;transport=tcp/index",
  );
  // A user part longer than Kamailio's username column.
  const long = `sip:${"a".repeat(65)}@example.com`;
  invisible(users("resource-lists", long), `/xcap-root/resource-lists/users/${long}/index`);
  // "~~" would start Kamailio's node selector.
  invisible(
    users("resource-lists", "sip:alice@example.com", "a~~b"),
    "/xcap-root/resource-lists/users/sip:alice@example.com/a~~b",
  );
});

Deno.test("xcapRowIdentity() encodes names whose plain path would be ambiguous", () => {
  // An XUI with "/" (sent as %2F): the plain path would read as XUI "sip:a" and folder "b@c".
  const slash = xcapRowIdentity(users("resource-lists", "sip:a/b@c", "x/y"), "/xcap-root");
  assertEquals(slash, {
    docUri: "/xcap-root/resource-lists/~users/sip%3Aa%2Fb%40c/x/y",
    username: "",
    domain: "",
    docType: 0,
  });
  assertNotEquals(
    xcapRowIdentity(users("resource-lists", "sip:a", "b@c/x/y"), "/xcap-root"),
    slash,
  );
  // NUL, which PostgreSQL text cannot hold.
  assertEquals(
    xcapRowIdentity(users("resource-lists", "sip:a\0b@c"), "/xcap-root"),
    {
      docUri: "/xcap-root/resource-lists/~users/sip%3Aa%00b%40c/index",
      username: "",
      domain: "",
      docType: 0,
    },
  );
});

Deno.test("xcapRowIdentity() gives every document its own doc_uri", () => {
  const part = fc.oneof(
    fc.constantFrom("a", "b", "/", "~", "~~", "%2F", "users", "~users", "global", "@", ":", "\0"),
    fc.string({ maxLength: 3 }),
  );
  const name = fc.array(part, { minLength: 1, maxLength: 4 }).map((p) => p.join(""));
  const key = fc.record({
    auid: fc.oneof(fc.constantFrom("resource-lists", "pres-rules"), name),
    tree: fc.constantFrom("users" as const, "global" as const),
    xui: name,
    documentPath: name,
  }).map((k): DocumentKey =>
    k.tree === "global"
      ? { auid: k.auid, tree: "global", documentPath: k.documentPath }
      : { auid: k.auid, tree: "users", xui: k.xui, documentPath: k.documentPath }
  );
  fc.assert(
    fc.property(key, key, (a, b) => {
      const ra = xcapRowIdentity(a, "/xcap-root");
      const rb = xcapRowIdentity(b, "/xcap-root");
      if ("kind" in ra || "kind" in rb) return;
      const same = JSON.stringify([a.auid, a.tree, a.xui ?? null, a.documentPath]) ===
        JSON.stringify([b.auid, b.tree, b.xui ?? null, b.documentPath]);
      assertEquals(ra.docUri === rb.docUri, same, `${JSON.stringify(a)} ${JSON.stringify(b)}`);
    }),
    { numRuns: 5000 },
  );
});

Deno.test("xcapRowIdentity() refuses a doc_uri longer than Kamailio's column", () => {
  const root = "/xcap-root";
  const fixed = `${root}/resource-lists/users/sip:@example.com/index`.length;
  const fits = users(
    "resource-lists",
    `sip:${"é".repeat(DOC_URI_MAX_CHARACTERS - fixed)}@example.com`,
  );
  const row = xcapRowIdentity(fits, root);
  assertEquals("docUri" in row && [...row.docUri].length, DOC_URI_MAX_CHARACTERS);
  const over = users(
    "resource-lists",
    `sip:${"é".repeat(DOC_URI_MAX_CHARACTERS - fixed + 1)}@example.com`,
  );
  assertEquals(xcapRowIdentity(over, root), {
    kind: "too-long",
    docUri: `${root}/resource-lists/users/${over.xui}/index`,
    characters: DOC_URI_MAX_CHARACTERS + 1,
  });
  assertEquals(xcapRowIdentity(users("resource-lists", "sip:a\ud800@b"), root), {
    kind: "malformed",
    message: "the name has a lone UTF-16 surrogate",
  });
});

Deno.test("normalizeDocUriRoot() writes the root as Kamailio's doc_uri starts", () => {
  assertEquals(normalizeDocUriRoot("/xcap-root/"), "/xcap-root");
  assertEquals(normalizeDocUriRoot("xcap-root"), "/xcap-root");
  assertEquals(normalizeDocUriRoot("/"), "");
  assertEquals(normalizeDocUriRoot(""), "");
  assertEquals(normalizeDocUriRoot("/a?b"), undefined);
});
