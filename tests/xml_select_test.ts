import { assert, assertEquals } from "@std/assert";
import { type NodeSelector, parseNodeSelector } from "../src/client/selector.ts";
import { parseXmlDocument, type XmlDocument, type XmlElement } from "../src/xml/document.ts";
import { selectElements, selectNode } from "../src/xml/select.ts";

const RL = "urn:ietf:params:xml:ns:resource-lists";
const CP = "urn:ietf:params:xml:ns:common-policy";

function parse(text: string): XmlDocument {
  return parseXmlDocument(text)._unsafeUnwrap();
}

function sel(text: string): NodeSelector {
  return parseNodeSelector(text)._unsafeUnwrap();
}

/** The source text of each selected element. */
function texts(doc: XmlDocument, selector: string, ns: Record<string, string>): string[] {
  return selectElements(doc, sel(selector), ns)._unsafeUnwrap().map((e: XmlElement) =>
    doc.text.slice(e.start, e.end)
  );
}

const LISTS = parse(
  `<resource-lists xmlns="${RL}" xmlns:x="urn:x">
  <list name="friends">
    <entry uri="sip:a@example.com"/>
    <x:entry uri="sip:foreign@example.com"/>
    <entry uri="sip:b@example.com" x:uri="sip:b-x@example.com"/>
    <entry uri="sip:c@example.com"/>
  </list>
  <list name="a&amp;b"><entry uri="sip:d@example.com"/></list>
</resource-lists>`,
);

Deno.test("selectElements() puts unprefixed steps in the application usage's namespace", () => {
  assertEquals(texts(LISTS, "/resource-lists/list[2]/entry", { "": RL }), [
    '<entry uri="sip:d@example.com"/>',
  ]);
  // The document's default namespace does not matter: the AUID's does.
  assertEquals(texts(LISTS, "/resource-lists", { "": "urn:other" }), []);
});

Deno.test("selectElements() matches a prefixed document with unprefixed steps", () => {
  const doc = parse(`<cr:ruleset xmlns:cr="${CP}"><cr:rule id="a"/><cr:rule id="b"/></cr:ruleset>`);
  assertEquals(texts(doc, '/ruleset/rule[@id="b"]', { "": CP }), ['<cr:rule id="b"/>']);
  assertEquals(texts(doc, "/p:ruleset/p:rule[1]", { "": RL, p: CP }), ['<cr:rule id="a"/>']);
  assertEquals(texts(doc, "/ruleset/rule", { "": RL }), []);
});

Deno.test("selectElements() matches foreign elements through xmlns() bindings", () => {
  assertEquals(texts(LISTS, "/resource-lists/list/f:entry", { "": RL, f: "urn:x" }), [
    '<x:entry uri="sip:foreign@example.com"/>',
  ]);
});

Deno.test("selectElements() counts positions among siblings that pass the name test", () => {
  // The foreign x:entry between them is not counted.
  assertEquals(texts(LISTS, '/resource-lists/list[@name="friends"]/entry[2]', { "": RL }), [
    '<entry uri="sip:b@example.com" x:uri="sip:b-x@example.com"/>',
  ]);
  // `*` counts every element.
  assertEquals(texts(LISTS, "/resource-lists/list[1]/*[2]", { "": RL }), [
    '<x:entry uri="sip:foreign@example.com"/>',
  ]);
  assertEquals(texts(LISTS, "/resource-lists/list[1]/entry[4]", { "": RL }), []);
});

Deno.test("selectElements() applies the position before the attribute test", () => {
  assertEquals(
    texts(LISTS, '/resource-lists/list[1]/entry[3][@uri="sip:c@example.com"]', {
      "": RL,
    }),
    ['<entry uri="sip:c@example.com"/>'],
  );
  // The second entry is b, so [2][@uri=c] selects nothing (c is the third).
  assertEquals(
    texts(LISTS, '/resource-lists/list[1]/entry[2][@uri="sip:c@example.com"]', {
      "": RL,
    }),
    [],
  );
});

Deno.test("selectElements() puts unprefixed attribute tests in no namespace", () => {
  assertEquals(
    texts(LISTS, '/resource-lists/list/entry[@uri="sip:b-x@example.com"]', { "": RL }),
    [],
  );
  assertEquals(
    texts(LISTS, '/resource-lists/list/entry[@y:uri="sip:b-x@example.com"]', {
      "": RL,
      y: "urn:x",
    }),
    ['<entry uri="sip:b@example.com" x:uri="sip:b-x@example.com"/>'],
  );
});

Deno.test("selectElements() compares attribute values after entity expansion", () => {
  assertEquals(texts(LISTS, '/resource-lists/list[@name="a&amp;b"]/entry', { "": RL }), [
    '<entry uri="sip:d@example.com"/>',
  ]);
  assertEquals(texts(LISTS, '/resource-lists/list[@name="a&amp;amp;b"]', { "": RL }), []);
});

