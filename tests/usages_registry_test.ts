// The application usage registry, the user-defined usage path, uniqueness checks, and the
// xcap-directory and OpenXCAP models.
import { assert, assertEquals } from "@std/assert";
import { ok } from "npm:neverthrow@^8.2.0";
import { KNOWN_APPLICATIONS, XCAPClient } from "../mod.ts";
import {
  buildWatchers,
  buildXcapDirectory,
  createApplicationRegistry,
  type DocumentCodec,
  findUniquenessViolations,
  OPENXCAP_DIALOG_RULES,
  parseRuleset,
  parseWatchers,
  parseXcapDirectory,
  RAW_XML_CODEC,
  RESOURCE_LISTS,
  type TypedApplicationUsage,
  updateDocument,
} from "../src/usages/mod.ts";
import { parseXmlDocument } from "../src/xml/mod.ts";
import { DEFAULT_SERVER_APPLICATIONS, startXcapServer } from "../src/server/mod.ts";

Deno.test("createApplicationRegistry() has every known AUID, typed where a model exists", () => {
  const registry = createApplicationRegistry();
  for (const auid of KNOWN_APPLICATIONS.keys()) {
    const usage = registry.get(auid);
    assert(usage !== undefined, auid);
    assertEquals(usage.mimeType, KNOWN_APPLICATIONS.get(auid)!.mimeType);
  }
  assertEquals(registry.get("resource-lists"), RESOURCE_LISTS);
  assertEquals(registry.get("xcap-caps")?.codec, RAW_XML_CODEC);
  assertEquals(registry.get("org.openxcap.dialog-rules"), OPENXCAP_DIALOG_RULES);
});

Deno.test("ApplicationRegistry.register() validates the usage and refuses a duplicate AUID", () => {
  const registry = createApplicationRegistry();
  const base = {
    auid: "com.example.bookmarks",
    mimeType: "application/vnd.example.bookmarks+xml",
    defaultNamespace: "urn:example:bookmarks",
    defaultDocumentName: "index",
    scope: "users" as const,
    codec: RAW_XML_CODEC,
    uniqueness: [],
    prefixes: {},
  };
  assert(registry.register(base).isOk());
  const dup = registry.register(base);
  assert(dup.isErr());
  assert(dup.error.message.includes("already registered"));
  assert(registry.register(base, { replace: true }).isOk());
  const badAuid = registry.register({ ...base, auid: "a/b" });
  assert(badAuid.isErr());
  assert(badAuid.error.message.includes("RFC 4825 §6.2"), badAuid.error.message);
  const badMime = registry.register({ ...base, auid: "x", mimeType: "xml" });
  assert(badMime.isErr());
  // Other registries did not change.
  assertEquals(createApplicationRegistry().get("com.example.bookmarks"), undefined);
  assertEquals(registry.applications().get("com.example.bookmarks")?.mimeType, base.mimeType);
});

Deno.test("a user-defined typed usage works with updateDocument() and its own MIME type", async () => {
  type Counter = { readonly value: number };
  const codec: DocumentCodec<Counter> = {
    parse: (doc) => ok({ value: Number(doc.root.attributes[0]?.value ?? "0") }),
    build: (c) => ok(`<counter xmlns="urn:example:counter" value="${c.value}"/>`),
    empty: () => ({ value: 0 }),
  };
  const usage: TypedApplicationUsage<Counter> = createApplicationRegistry().register({
    auid: "com.example.counter",
    mimeType: "application/vnd.example.counter+xml",
    defaultNamespace: "urn:example:counter",
    defaultDocumentName: "index",
    scope: "users",
    codec,
    uniqueness: [],
    prefixes: {},
  })._unsafeUnwrap();
  // The embedded server serves it too when told about it.
  const server = (await startXcapServer({
    hostname: "127.0.0.1",
    port: 0,
    applications: [...DEFAULT_SERVER_APPLICATIONS, usage],
  }))._unsafeUnwrap();
  try {
    const seen: string[] = [];
    const client = new XCAPClient(server.xcapRoot, "sip:alice@example.com", {
      fetch: (input, init) => {
        if (init?.method === "PUT") seen.push(new Headers(init.headers).get("content-type") ?? "");
        return fetch(input, init);
      },
    });
    const first = await updateDocument(client, usage, (c) => ({ value: c.value + 1 }));
    assertEquals(first._unsafeUnwrap().created, true);
    const second = await updateDocument(client, usage, (c) => ({ value: c.value + 1 }));
    assertEquals(second._unsafeUnwrap().value, { value: 2 });
    assertEquals(seen[0], "application/vnd.example.counter+xml");
    const stored = await client.get("com.example.counter");
    assertEquals(stored._unsafeUnwrap().body, '<counter xmlns="urn:example:counter" value="2"/>');
  } finally {
    await server.close();
  }
});

