import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import {
  discoverCapabilities,
  parseXcapCaps,
  supportsApplication,
  supportsNamespace,
  type XcapCapabilities,
} from "../src/usages/caps.ts";
import { XCAPClient } from "../src/client/client.ts";
import { DEFAULT_SERVER_APPLICATIONS, startXcapServer } from "../src/server/mod.ts";
import { buildXcapCaps } from "../src/server/caps.ts";
import { kamailioTest } from "./_kamailio.ts";

/** Kamailio 5.6's fixed xcap-caps document, byte for byte as it serves it. */
const KAMAILIO_CAPS = `<?xml version='1.0' encoding='UTF-8'?>
<xcap-caps xmlns='urn:ietf:params:xml:ns:xcap-caps'>
  <auids>
    <auid>xcap-caps</auid>
    <auid>resource-lists</auid>
    <auid>rls-services</auid>
    <auid>pres-rules</auid>
    <auid>pidf-manipulation</auid>
    <auid>org.openmobilealliance.pres-rules</auid>
    <auid>org.openmobilealliance.user-profile</auid>
    <auid>org.openmobilealliance.pres-content</auid>
    <auid>org.openmobilealliance.xcap-directory</auid>
  </auids>
  <extensions/>
  <namespaces>
    <namespace>urn:ietf:params:xml:ns:xcap-caps</namespace>
    <namespace>urn:ietf:params:xml:ns:resource-lists</namespace>
    <namespace>urn:ietf:params:xml:ns:rls-services</namespace>
    <namespace>urn:ietf:params:xml:ns:pres-rules</namespace>
    <namespace>urn:ietf:params:xml:ns:pidf</namespace>
    <namespace>urn:oma:xml:xdm:user-profile</namespace>
    <namespace>urn:oma:xml:prs:pres-content</namespace>
    <namespace>urn:oma:xml:xdm:xcap-directory</namespace>
  </namespaces>
</xcap-caps>
`;

const KAMAILIO_AUIDS = [
  "xcap-caps",
  "resource-lists",
  "rls-services",
  "pres-rules",
  "pidf-manipulation",
  "org.openmobilealliance.pres-rules",
  "org.openmobilealliance.user-profile",
  "org.openmobilealliance.pres-content",
  "org.openmobilealliance.xcap-directory",
];

function parse(text: string): XcapCapabilities {
  const result = parseXcapCaps(text);
  if (result.isErr()) throw new Error(`unexpected error: ${result.error.message}`);
  return result.value;
}

Deno.test("parseXcapCaps() reads Kamailio's fixed document", () => {
  const caps = parse(KAMAILIO_CAPS);
  assertEquals(caps.auids, KAMAILIO_AUIDS);
  assertEquals(caps.extensions, []);
  assertEquals(caps.namespaces.length, 8);
  assertEquals(caps.namespaces[4], "urn:ietf:params:xml:ns:pidf");
  assertEquals(caps.warnings, []);
});

Deno.test("parseXcapCaps() reads OpenXCAP's generated document with its whitespace", () => {
  // The shape OpenXCAP's lxml serializer writes: declaration, pretty-printed, empty extensions.
  const caps = parse(
    "<?xml version='1.0' encoding='UTF-8'?>\n" +
      '<xcap-caps xmlns="urn:ietf:params:xml:ns:xcap-caps">\n' +
      "  <auids>\n    <auid>org.openxcap.dialog-rules</auid>\n    <auid>\n      pres-rules\n" +
      "    </auid>\n  </auids>\n  <extensions/>\n  <namespaces>\n" +
      "    <namespace>http://openxcap.org/ns/dialog-rules</namespace>\n" +
      "    <namespace>urn:ietf:params:xml:ns:pres-rules</namespace>\n" +
      "  </namespaces>\n</xcap-caps>\n",
  );
  assertEquals(caps.auids, ["org.openxcap.dialog-rules", "pres-rules"]);
  assertEquals(caps.namespaces, [
    "http://openxcap.org/ns/dialog-rules",
    "urn:ietf:params:xml:ns:pres-rules",
  ]);
  assertEquals(caps.warnings, []);
});