Deno.test("selectElements() returns every match of an ambiguous selector", () => {
  assertEquals(texts(LISTS, "/resource-lists/list/entry", { "": RL }).length, 4);
});

Deno.test("selectElements() matches the root only at position 1", () => {
  assertEquals(texts(LISTS, "/resource-lists[1]/list[2]/entry", { "": RL }).length, 1);
  assertEquals(texts(LISTS, "/resource-lists[2]", { "": RL }), []);
  assertEquals(texts(LISTS, "/*", { "": "urn:any" }).length, 1);
});

Deno.test("selectElements() binds the xml prefix implicitly", () => {
  const doc = parse('<a xmlns="urn:a"><b xml:lang="en"/><b xml:lang="de"/></a>');
  assertEquals(texts(doc, '/a/b[@xml:lang="de"]', { "": "urn:a" }), ['<b xml:lang="de"/>']);
});

Deno.test("selectElements() treats an empty default namespace as no namespace", () => {
  const doc = parse("<a><b/></a>");
  assertEquals(texts(doc, "/a/b", { "": "" }), ["<b/>"]);
  assertEquals(texts(doc, "/a/b", {}), ["<b/>"]);
});

Deno.test("selectElements() rejects an unbound prefix as bad-request", () => {
  assertEquals(selectElements(LISTS, sel("/p:resource-lists"), { "": RL })._unsafeUnwrapErr(), {
    kind: "bad-request",
    message: 'Prefix "p" in node selector /p:resource-lists is not bound; bind it with ' +
      "xmlns(p=...) in the query (RFC 4825 §6.4)",
  });
  const inTest = selectElements(LISTS, sel('/resource-lists/list[@q:name="x"]'), { "": RL });
  assertEquals(inTest._unsafeUnwrapErr().kind, "bad-request");
});

Deno.test("selectElements() does not take prefixes from Object.prototype", () => {
  const result = selectElements(LISTS, sel("/constructor:resource-lists"), { "": RL });
  assertEquals(result._unsafeUnwrapErr().kind, "bad-request");
});

Deno.test("selectNode() returns the one element selected", () => {
  const node = selectNode(LISTS, sel('/resource-lists/list[@name="friends"]/entry[1]'), { "": RL });
  assert(node.isOk() && node.value.kind === "element");
  assertEquals(node.value.element.attributes[0]!.value, "sip:a@example.com");
});

Deno.test("selectNode() reports no match and several matches as not-found", () => {
  assertEquals(
    selectNode(LISTS, sel("/resource-lists/list/entry"), { "": RL })._unsafeUnwrapErr(),
    {
      kind: "not-found",
      message: "Node selector /resource-lists/list/entry matches 4 elements; it must select " +
        "exactly one",
    },
  );
  assertEquals(selectNode(LISTS, sel("/resource-lists/nothing"), { "": RL })._unsafeUnwrapErr(), {
    kind: "not-found",
    message: "No element matches node selector /resource-lists/nothing",
  });
});

Deno.test("selectNode() selects attributes by expanded name", () => {
  const selector = "/resource-lists/list[1]/entry[2]";
  const plain = selectNode(LISTS, sel(`${selector}/@uri`), { "": RL })._unsafeUnwrap();
  assertEquals(plain.kind === "attribute" && plain.attribute.value, "sip:b@example.com");
  const foreign = selectNode(LISTS, sel(`${selector}/@f:uri`), { "": RL, f: "urn:x" })
    ._unsafeUnwrap();
  assertEquals(foreign.kind === "attribute" && foreign.attribute.name, "x:uri");
  assertEquals(selectNode(LISTS, sel(`${selector}/@name`), { "": RL })._unsafeUnwrapErr(), {
    kind: "not-found",
    message: "The element selected by node selector /resource-lists/list[1]/entry[2]/@name has " +
      "no such attribute",
  });
});

Deno.test("selectNode() does not treat namespace declarations as attributes", () => {
  const result = selectNode(LISTS, sel("/resource-lists/@xmlns"), { "": RL });
  assertEquals(result._unsafeUnwrapErr().kind, "not-found");
});

Deno.test("selectNode() selects namespace bindings with namespace::*", () => {
  const node = selectNode(LISTS, sel("/resource-lists/list[1]/namespace::*"), { "": RL });
  assert(node.isOk() && node.value.kind === "namespaces");
  assertEquals(node.value.element.name, "list");
});

Deno.test("selectNode() finds the last of 10,000 entries", () => {
  let text = `<resource-lists xmlns="${RL}"><list>`;
  for (let i = 0; i < 10_000; i++) text += `<entry uri="sip:${i}@example.com"/>`;
  const doc = parse(text + "</list></resource-lists>");
  // Speed is measured by `deno task bench` (tests/bench/), never by a timed assertion here.
  const node = selectNode(doc, sel('/resource-lists/list/entry[@uri="sip:9999@example.com"]'), {
    "": RL,
  });
  assert(node.isOk());
  assertEquals(
    node.value.kind === "element" && node.value.element.attributes[0]?.value,
    "sip:9999@example.com",
  );
});
