/**
 * Schema validation of the embedded server (RFC 4825 §5.3, §8.2.5): the usages' schemas it
 * ships, the conditions and phrases a write that breaks them gets, on every kind of write.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { buildXcapUri, type XcapTarget } from "../src/client/uri.ts";
import { parseConflictReport } from "../src/client/conflict_report.ts";
import type { ConflictCondition } from "../src/client/errors.ts";
import { parseXmlDocument } from "../src/xml/document.ts";
import {
  createXcapHandler,
  DEFAULT_SERVER_APPLICATIONS,
  type ServerApplicationUsage,
} from "../src/server/mod.ts";
import { buildXcapCaps } from "../src/server/caps.ts";
import { validateDocument } from "../src/server/usages.ts";
import { compileSchemas } from "../src/server/_xsd.ts";
import { validateAgainstSchema } from "../src/server/_xsd_validate.ts";
import { SCHEMA_FILES } from "../src/server/schemas/mod.ts";
import { buildXcapDirectory } from "../src/usages/xcap_directory.ts";

const RL = "urn:ietf:params:xml:ns:resource-lists";
const RLS = "urn:ietf:params:xml:ns:rls-services";
const CP = "urn:ietf:params:xml:ns:common-policy";
const PR = "urn:ietf:params:xml:ns:pres-rules";
const PIDF = "urn:ietf:params:xml:ns:pidf";
const DM = "urn:ietf:params:xml:ns:pidf:data-model";
const ROOT = "http://127.0.0.1/xcap-root";
const ALICE = "sip:alice@example.com";

function usage(auid: string): ServerApplicationUsage {
  const found = DEFAULT_SERVER_APPLICATIONS.find((u) => u.auid === auid);
  assert(found !== undefined, `no usage ${auid}`);
  return found;
}

/** The condition `validateDocument` gives `text` as a document of `auid`, or undefined. */
function conditionFor(auid: string, text: string): ConflictCondition | undefined {
  const doc = parseXmlDocument(text);
  assert(doc.isOk(), doc.isErr() ? doc.error.phrase : "");
  const result = validateDocument(usage(auid), doc.value);
  return result.isErr() ? result.error : undefined;
}

function schemaPhrase(auid: string, text: string): string {
  const condition = conditionFor(auid, text);
  assert(condition?.tag === "schema-validation-error", JSON.stringify(condition));
  return condition.phrase ?? "";
}

// ---------------------------------------------------------------------------------------------
// The schemas
// ---------------------------------------------------------------------------------------------