Deno.test("parseXcapCaps() reads leniently a document whose items lack their slash", () => {
  // Some OpenXCAP releases wrote "<auid>%s<auid>": not well-formed, yet the intent is clear.
  const caps = parse(
    "<?xml version='1.0' encoding='UTF-8'?>\n" +
      "<xcap-caps xmlns='urn:ietf:params:xml:ns:xcap-caps'>\n" +
      "<auids>\n<auid>resource-lists<auid>\n<auid>pres-rules<auid>\n</auids>\n" +
      "<extensions>\n</extensions>\n" +
      "<namespaces>\n<namespace>urn:ietf:params:xml:ns:resource-lists<namespace>\n" +
      "</namespaces>\n</xcap-caps>",
  );
  assertEquals(caps.auids, ["resource-lists", "pres-rules"]);
  assertEquals(caps.namespaces, ["urn:ietf:params:xml:ns:resource-lists"]);
  assertEquals(caps.warnings.length, 1);
  assertStringIncludes(caps.warnings[0]!, "not well-formed");
});

Deno.test("parseXcapCaps() skips unknown elements and says which", () => {
  const caps = parse(
    '<xcap-caps xmlns="urn:ietf:params:xml:ns:xcap-caps" xmlns:x="urn:example:x">' +
      "<x:server-info>Example 1.0</x:server-info>" +
      "<auids><auid>resource-lists</auid><x:auid>bogus</x:auid><auid> </auid></auids>" +
      "<limits><max-size>1</max-size></limits>" +
      "<extensions><extension>urn:example:ext</extension></extensions>" +
      "<namespaces><namespace><![CDATA[urn:ietf:params:xml:ns:pidf]]></namespace></namespaces>" +
      "</xcap-caps>",
  );
  assertEquals(caps.auids, ["resource-lists"]);
  assertEquals(caps.extensions, ["urn:example:ext"]);
  assertEquals(caps.namespaces, ["urn:ietf:params:xml:ns:pidf"]);
  assertEquals(caps.warnings, [
    "Skipped unknown element <server-info> of urn:example:x",
    "Skipped unknown element <auid> of urn:example:x in <auids>",
    "Skipped an empty <auid>",
    "Skipped unknown element <limits>",
  ]);
});

Deno.test("parseXcapCaps() accepts a prefixed document and lists duplicates once", () => {
  const caps = parse(
    '<c:xcap-caps xmlns:c="urn:ietf:params:xml:ns:xcap-caps"><c:auids><c:auid>a</c:auid>' +
      "<c:auid>b</c:auid><c:auid>a</c:auid></c:auids></c:xcap-caps>",
  );
  assertEquals(caps.auids, ["a", "b"]);
  assertEquals(caps.extensions, []);
  assertEquals(caps.namespaces, []);
});

Deno.test("parseXcapCaps() rejects a document that is not xcap-caps", () => {
  const wrongRoot = parseXcapCaps(
    '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"/>',
  );
  assert(wrongRoot.isErr());
  assertEquals(wrongRoot.error._tag, "MalformedResponse");
  assertEquals(
    wrongRoot.error.message,
    "Cannot parse the xcap-caps document: the document element is " +
      "{urn:ietf:params:xml:ns:resource-lists}resource-lists, not " +
      "{urn:ietf:params:xml:ns:xcap-caps}xcap-caps",
  );
  const noNamespace = parseXcapCaps("<xcap-caps><auids><auid>a</auid></auids></xcap-caps>");
  assert(noNamespace.isErr());
  const html = parseXcapCaps("<html><body>Not found</body>");
  assert(html.isErr());
  assertStringIncludes(html.error.message, "Cannot parse the xcap-caps document: ");
});

Deno.test("parseXcapCaps() reads what the embedded server's buildXcapCaps() writes", () => {
  const caps = parse(buildXcapCaps(DEFAULT_SERVER_APPLICATIONS));
  assertEquals(caps.auids, [
    "xcap-caps",
    ...new Set(DEFAULT_SERVER_APPLICATIONS.map((u) => u.auid).filter((a) => a !== "xcap-caps")),
  ]);
  for (const usage of DEFAULT_SERVER_APPLICATIONS) {
    assert(supportsNamespace(caps, usage.defaultNamespace), usage.defaultNamespace);
  }
  assertEquals(caps.warnings, []);
});

