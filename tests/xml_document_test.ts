import { assert, assertEquals } from "@std/assert";
import {
  decodeUtf8,
  parseXmlDocument,
  parseXmlElement,
  type XmlDocument,
  type XmlElement,
} from "../src/xml/document.ts";

function parse(text: string): XmlDocument {
  const result = parseXmlDocument(text);
  if (result.isErr()) throw new Error(`unexpected parse error: ${JSON.stringify(result.error)}`);
  return result.value;
}

function childElements(element: XmlElement): XmlElement[] {
  return element.children.filter((c): c is XmlElement => c.kind === "element");
}

function errorOf(text: string, limits = {}) {
  const result = parseXmlDocument(text, limits);
  assert(result.isErr(), `expected ${JSON.stringify(text)} to be rejected`);
  return result.error;
}

const CP = "urn:ietf:params:xml:ns:common-policy";

Deno.test("parseXmlDocument() resolves prefixes, local names and namespaces", () => {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n<cr:ruleset xmlns:cr="${CP}" ` +
    `xmlns="urn:default">\n  <cr:rule id="a"><plain/></cr:rule>\n</cr:ruleset>\n`;
  const doc = parse(text);
  assertEquals(doc.declaration?.version, "1.0");
  assertEquals(doc.declaration?.encoding, "UTF-8");
  const root = doc.root;
  assertEquals([root.name, root.prefix, root.localName, root.namespace], [
    "cr:ruleset",
    "cr",
    "ruleset",
    CP,
  ]);
  assertEquals(root.namespaceDeclarations.map((d) => [d.prefix, d.uri]), [
    ["cr", CP],
    ["", "urn:default"],
  ]);
  assertEquals(root.attributes, []);
  const rule = childElements(root)[0]!;
  assertEquals(text.slice(rule.start, rule.end), '<cr:rule id="a"><plain/></cr:rule>');
  assertEquals(text.slice(rule.contentStart, rule.contentEnd), "<plain/>");
  assertEquals(rule.parent, root);
  assertEquals(rule.depth, 2);
  const plain = childElements(rule)[0]!;
  assertEquals([plain.prefix, plain.localName, plain.namespace], [
    undefined,
    "plain",
    "urn:default",
  ]);
  assertEquals([plain.selfClosing, plain.contentStart, plain.contentEnd], [
    true,
    plain.end,
    plain.end,
  ]);
  assertEquals(doc.elementCount, 3);
});

Deno.test("parseXmlDocument() puts unprefixed attributes in no namespace", () => {
  const doc = parse('<a xmlns="urn:a" xmlns:p="urn:p" x="1" p:y="2"/>');
  assertEquals(
    doc.root.attributes.map((a) => [a.name, a.prefix, a.localName, a.namespace, a.value]),
    [["x", undefined, "x", undefined, "1"], ["p:y", "p", "y", "urn:p", "2"]],
  );
});

Deno.test("parseXmlDocument() undeclares the default namespace with xmlns=''", () => {
  const doc = parse('<a xmlns="urn:a"><b xmlns=""><c/></b></a>');
  const b = childElements(doc.root)[0]!;
  const c = childElements(b)[0]!;
  assertEquals([doc.root.namespace, b.namespace, c.namespace], ["urn:a", undefined, undefined]);
  assertEquals(b.namespaces.has(""), false);
  assertEquals(b.namespaces.get("xml"), "http://www.w3.org/XML/1998/namespace");
});

Deno.test("parseXmlDocument() records attribute offsets, raw values and quotes", () => {
  const text = `<e a='x &amp; y' b="&#65;&lt;"  c = "1"/>`;
  const doc = parse(text);
  const [a, b, c] = doc.root.attributes;
  assertEquals(text.slice(a!.start, a!.end), "a='x &amp; y'");
  assertEquals([a!.rawValue, a!.value, a!.quote], ["x &amp; y", "x & y", "'"]);
  assertEquals(text.slice(a!.valueStart, a!.valueEnd), "x &amp; y");
  assertEquals([b!.rawValue, b!.value], ["&#65;&lt;", "A<"]);
  assertEquals(text.slice(c!.start, c!.end), 'c = "1"');
});

Deno.test("parseXmlDocument() normalizes attribute whitespace but keeps character references", () => {
  const doc = parse('<e a="x\ty\r\nz&#10;w"/>');
  assertEquals(doc.root.attributes[0]!.value, "x y z\nw");
});

Deno.test("parseXmlDocument() keeps text, comments, CDATA and PIs in order with offsets", () => {
  const text = "<!-- before -->\n<?app data?>\n<a>t&amp;u<!-- c --><![CDATA[<x>&amp;]]>" +
    "<?pi x y?>\r\nz</a>\n<!-- after -->";
  const doc = parse(text);
  assertEquals(doc.prolog.map((n) => n.kind), ["comment", "processing-instruction"]);
  assertEquals(doc.epilog.map((n) => text.slice(n.start, n.end)), ["<!-- after -->"]);
  const kinds = doc.root.children.map((n) => n.kind);
  assertEquals(kinds, ["text", "comment", "cdata", "processing-instruction", "text"]);
  const [t, comment, cdata, pi, tail] = doc.root.children;
  assertEquals(t?.kind === "text" && t.value, "t&u");
  assertEquals(comment?.kind === "comment" && comment.value, " c ");
  assertEquals(cdata?.kind === "cdata" && cdata.value, "<x>&amp;");
  assertEquals(text.slice(cdata!.start, cdata!.end), "<![CDATA[<x>&amp;]]>");
  assertEquals(pi?.kind === "processing-instruction" && [pi.target, pi.data], ["pi", "x y"]);
  assertEquals(tail?.kind === "text" && tail.value, "\nz");
});

Deno.test("parseXmlDocument() skips a byte order mark", () => {
  const doc = parse("\uFEFF<a/>");
  assertEquals([doc.root.start, doc.root.end], [1, 5]);
});

Deno.test("parseXmlDocument() accepts a lower-case utf-8 declaration", () => {
  assertEquals(parse("<?xml version='1.0' encoding='utf-8' standalone='yes'?><a/>").declaration, {
    version: "1.0",
    encoding: "utf-8",
    standalone: "yes",
    start: 0,
    end: 55,
  });
});

Deno.test("parseXmlDocument() reports where a document is not well-formed", () => {
  const cases: [string, string][] = [
    [
      "<a>\n  <b></a>",
      "End tag </a> at line 2, column 6 does not match start tag <b> at line 2, column 3",
    ],
    ["<a><b>", "Element <b> is not closed at line 1, column 4"],
    ['<a x="1" x="2"/>', 'Attribute "x" appears twice in <a> at line 1, column 10'],
    [
      '<a xmlns:p="u" xmlns:q="u" p:x="1" q:x="2"/>',
      'Attribute "q:x" duplicates another attribute\'s namespace and local name at line 1, column 36',
    ],
    ["<p:a/>", 'Namespace prefix "p" of element <p:a> is not declared at line 1, column 2'],
    ['<a p:x="1"/>', 'Namespace prefix "p" of attribute "p:x" is not declared at line 1, column 4'],
    [
      "<a>&nbsp;</a>",
      'Entity "&nbsp;" is not declared (only &lt; &gt; &amp; &apos; &quot; exist without a DTD) ' +
      "at line 1, column 4",
    ],
    [
      "<a>&#0;</a>",
      'Character reference "&#0;" does not stand for an XML character at line 1, column 4',
    ],
    [
      "<a>AT&T</a>",
      '"&" must start an entity or character reference such as "&amp;" at line 1, column 6',
    ],
    ['<a x="<"/>', '"<" is not allowed in the value of attribute "x" at line 1, column 7'],
    ["<a>]]></a>", '"]]>" is not allowed in character data at line 1, column 4'],
    ["<a><!-- x -- y --></a>", '"--" is not allowed inside a comment at line 1, column 11'],
    [
      "<a/><b/>",
      "Only one document element is allowed; found another element after it at line 1, column 5",
    ],
    ["<a/>text", 'Unexpected "text" after the document element at line 1, column 5'],
    ["text<a/>", 'Unexpected "text<a/>" before the document element at line 1, column 1'],
    ["  ", "The document has no document element at line 1, column 3"],
    ["<a>\u0001</a>", "Character U+0001 is not allowed in XML at line 1, column 4"],
    ["<a>\uD800</a>", "Character U+D800 is not allowed in XML at line 1, column 4"],
    [
      " <?xml version='1.0'?><a/>",
      "An XML declaration is only allowed at the very start of the document at line 1, column 2",
    ],
    [
      "<a><?XML x?></a>",
      "An XML declaration is only allowed at the very start of the document at line 1, column 4",
    ],
    [
      '<a xmlns:p=""/>',
      'Prefix "p" cannot be undeclared (Namespaces in XML 1.0) at line 1, column 4',
    ],
    [
      '<a xmlns:xml="urn:x"/>',
      'The prefix "xml" can only be bound to http://www.w3.org/XML/1998/namespace at line 1, column 4',
    ],
    ["<xmlns:a/>", 'Element <xmlns:a> uses the reserved prefix "xmlns" at line 1, column 2'],
    [
      "<a:b:c/>",
      '"a:b:c" is not a valid qualified name (Namespaces in XML §4) at line 1, column 2',
    ],
    ['<a x="1"y="2"/>', 'Expected whitespace, ">" or "/>" in start tag <a> at line 1, column 9'],
    ["<a x/>", 'Expected "=" after attribute name "x" at line 1, column 5'],
    ["<a x=1/>", 'Expected a quoted value for attribute "x" at line 1, column 6'],
    ["<1a/>", 'Expected an element name but found "1a/>" at line 1, column 2'],
    ["<?xml version='2'?><a/>", "Malformed XML declaration at line 1, column 1"],
  ];
  for (const [text, phrase] of cases) {
    assertEquals(errorOf(text), { tag: "not-well-formed", phrase }, text);
  }
});

Deno.test("parseXmlDocument() refuses a DTD, so entity expansion cannot blow up", () => {
  const laughs = '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">' +
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n<lolz>&lol2;</lolz>';
  assertEquals(errorOf(laughs), {
    tag: "constraint-failure",
    phrase: "Document type declarations are not supported: XCAP documents need no DTD at line 2, " +
      "column 1",
  });
});

Deno.test("parseXmlDocument() rejects a declared encoding other than UTF-8 as not-utf-8", () => {
  assertEquals(errorOf("<?xml version='1.0' encoding='ISO-8859-1'?><a/>"), {
    tag: "not-utf-8",
    phrase:
      'The XML declaration names encoding "ISO-8859-1"; XCAP documents are UTF-8 at line 1, ' +
      "column 1",
  });
});

Deno.test("parseXmlDocument() enforces maxDepth with 100 as the default", () => {
  const nested = (n: number) => "<a>".repeat(n) + "</a>".repeat(n);
  assert(parseXmlDocument(nested(100)).isOk());
  assertEquals(errorOf(nested(101)), {
    tag: "constraint-failure",
    phrase: "Elements are nested deeper than 100 levels at line 1, column 301",
  });
  assertEquals(errorOf(nested(4), { maxDepth: 3 }).tag, "constraint-failure");
});

Deno.test("parseXmlDocument() parses deep nesting without recursion", () => {
  const n = 50_000;
  const doc = parseXmlDocument("<a>".repeat(n) + "</a>".repeat(n), { maxDepth: n });
  assertEquals(doc.isOk() && doc.value.elementCount, n);
});

Deno.test("parseXmlDocument() enforces maxElements and maxEntityExpansions", () => {
  assertEquals(errorOf("<a><b/><b/><b/></a>", { maxElements: 3 }), {
    tag: "constraint-failure",
    phrase: "The document has more than 3 elements at line 1, column 12",
  });
  assertEquals(errorOf("<a>&amp;&amp;&amp;</a>", { maxEntityExpansions: 2 }), {
    tag: "constraint-failure",
    phrase: "The document has more than 2 entity and character references at line 1, column 14",
  });
  assertEquals(
    errorOf("<r>" + "<e/>".repeat(100_000) + "</r>").phrase,
    "The document has more than 100000 elements at line 1, column 400000",
  );
});

Deno.test("parseXmlDocument() parses 10,000 entries with exact offsets", () => {
  let text = '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">\n  <list name="all">\n';
  for (let i = 0; i < 10_000; i++) {
    text += `    <entry uri="sip:user${i}@example.com"><display-name>User &amp; ${i}` +
      `</display-name></entry>\n`;
  }
  text += "  </list>\n</resource-lists>\n";
  // Speed is measured by `deno task bench` (tests/bench/), never by a timed assertion here.
  const doc = parse(text);
  assertEquals(doc.elementCount, 20_002);
  const list = childElements(doc.root)[0]!;
  const last = childElements(list).at(-1)!;
  assertEquals(
    text.slice(last.start, last.end),
    '<entry uri="sip:user9999@example.com"><display-name>User &amp; 9999</display-name></entry>',
  );
});

Deno.test("parseXmlElement() resolves undeclared prefixes in the scope given", () => {
  const parsed = parseXmlElement('\n  <cp:rule id="r"><cp:conditions/></cp:rule>\n', {
    namespaces: new Map([["cp", CP]]),
  });
  assert(parsed.isOk());
  const root = parsed.value.root;
  assertEquals([root.namespace, root.start, root.end], [CP, 3, 45]);
  assertEquals(childElements(root)[0]!.namespace, CP);
});

Deno.test("parseXmlElement() takes the default namespace from the scope given", () => {
  const parsed = parseXmlElement("<entry/>", { namespaces: { "": "urn:rl" } });
  assertEquals(parsed.isOk() && parsed.value.root.namespace, "urn:rl");
});

Deno.test("parseXmlElement() rejects anything but exactly one element as not-xml-frag", () => {
  const cases: [string, string][] = [
    [
      "<a/><b/>",
      "The body must be a single XML element; it has more than one XML element at line 1, column 5",
    ],
    [
      "<a/> tail",
      "The body must be a single XML element; it has text outside the element at line 1, column 6",
    ],
    [
      "head <a/>",
      "The body must be a single XML element; it has text outside the element at line 1, column 1",
    ],
    [
      "<!-- c --><a/>",
      "The body must be a single XML element; it has a comment outside the element at line 1, column 1",
    ],
    [
      '<?xml version="1.0"?><a/>',
      "The body must be a single XML element; it starts with an XML declaration at line 1, column 1",
    ],
    ["", "The body contains no XML element"],
  ];
  for (const [text, phrase] of cases) {
    assertEquals(parseXmlElement(text)._unsafeUnwrapErr(), { tag: "not-xml-frag", phrase }, text);
  }
});

Deno.test("parseXmlElement() reports broken markup and unbound prefixes as not-xml-frag (RFC 4825 §11)", () => {
  assertEquals(parseXmlElement("<a><b></a>")._unsafeUnwrapErr().tag, "not-xml-frag");
  assertEquals(parseXmlElement("<entry")._unsafeUnwrapErr(), {
    tag: "not-xml-frag",
    phrase: "Start tag <entry> is not closed at line 1, column 1",
  });
  assertEquals(parseXmlElement("<gm:group/>")._unsafeUnwrapErr(), {
    tag: "not-xml-frag",
    phrase: 'Namespace prefix "gm" of element <gm:group> is not declared at line 1, column 2',
  });
});

Deno.test("parseXmlElement() counts the parent's depth toward maxDepth", () => {
  const result = parseXmlElement("<a><b/></a>", { parentDepth: 99 });
  assertEquals(result._unsafeUnwrapErr().tag, "constraint-failure");
});

Deno.test("decodeUtf8() decodes strictly and drops a byte order mark", () => {
  assertEquals(
    decodeUtf8(new Uint8Array([0xef, 0xbb, 0xbf, 0x3c, 0x61, 0x2f, 0x3e]))._unsafeUnwrap(),
    "<a/>",
  );
  assertEquals(decodeUtf8(new TextEncoder().encode("<a>日本</a>"))._unsafeUnwrap(), "<a>日本</a>");
});

Deno.test("decodeUtf8() names the first invalid byte", () => {
  assertEquals(decodeUtf8(new Uint8Array([0x3c, 0x61, 0xc3, 0x28]))._unsafeUnwrapErr(), {
    tag: "not-utf-8",
    phrase: "The body is not valid UTF-8: invalid byte 0x28 at offset 3",
  });
  assertEquals(decodeUtf8(new Uint8Array([0x61, 0xed, 0xa0, 0x80]))._unsafeUnwrapErr(), {
    tag: "not-utf-8",
    phrase: "The body is not valid UTF-8: invalid byte 0xED at offset 1",
  });
  assertEquals(decodeUtf8(new Uint8Array([0x61, 0xe6, 0x97]))._unsafeUnwrapErr(), {
    tag: "not-utf-8",
    phrase: "The body is not valid UTF-8: truncated sequence at offset 3",
  });
});