const REFERENCE = new URL("../../shared/reference/schemas/", import.meta.url);
const referenceAvailable = (() => {
  try {
    return Deno.statSync(REFERENCE).isDirectory;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "SCHEMA_FILES are the reference schemas (shared/reference/schemas), byte for byte",
  ignore: !referenceAvailable,
  fn() {
    const names = [...Deno.readDirSync(REFERENCE)].map((e) => e.name)
      .filter((n) => n.endsWith(".xsd"));
    // xcap-error.xsd describes the error documents the server sends; nothing is validated
    // against it.
    for (const name of names.filter((n) => n !== "xcap-error.xsd")) {
      const reference = Deno.readTextFileSync(new URL(name, REFERENCE));
      // Leading white space before the XML declaration is not well-formed: the copies drop it.
      assertEquals(SCHEMA_FILES[name], reference.replace(/^\s+/, ""), name);
    }
    assertEquals(SCHEMA_FILES["common-schema.xsd"], SCHEMA_FILES["pidf-common-schema.xsd"]);
  },
});

Deno.test("compileSchemas() compiles every schema set the server uses", () => {
  for (
    const roots of [
      ["resource-lists.xsd"],
      ["rls-services.xsd"],
      ["presence-rules.xsd"],
      ["pidf.xsd", "pidf-data-model.xsd"],
      ["xcap-caps.xsd"],
      ["xcap-directory.xsd"],
    ]
  ) {
    const schema = compileSchemas(SCHEMA_FILES, roots);
    assert(schema.elements.size > 0, roots.join());
  }
});

Deno.test("compileSchemas() refuses what it cannot honour instead of validating half-way", () => {
  const schema = (body: string) =>
    `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t">${body}` +
    "</xs:schema>";
  const cases: Record<string, string> = {
    "<xs:group> in t.xsd is not supported": '<xs:group name="g"/>',
    "the built-in type xs:QName is not supported": '<xs:element name="e" type="xs:QName"/>',
    "<xs:all> in the complex type the type of <e> is not supported":
      '<xs:element name="e"><xs:complexType><xs:all/></xs:complexType></xs:element>',
    "the schema file missing.xsd is not available": '<xs:include schemaLocation="missing.xsd"/>',
  };
  for (const [message, body] of Object.entries(cases)) {
    let thrown: unknown;
    try {
      compileSchemas({ "t.xsd": schema(body) }, ["t.xsd"]);
    } catch (e) {
      thrown = e;
    }
    assert(thrown instanceof Error, message);
    assertStringIncludes(thrown.message, message);
  }
});

Deno.test("validateDocument() accepts a minimal document of every usage the server offers", () => {
  const minimal: Record<string, string> = {
    "resource-lists": `<resource-lists xmlns="${RL}"/>`,
    "rls-services": `<rls-services xmlns="${RLS}"/>`,
    "pres-rules": `<ruleset xmlns="${CP}"/>`,
    "org.openmobilealliance.pres-rules": `<ruleset xmlns="${CP}"/>`,
    "org.openxcap.dialog-rules": `<ruleset xmlns="${CP}"/>`,
    "pidf-manipulation": `<presence xmlns="${PIDF}" entity="pres:alice@example.com"/>`,
    "org.openxcap.watchers": `<watchers xmlns="http://openxcap.org/ns/watchers"/>`,
  };
  assertEquals(DEFAULT_SERVER_APPLICATIONS.map((u) => u.auid).sort(), Object.keys(minimal).sort());
  for (const [auid, text] of Object.entries(minimal)) {
    assertEquals(conditionFor(auid, text), undefined, auid);
  }
});

Deno.test("the generated xcap-caps document and a typed xcap-directory document are valid", () => {
  const caps = compileSchemas(SCHEMA_FILES, ["xcap-caps.xsd"]);
  const capsDoc = parseXmlDocument(buildXcapCaps(DEFAULT_SERVER_APPLICATIONS))._unsafeUnwrap();
  assertEquals(validateAgainstSchema(caps, capsDoc.root), { repeatedIds: [] });
  const directory = compileSchemas(SCHEMA_FILES, ["xcap-directory.xsd"]);
  const text = buildXcapDirectory({
    folders: [{
      auid: "resource-lists",
      entries: [{
        uri: `${ROOT}/resource-lists/users/${ALICE}/index`,
        etag: "abc",
        lastModified: "2026-01-02T03:04:05Z",
        size: 120,
      }],
    }, { auid: "pidf-manipulation", entries: [], errorCode: "404" }],
  })._unsafeUnwrap();
  const directoryDoc = parseXmlDocument(text)._unsafeUnwrap();
  assertEquals(validateAgainstSchema(directory, directoryDoc.root), { repeatedIds: [] });
});

Deno.test("validateAgainstSchema() caches no more automaton states for ever new names and namespaces", () => {
  const schema = compileSchemas(SCHEMA_FILES, ["rls-services.xsd"]);
  const doc = (i: number) =>
    parseXmlDocument(
      `<rls-services xmlns="${RLS}" xmlns:rl="${RL}" xmlns:n${i}="urn:example:${i}">` +
        `<service uri="sip:s@x" n${i}:a${i}="1"><list><rl:entry uri="sip:a@x"><n${i}:e${i}/>` +
        `</rl:entry><n${i}:f${i}><rl:list/></n${i}:f${i}></list><packages><package>p</package>` +
        `<n${i}:g${i}/></packages><n${i}:h${i}/></service><n${i}:bad/></rls-services>`,
    )._unsafeUnwrap();
  validateAgainstSchema(schema, doc(0).root);
  const states = schema.cachedStates();
  for (let i = 1; i < 500; i++) validateAgainstSchema(schema, doc(i).root);
  assertEquals(schema.cachedStates(), states);
});

// ---------------------------------------------------------------------------------------------
// What is wrong, and where
// ---------------------------------------------------------------------------------------------

Deno.test("validateDocument() names an undeclared attribute and the element that has it", () => {
  assertEquals(
    schemaPhrase(
      "resource-lists",
      `<resource-lists xmlns="${RL}"><list name="a"/><list name="b" some-attribute="x"/>` +
        "</resource-lists>",
    ),
    "The attribute some-attribute is not allowed on <list> at resource-lists/list[2]",
  );
});

Deno.test("validateDocument() refuses two <list> in one <service> and says what may follow", () => {
  assertEquals(
    schemaPhrase(
      "rls-services",
      `<rls-services xmlns="${RLS}"><service uri="sip:friends@example.com"><list/><list/>` +
        "</service></rls-services>",
    ),
    "The element <list> at rls-services/service/list[2] is not allowed here: <service> " +
      `expects <packages>, any element from a namespace other than ${RLS} or the end of ` +
      "<service>",
  );
});

Deno.test("validateDocument() reports missing children, bad values, text and missing attributes", () => {
  const pidf = (body: string) =>
    `<presence xmlns="${PIDF}" xmlns:dm="${DM}" entity="pres:alice@example.com">${body}` +
    "</presence>";
  assertEquals(
    schemaPhrase("pidf-manipulation", pidf('<tuple id="t1"><contact>sip:a@x</contact></tuple>')),
    "The element <contact> at presence/tuple/contact is not allowed here: <tuple> expects " +
      "<status>",
  );
  assertEquals(
    schemaPhrase("pidf-manipulation", pidf('<tuple id="t1"/>')),
    "<tuple> at presence/tuple is incomplete: it needs <status>",
  );
  assertEquals(
    schemaPhrase(
      "pidf-manipulation",
      pidf('<tuple id="t1"><status><basic>maybe</basic></status></tuple>'),
    ),
    `The value "maybe" of <basic> at presence/tuple/status/basic is not valid ({${PIDF}}basic): ` +
      'it is not one of "open", "closed"',
  );
  assertEquals(
    schemaPhrase(
      "pres-rules",
      `<cr:ruleset xmlns:cr="${CP}"><cr:rule id="r1"><cr:conditions><cr:validity>` +
        "<cr:from>2026-01-01T00:00:00Z</cr:from><cr:until>tomorrow</cr:until></cr:validity>" +
        "</cr:conditions></cr:rule></cr:ruleset>",
    ),
    'The value "tomorrow" of <cr:until> at cr:ruleset/cr:rule/cr:conditions/cr:validity/' +
      "cr:until is not valid (xs:dateTime): not an xs:dateTime (YYYY-MM-DDThh:mm:ss with an " +
      "optional zone)",
  );
  assertEquals(
    schemaPhrase(
      "resource-lists",
      `<resource-lists xmlns="${RL}"><list>hello</list></resource-lists>`,
    ),
    '<list> at resource-lists/list may not hold text, but holds "hello"',
  );
  assertEquals(
    schemaPhrase(
      "resource-lists",
      `<resource-lists xmlns="${RL}"><list><entry uri="sip:a@x"/><entry/></list></resource-lists>`,
    ),
    '<entry> at resource-lists/list/entry[2] lacks the required attribute "uri"',
  );
  assertEquals(
    schemaPhrase(
      "resource-lists",
      `<resource-lists xmlns="${RL}"><list><entry uri="sip:%zz@x"/></list></resource-lists>`,
    ),
    'The value "sip:%zz@x" of the attribute uri of <entry> at resource-lists/list/entry is ' +
      "not valid (xs:anyURI): not a URI reference (RFC 3986)",
  );
});

Deno.test("validateDocument() lets elements and attributes of other namespaces through where the schema says ##other", () => {
  const ext = 'xmlns:x="urn:example:ext"';
  assertEquals(
    conditionFor(
      "resource-lists",
      `<resource-lists xmlns="${RL}" ${ext}><list name="a" x:color="red"><entry uri="sip:a@x" ` +
        'x:rank="1"><display-name xml:lang="en">A</display-name><x:note>hi<x:b/></x:note>' +
        "</entry><x:group/></list></resource-lists>",
    ),
    undefined,
  );
  // OMA's and OpenXCAP's extensions have no schema here: they pass where common-policy allows
  // other namespaces.
  const oma = "urn:oma:xml:xdm:common-policy";
  assertEquals(
    conditionFor(
      "org.openmobilealliance.pres-rules",
      `<cr:ruleset xmlns:cr="${CP}" xmlns:ocp="${oma}" xmlns:pr="${PR}"><cr:rule id="r1">` +
        '<cr:conditions><ocp:external-list><ocp:entry anc="http://x/y"/></ocp:external-list>' +
        "</cr:conditions><cr:actions><pr:sub-handling>allow</pr:sub-handling></cr:actions>" +
        "</cr:rule></cr:ruleset>",
    ),
    undefined,
  );
  assertEquals(
    conditionFor(
      "org.openxcap.dialog-rules",
      `<cr:ruleset xmlns:cr="${CP}" xmlns:dr="http://openxcap.org/ns/dialog-rules">` +
        '<cr:rule id="r1"><cr:actions><dr:sub-handling>allow</dr:sub-handling></cr:actions>' +
        "</cr:rule></cr:ruleset>",
    ),
    undefined,
  );
  // Unqualified attributes are not "another namespace": the schema must declare them.
  assertEquals(
    schemaPhrase(
      "resource-lists",
      `<resource-lists xmlns="${RL}"><list><entry uri="sip:a@x" rank="1"/></list></resource-lists>`,
    ),
    "The attribute rank is not allowed on <entry> at resource-lists/list/entry",
  );
  // And a foreign element may only come where the content model has its wildcard: after the
  // entries of a list, not before them.
  assertStringIncludes(
    schemaPhrase(
      "resource-lists",
      `<resource-lists xmlns="${RL}" ${ext}><list><x:group/><entry uri="sip:a@x"/></list>` +
        "</resource-lists>",
    ),
    "The element <entry> at resource-lists/list/entry is not allowed here",
  );
});

Deno.test("validateDocument() checks elements of other namespaces that the usage's schemas declare (lax)", () => {
  // <pr:sub-handling> sits in a common-policy wildcard, but pres-rules declares it.
  assertEquals(
    schemaPhrase(
      "pres-rules",
      `<cr:ruleset xmlns:cr="${CP}" xmlns:pr="${PR}"><cr:rule id="r1"><cr:actions>` +
        "<pr:sub-handling>maybe</pr:sub-handling></cr:actions></cr:rule></cr:ruleset>",
    ),
    'The value "maybe" of <pr:sub-handling> at cr:ruleset/cr:rule/cr:actions/pr:sub-handling ' +
      'is not valid (the type of <sub-handling>): it is not one of "block", "confirm", ' +
      '"polite-block", "allow"',
  );
  // RFC 4479's <dm:person> in a PIDF wildcard.
  assertEquals(
    schemaPhrase(
      "pidf-manipulation",
      `<presence xmlns="${PIDF}" xmlns:dm="${DM}" entity="pres:a@x"><dm:person/></presence>`,
    ),
    '<dm:person> at presence/dm:person lacks the required attribute "id"',
  );
});

Deno.test("validateDocument() keeps a sequence's order after an unbounded wildcard (where libxml2 does not)", () => {
  // <presence> is `tuple*, note*, any##other*`: a <note> after an extension is out of order.
  // libxml2 (and so OpenXCAP) accepts it; XSD 1.0 does not.
  assertEquals(
    schemaPhrase(
      "pidf-manipulation",
      `<presence xmlns="${PIDF}" xmlns:x="urn:example:ext" entity="pres:a@x"><x:mood/><note/>` +
        "</presence>",
    ),
    "The element <note> at presence/note is not allowed here: <presence> expects any element " +
      `from a namespace other than ${PIDF} or the end of <presence>`,
  );
});

Deno.test("validateDocument() reports a repeated xs:ID as a schema error unless a uniqueness constraint covers it", () => {
  assertEquals(
    schemaPhrase(
      "pidf-manipulation",
      `<presence xmlns="${PIDF}" xmlns:dm="${DM}" entity="pres:a@x"><tuple id="p1"><status/>` +
        '</tuple><dm:person id="p1"/></presence>',
    ),
    'The id "p1" of <dm:person> at presence/dm:person is already the id of <tuple> at ' +
      "presence/tuple (an xs:ID is unique in its document)",
  );
  const twoTuples = conditionFor(
    "pidf-manipulation",
    `<presence xmlns="${PIDF}" entity="pres:a@x"><tuple id="t"><status/></tuple>` +
      '<tuple id="t"><status/></tuple></presence>',
  );
  assertEquals(twoTuples?.tag, "uniqueness-failure");
});

Deno.test("validateDocument() checks the order of RFC 4825 §8.2.5: schema, then uniqueness, then constraints", () => {
  // Invalid and not unique: the schema error comes first.
  const both = `<resource-lists xmlns="${RL}"><list name="a"/><list name="a" bad="1"/>` +
    "</resource-lists>";
  assertEquals(conditionFor("resource-lists", both)?.tag, "schema-validation-error");
  // Not unique and failing a constraint: uniqueness first.
  const external = (anchor: string) =>
    `<resource-lists xmlns="${RL}"><list name="a"/><list name="a"><external anchor="${anchor}"/>` +
    "</list></resource-lists>";
  assertEquals(conditionFor("resource-lists", external("x"))?.tag, "uniqueness-failure");
});

Deno.test("validateDocument() requires an <external> anchor to be an absolute HTTP URI (RFC 4826 §3.4.5)", () => {
  const doc = (anchor: string) =>
    `<resource-lists xmlns="${RL}"><list><external anchor="${anchor}"/></list></resource-lists>`;
  const xcap =
    `${ROOT}/resource-lists/users/${ALICE}/index/~~/resource-lists/list%5b@name=%22a%22%5d`;
  assertEquals(conditionFor("resource-lists", doc(xcap)), undefined);
  assertEquals(conditionFor("resource-lists", doc(xcap.replace("http:", "https:"))), undefined);
  for (const bad of ["resource-lists/users/x/index", "sip:friends@example.com", "http:///x"]) {
    assertEquals(conditionFor("resource-lists", doc(bad)), {
      tag: "constraint-failure",
      phrase: `The anchor "${bad}" of <external> at resource-lists/list/external is not an ` +
        "absolute HTTP URI (RFC 4826 §3.4.5)",
    });
  }
  // The same lists inside an RLS service.
  const service = `<rls-services xmlns="${RLS}" xmlns:rl="${RL}"><service uri="sip:s@x"><list>` +
    '<rl:external anchor="lists/a"/></list></service></rls-services>';
  assertEquals(conditionFor("rls-services", service)?.tag, "constraint-failure");
});

// ---------------------------------------------------------------------------------------------
// Every kind of write, through the handler
// ---------------------------------------------------------------------------------------------

function uri(options: Partial<XcapTarget>): string {
  return buildXcapUri({ xcapRoot: ROOT, auid: "rls-services", xui: ALICE, ...options })
    ._unsafeUnwrap();
}

async function conditionOf(response: Response): Promise<ConflictCondition> {
  assertEquals(response.status, 409);
  assertEquals(response.headers.get("content-type"), "application/xcap-error+xml");
  return parseConflictReport(await response.text())._unsafeUnwrap();
}

Deno.test("createXcapHandler() validates the result of document, element and attribute PUTs and of DELETEs", async () => {
  const handler = createXcapHandler();
  const request = (url: string, method: string, body?: string, type?: string) =>
    handler(
      new Request(url, {
        method,
        ...(body === undefined ? {} : { body }),
        ...(type === undefined ? {} : { headers: { "content-type": type } }),
      }),
    );
  const docUrl = uri({});
  const services = `<rls-services xmlns="${RLS}" xmlns:rl="${RL}">` +
    '<service uri="sip:friends@example.com"><list name="f"><rl:entry uri="sip:bob@x"/></list>' +
    "<packages><package>presence</package></packages></service></rls-services>";
  const created = await request(docUrl, "PUT", services, "application/rls-services+xml");
  assertEquals(created.status, 201);
  const etag = created.headers.get("etag");

  // Document PUT.
  const badDocument = services.replace("<list ", "<list some-attribute='1' ");
  assertEquals(
    (await conditionOf(await request(docUrl, "PUT", badDocument, "application/rls-services+xml")))
      .phrase,
    "The attribute some-attribute is not allowed on <list> at rls-services/service/list",
  );
  // Element PUT: a second <list> in the service.
  const listUrl = uri({ node: "/rls-services/service/list[2]" });
  assertEquals(
    (await conditionOf(await request(listUrl, "PUT", "<list/>", "application/xcap-el+xml")))
      .phrase,
    "The element <list> at rls-services/service/list[2] is not allowed here: <service> " +
      `expects <packages>, any element from a namespace other than ${RLS} or the end of ` +
      "<service>",
  );
  // Attribute PUT: an attribute <list> does not declare.
  const attributeUrl = uri({ node: "/rls-services/service/list/@some-attribute" });
  assertEquals(
    (await conditionOf(await request(attributeUrl, "PUT", "1", "application/xcap-att+xml")))
      .phrase,
    "The attribute some-attribute is not allowed on <list> at rls-services/service/list",
  );
  // DELETE: the service needs its <list> (or a <resource-list>).
  assertEquals(
    (await conditionOf(await request(uri({ node: "/rls-services/service/list" }), "DELETE")))
      .phrase,
    "The element <packages> at rls-services/service/packages is not allowed here: <service> " +
      "expects <resource-list> or <list>",
  );
  // Nothing was written.
  const read = await request(docUrl, "GET");
  assertEquals(read.headers.get("etag"), etag);
  assertEquals(await read.text(), services);
  // A valid element PUT still works, and so does a foreign element where ##other allows it.
  const entryUrl = uri({
    node: '/rls-services/service/list/rl:entry[@uri="sip:carol@x"]',
    namespaces: { rl: RL },
  });
  const added = await request(
    entryUrl,
    "PUT",
    `<entry xmlns="${RL}" uri="sip:carol@x"/>`,
    "application/xcap-el+xml",
  );
  assertEquals(added.status, 201);
  const foreign = await request(
    uri({ node: "/rls-services/service/x:note", namespaces: { x: "urn:example:ext" } }),
    "PUT",
    '<x:note xmlns:x="urn:example:ext">hi</x:note>',
    "application/xcap-el+xml",
  );
  assertEquals(foreign.status, 201);
});