Deno.test("supportsApplication() and supportsNamespace() compare exactly", () => {
  const caps = parse(KAMAILIO_CAPS);
  assertEquals(supportsApplication(caps, "pidf-manipulation"), true);
  assertEquals(supportsApplication(caps, "org.openxcap.watchers"), false);
  assertEquals(supportsApplication(caps, "RESOURCE-LISTS"), false);
  assertEquals(supportsNamespace(caps, "urn:oma:xml:xdm:xcap-directory"), true);
  assertEquals(supportsNamespace(caps, "urn:oma:xml:xdm:xcap-directory/"), false);
});

Deno.test("discoverCapabilities() reads the embedded server's xcap-caps", async () => {
  const server = (await startXcapServer({ port: 0 }))._unsafeUnwrap();
  try {
    const client = new XCAPClient(server.xcapRoot, "sip:alice@example.com");
    const result = await discoverCapabilities(client);
    assert(result.isOk(), result.isErr() ? result.error.message : "");
    const caps = result.value;
    assertEquals(caps.auids[0], "xcap-caps");
    assertEquals(supportsApplication(caps, "resource-lists"), true);
    assertEquals(supportsApplication(caps, "pres-rules"), true);
    assertEquals(supportsNamespace(caps, "urn:ietf:params:xml:ns:resource-lists"), true);
    assertEquals(caps, parse(buildXcapCaps(DEFAULT_SERVER_APPLICATIONS)));
  } finally {
    await server.close();
  }
});

Deno.test("discoverCapabilities() passes on HTTP errors and rejects a body that is no xcap-caps", async () => {
  const calls: string[] = [];
  const respond = (response: () => Response) =>
    new XCAPClient("http://127.0.0.1:9/xcap-root", "sip:alice@example.com", {
      fetch: (input) => {
        calls.push(new URL(String(input)).pathname);
        return Promise.resolve(response());
      },
    });
  const missing = await discoverCapabilities(respond(() => new Response(null, { status: 404 })));
  assert(missing.isErr());
  assertEquals(missing.error._tag, "NotFound");
  const html = await discoverCapabilities(
    respond(() => new Response("<html><body>hello</body></html>")),
  );
  assert(html.isErr());
  assertEquals(html.error._tag, "MalformedResponse");
  const named = await discoverCapabilities(
    respond(() => new Response(KAMAILIO_CAPS)),
    { filename: "caps.xml" },
  );
  assertEquals(named.map((c) => c.auids.length).unwrapOr(0), 9);
  assertEquals(calls, [
    "/xcap-root/xcap-caps/global/index",
    "/xcap-root/xcap-caps/global/index",
    "/xcap-root/xcap-caps/global/caps.xml",
  ]);
});

Deno.test("discoverCapabilities() honours an aborted signal", async () => {
  const controller = new AbortController();
  controller.abort(new Error("stop"));
  const client = new XCAPClient("http://127.0.0.1:9/xcap-root", "sip:alice@example.com", {
    fetch: (_input, init) =>
      init?.signal?.aborted
        ? Promise.reject(init.signal.reason)
        : Promise.resolve(new Response(KAMAILIO_CAPS)),
  });
  const result = await discoverCapabilities(client, { signal: controller.signal });
  assert(result.isErr());
  assertEquals(result.error._tag, "Aborted");
});

kamailioTest("discoverCapabilities() reads Kamailio's xcap-caps", {}, async (server) => {
  const client = new XCAPClient(server.xcapRoot, "sip:alice@127.0.0.1");
  const result = await discoverCapabilities(client);
  assert(result.isOk(), result.isErr() ? result.error.message : "");
  const caps = result.value;
  assertEquals(caps.auids, KAMAILIO_AUIDS);
  assertEquals(caps.extensions, []);
  assertEquals(supportsNamespace(caps, "urn:ietf:params:xml:ns:pidf"), true);
  assertEquals(supportsApplication(caps, "org.openxcap.watchers"), false);
  assertEquals(caps.warnings, []);
});

kamailioTest(
  "discoverCapabilities() reads Kamailio's xcap-caps with Digest authentication",
  { auth: true },
  async (server) => {
    const client = new XCAPClient(server.xcapRoot, "sip:alice@127.0.0.1", {
      password: server.password,
    });
    const caps = await discoverCapabilities(client);
    assertEquals(caps.map((c) => c.auids).unwrapOr([]), KAMAILIO_AUIDS);
  },
);