Deno.test("findUniquenessViolations() reports each repeated value once per group", () => {
  const doc = parseXmlDocument(
    '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">' +
      '<list name="a"><entry uri="sip:x"/></list><list name="b"><entry uri="sip:x"/></list>' +
      '<list name="a"/></resource-lists>',
  )._unsafeUnwrap();
  const violations = findUniquenessViolations(RESOURCE_LISTS, doc);
  assertEquals(
    violations.map((v) => `${v.constraint.localName}@${v.constraint.attribute}=${v.value}`),
    [
      "list@name=a",
    ],
  );
});

Deno.test("parseXcapDirectory() and buildXcapDirectory() keep unknown attributes", () => {
  const text = `<?xml version="1.0" encoding="UTF-8"?>
<xcap-directory xmlns="urn:oma:xml:xdm:xcap-directory" xmlns:v="urn:example:v">
  <folder auid="resource-lists">
    <entry uri="http://xcap.example.com/resource-lists/users/sip:a@example.com/index" etag="e1"
        last-modified="2024-01-01T00:00:00Z" size="512" v:owner="a"/>
  </folder>
  <folder auid="rls-services"><error-code>500</error-code></folder>
</xcap-directory>`;
  const dir = parseXcapDirectory(text)._unsafeUnwrap();
  assertEquals(dir.folders.map((f) => [f.auid, f.entries.length, f.errorCode]), [
    ["resource-lists", 1, undefined],
    ["rls-services", 0, "500"],
  ]);
  assertEquals(buildXcapDirectory(dir)._unsafeUnwrap(), text);
  const folder = dir.folders[0]!;
  const changed = buildXcapDirectory({
    ...dir,
    folders: [{ ...folder, entries: [{ ...folder.entries[0]!, etag: "e2" }] }, dir.folders[1]!],
  })._unsafeUnwrap();
  assertEquals(changed, text.replace('etag="e1"', 'etag="e2"'));
});

Deno.test("parseWatchers() reads OpenXCAP's watchers and dialog-rules use their own namespace", () => {
  const text = `<?xml version='1.0' encoding='utf-8'?>
<watchers xmlns="http://openxcap.org/ns/watchers">
  <watcher>
    <id>bob@example.com</id>
    <status>pending</status>
    <online>false</online>
  </watcher>
</watchers>`;
  const watchers = parseWatchers(text)._unsafeUnwrap();
  assertEquals(watchers.watchers.map((w) => [w.id, w.status, w.online]), [
    ["bob@example.com", "pending", false],
  ]);
  assertEquals(buildWatchers(watchers)._unsafeUnwrap(), text);
  const rules = `<cr:ruleset xmlns:cr="urn:ietf:params:xml:ns:common-policy"
    xmlns:dr="http://openxcap.org/ns/dialog-rules"><cr:rule id="r"><cr:actions>
    <dr:sub-handling>block</dr:sub-handling></cr:actions></cr:rule></cr:ruleset>`;
  const parsed = OPENXCAP_DIALOG_RULES.codec.parse(parseXmlDocument(rules)._unsafeUnwrap());
  assertEquals(parsed._unsafeUnwrap().rules[0]?.actions?.subHandling, "block");
  // Read as pres-rules, the dialog-rules sub-handling is unknown content.
  assertEquals(parseRuleset(rules)._unsafeUnwrap().rules[0]?.actions?.subHandling, undefined);
});
