import { assert, assertEquals } from "@std/assert";
import {
  type NamespaceBindings,
  type NodeSelector,
  parseNodeSelector,
} from "../src/client/selector.ts";
import { parseXmlDocument, type XmlDocument } from "../src/xml/document.ts";
import { deleteNode, formatNamespaceBindings, getNode, putNode } from "../src/xml/edit.ts";
import type { NodeOperationError } from "../src/xml/errors.ts";

const RL = "urn:ietf:params:xml:ns:resource-lists";
const CP = "urn:ietf:params:xml:ns:common-policy";
const NS: NamespaceBindings = { "": RL };

function parse(text: string): XmlDocument {
  return parseXmlDocument(text)._unsafeUnwrap();
}

function sel(text: string): NodeSelector {
  return parseNodeSelector(text)._unsafeUnwrap();
}

/** PUT and return the new text, asserting whether the node was created. */
function put(
  text: string,
  selector: string,
  body: string,
  created: boolean,
  ns: NamespaceBindings = NS,
): string {
  const result = putNode(parse(text), sel(selector), ns, body);
  if (result.isErr()) throw new Error(`unexpected error: ${JSON.stringify(result.error)}`);
  assertEquals(result.value.created, created, "created");
  assertEquals(result.value.document.text, result.value.text);
  return result.value.text;
}

function putError(
  text: string,
  selector: string,
  body: string,
  ns: NamespaceBindings = NS,
): NodeOperationError {
  const result = putNode(parse(text), sel(selector), ns, body);
  assert(result.isErr(), `expected PUT ${selector} to fail`);
  return result.error;
}

function del(text: string, selector: string, ns: NamespaceBindings = NS): string {
  const result = deleteNode(parse(text), sel(selector), ns);
  if (result.isErr()) throw new Error(`unexpected error: ${JSON.stringify(result.error)}`);
  return result.value.text;
}

function conditionTag(error: NodeOperationError): string | undefined {
  return error.kind === "conflict" ? error.condition.tag : undefined;
}

const LIST = `<?xml version="1.0" encoding="UTF-8"?>
<!-- my buddies -->
<resource-lists xmlns="${RL}">
  <list name="friends">
    <entry uri="sip:a@example.com"><display-name>A &amp; Co</display-name></entry>
    <!-- b is new -->
    <entry uri='sip:b@example.com'/>
    <external anchor="http://x"/>
  </list>
</resource-lists>
`;

// -------------------------------------------------------------------------------------------
// GET
// -------------------------------------------------------------------------------------------

Deno.test("getNode() returns an element's exact source text", () => {
  const doc = parse(LIST);
  assertEquals(getNode(doc, sel("/resource-lists/list/entry[1]"), NS)._unsafeUnwrap(), {
    kind: "element",
    body: '<entry uri="sip:a@example.com"><display-name>A &amp; Co</display-name></entry>',
  });
  // No namespace declarations of ancestors are added (RFC 4825 §8.3).
  assertEquals(
    getNode(doc, sel("/resource-lists/list"), NS)._unsafeUnwrap().body,
    LIST.slice(LIST.indexOf('<list name="friends">'), LIST.indexOf("</list>") + 7),
  );
});

Deno.test("getNode() returns comments, CDATA and odd spacing inside the element unchanged", () => {
  const text = '<a xmlns="urn:a"><b  x = "1"\n><!--c--><![CDATA[<&>]]>&#65;</b ></a>';
  assertEquals(
    getNode(parse(text), sel("/a/b"), { "": "urn:a" })._unsafeUnwrap().body,
    '<b  x = "1"\n><!--c--><![CDATA[<&>]]>&#65;</b >',
  );
});

Deno.test("getNode() returns an attribute value as written, references unexpanded", () => {
  const doc = parse(`<r xmlns="urn:r" a="x &amp; &lt;y&gt;" b='say "hi"'/>`);
  assertEquals(getNode(doc, sel("/r/@a"), { "": "urn:r" })._unsafeUnwrap(), {
    kind: "attribute",
    body: "x &amp; &lt;y&gt;",
  });
  assertEquals(getNode(doc, sel("/r/@b"), { "": "urn:r" })._unsafeUnwrap().body, 'say "hi"');
});

Deno.test("getNode() describes namespace bindings in scope as xcap-ns+xml", () => {
  const doc = parse(
    `<cr:ruleset xmlns:cr="${CP}" xmlns="urn:d"><cr:rule xmlns:x="urn:x" xmlns:cr="urn:cr2">` +
      "<x:y/></cr:rule></cr:ruleset>",
  );
  assertEquals(getNode(doc, sel("/ruleset/namespace::*"), { "": CP })._unsafeUnwrap(), {
    kind: "namespaces",
    body: `<cr:ruleset xmlns:cr="${CP}" xmlns="urn:d"/>`,
  });
  assertEquals(
    getNode(doc, sel("/ruleset/p:rule/namespace::*"), { "": CP, p: "urn:cr2" })._unsafeUnwrap()
      .body,
    '<cr:rule xmlns:cr="urn:cr2" xmlns="urn:d" xmlns:x="urn:x"/>',
  );
});

Deno.test("formatNamespaceBindings() leaves out an undeclared default namespace", () => {
  const doc = parse('<a xmlns="urn:a" xmlns:p="urn:p&amp;q"><b xmlns=""/></a>');
  const b = doc.root.children[0]!;
  assert(b.kind === "element");
  assertEquals(formatNamespaceBindings(b), '<b xmlns:p="urn:p&amp;q"/>');
});

Deno.test("getNode() is not-found for no match and for several matches", () => {
  const doc = parse(LIST);
  assertEquals(
    getNode(doc, sel("/resource-lists/list/entry"), NS)._unsafeUnwrapErr().kind,
    "not-found",
  );
  assertEquals(
    getNode(doc, sel("/resource-lists/list/entry[3]"), NS)._unsafeUnwrapErr().kind,
    "not-found",
  );
  assertEquals(
    getNode(doc, sel("/resource-lists/list/@id"), NS)._unsafeUnwrapErr().kind,
    "not-found",
  );
});

Deno.test("getNode() is bad-request for an unbound prefix", () => {
  assertEquals(
    getNode(parse(LIST), sel("/rl:resource-lists"), NS)._unsafeUnwrapErr().kind,
    "bad-request",
  );
});

// -------------------------------------------------------------------------------------------
// PUT: elements
// -------------------------------------------------------------------------------------------

Deno.test("putNode() replaces an element in place and keeps every other byte", () => {
  const text = put(
    LIST,
    '/resource-lists/list/entry[@uri="sip:a@example.com"]',
    '<entry uri="sip:a@example.com"/>',
    false,
  );
  assertEquals(
    text,
    LIST.replace(
      '<entry uri="sip:a@example.com"><display-name>A &amp; Co</display-name></entry>',
      '<entry uri="sip:a@example.com"/>',
    ),
  );
});

Deno.test("putNode() inserts after the last sibling with the same name", () => {
  assertEquals(
    put(
      LIST,
      '/resource-lists/list/entry[@uri="sip:c@example.com"]',
      '<entry uri="sip:c@example.com"/>',
      true,
    ),
    LIST.replace(
      "<entry uri='sip:b@example.com'/>",
      "<entry uri='sip:b@example.com'/>\n    <entry uri=\"sip:c@example.com\"/>",
    ),
  );
});

Deno.test("putNode() inserts by position before the first or after the (n-1)th sibling", () => {
  const first = put(
    LIST,
    '/resource-lists/list/entry[1][@uri="sip:0@example.com"]',
    '<entry uri="sip:0@example.com"/>',
    true,
  );
  assertEquals(
    first,
    LIST.replace(
      '<entry uri="sip:a@example.com">',
      '<entry uri="sip:0@example.com"/>\n    <entry uri="sip:a@example.com">',
    ),
  );
  // Position 2: after the first entry, before the comment that precedes the second.
  const second = put(
    LIST,
    '/resource-lists/list/entry[2][@uri="sip:x@example.com"]',
    '<entry uri="sip:x@example.com"/>',
    true,
  );
  assertEquals(
    second,
    LIST.replace(
      "</entry>\n",
      '</entry>\n    <entry uri="sip:x@example.com"/>\n',
    ),
  );
});

Deno.test("putNode() replaces the element at a position when it exists", () => {
  assertEquals(
    put(LIST, "/resource-lists/list/entry[2]", '<entry uri="sip:x@example.com"/>', false),
    LIST.replace("<entry uri='sip:b@example.com'/>", '<entry uri="sip:x@example.com"/>'),
  );
});

Deno.test("putNode() positions * steps among all element siblings", () => {
  assertEquals(
    put(LIST, "/resource-lists/list/*[2]", '<entry uri="sip:x@example.com"/>', false),
    LIST.replace("<entry uri='sip:b@example.com'/>", '<entry uri="sip:x@example.com"/>'),
  );
  assertEquals(
    put(LIST, "/resource-lists/list/*[4]", '<entry-ref ref="r"/>', true),
    LIST.replace(
      '<external anchor="http://x"/>',
      '<external anchor="http://x"/>\n    <entry-ref ref="r"/>',
    ),
  );
});

Deno.test("putNode() takes the name of the new element for a * step without position", () => {
  assertEquals(
    put(
      LIST,
      '/resource-lists/list/*[@uri="sip:c@example.com"]',
      '<entry uri="sip:c@example.com"/>',
      true,
    ),
    LIST.replace(
      "<entry uri='sip:b@example.com'/>",
      "<entry uri='sip:b@example.com'/>\n    <entry uri=\"sip:c@example.com\"/>",
    ),
  );
});

Deno.test("putNode() inserts after the last element when no sibling has the name", () => {
  const doc =
    `<resource-lists xmlns="${RL}">\n  <list name="a"/>\n  <!-- end -->\n</resource-lists>`;
  assertEquals(
    put(doc, '/resource-lists/vcard-list[@x="1"]', '<vcard-list x="1"/>', true),
    `<resource-lists xmlns="${RL}">\n  <list name="a"/>\n  <vcard-list x="1"/>\n  <!-- end -->\n</resource-lists>`,
  );
});

Deno.test("putNode() turns an empty-element tag into a parent indented like the document", () => {
  const doc = `<resource-lists xmlns="${RL}">\n\t<list name="a" />\n</resource-lists>\n`;
  assertEquals(
    put(doc, "/resource-lists/list/entry", '<entry uri="sip:a@example.com"/>', true),
    `<resource-lists xmlns="${RL}">\n\t<list name="a" >\n\t\t<entry uri="sip:a@example.com"/>\n` +
      "\t</list>\n</resource-lists>\n",
  );
});

Deno.test("putNode() uses CRLF line ends in a CRLF document", () => {
  const doc = `<resource-lists xmlns="${RL}">\r\n  <list/>\r\n</resource-lists>`;
  assertEquals(
    put(doc, "/resource-lists/list/entry", "<entry/>", true),
    `<resource-lists xmlns="${RL}">\r\n  <list>\r\n    <entry/>\r\n  </list>\r\n</resource-lists>`,
  );
});

Deno.test("putNode() fills an empty parent and a whitespace-only parent", () => {
  const doc =
    `<resource-lists xmlns="${RL}">\n    <list name="a"></list>\n    <list name="b">\n    </list>\n</resource-lists>`;
  assertEquals(
    put(doc, '/resource-lists/list[@name="a"]/entry', "<entry/>", true),
    `<resource-lists xmlns="${RL}">\n    <list name="a">\n        <entry/>\n    </list>\n` +
      '    <list name="b">\n    </list>\n</resource-lists>',
  );
  assertEquals(
    put(doc, '/resource-lists/list[@name="b"]/entry', "<entry/>", true),
    `<resource-lists xmlns="${RL}">\n    <list name="a"></list>\n    <list name="b">\n` +
      "        <entry/>\n    </list>\n</resource-lists>",
  );
});

Deno.test("putNode() adds no whitespace to a compact document", () => {
  const doc =
    `<?xml version="1.0"?><resource-lists xmlns="${RL}"><list name="a"/><list name="b"></list></resource-lists>`;
  assertEquals(
    put(doc, '/resource-lists/list[@name="a"]/entry', "<entry/>", true),
    doc.replace('<list name="a"/>', '<list name="a"><entry/></list>'),
  );
  assertEquals(
    put(doc, '/resource-lists/list[@name="b"]/entry', "<entry/>", true),
    doc.replace('<list name="b"></list>', '<list name="b"><entry/></list>'),
  );
  assertEquals(
    put(doc, '/resource-lists/list[@name="c"]', '<list name="c"/>', true),
    doc.replace("</resource-lists>", '<list name="c"/></resource-lists>'),
  );
});

Deno.test("putNode() inserts after a comment in a parent without elements", () => {
  const doc =
    `<resource-lists xmlns="${RL}">\n  <list>\n    <!-- none yet -->\n  </list>\n</resource-lists>`;
  assertEquals(
    put(doc, "/resource-lists/list/entry", "<entry/>", true),
    `<resource-lists xmlns="${RL}">\n  <list>\n    <!-- none yet -->\n    <entry/>\n  </list>\n</resource-lists>`,
  );
});

Deno.test("putNode() keeps comments, CDATA, entities and quoting elsewhere byte for byte", () => {
  const doc = `<?xml version='1.0'?>\r\n<resource-lists xmlns='${RL}'>\r\n  <list name='a'>` +
    "<![CDATA[ <raw> ]]>&#169;<?pi x?></list>\r\n</resource-lists>\r\n";
  const text = put(doc, "/resource-lists/list[2]", "<list name='b'/>", true);
  assertEquals(
    text,
    doc.replace("</list>\r\n", "</list>\r\n  <list name='b'/>\r\n"),
  );
});

Deno.test("putNode() trims whitespace around the body element", () => {
  assertEquals(
    put(LIST, "/resource-lists/list/external", '\n  <external anchor="http://y"/>\n', false),
    LIST.replace('<external anchor="http://x"/>', '<external anchor="http://y"/>'),
  );
});

Deno.test("putNode() resolves body prefixes in the scope of the insertion point", () => {
  const doc = `<rl:resource-lists xmlns:rl="${RL}">\n  <rl:list name="a"/>\n</rl:resource-lists>`;
  assertEquals(
    put(doc, '/resource-lists/list[@name="b"]', '<rl:list name="b"/>', true),
    `<rl:resource-lists xmlns:rl="${RL}">\n  <rl:list name="a"/>\n  <rl:list name="b"/>\n</rl:resource-lists>`,
  );
  const unbound = putError(doc, '/resource-lists/list[@name="b"]', '<x:list name="b"/>');
  assertEquals(unbound, {
    kind: "conflict",
    condition: {
      tag: "not-xml-frag",
      phrase: 'Namespace prefix "x" of element <x:list> is not declared at line 1, column 2',
    },
    message: 'Cannot use the PUT body: Namespace prefix "x" of element <x:list> is not declared ' +
      "at line 1, column 2",
  });
});

Deno.test("putNode() edits a prefixed common-policy document", () => {
  const doc =
    `<cr:ruleset xmlns:cr="${CP}">\n  <cr:rule id="a">\n    <cr:conditions/>\n  </cr:rule>\n</cr:ruleset>`;
  const ns = { "": CP };
  assertEquals(
    put(doc, '/ruleset/rule[@id="b"]', '<cr:rule id="b"><cr:actions/></cr:rule>', true, ns),
    `<cr:ruleset xmlns:cr="${CP}">\n  <cr:rule id="a">\n    <cr:conditions/>\n  </cr:rule>\n` +
      '  <cr:rule id="b"><cr:actions/></cr:rule>\n</cr:ruleset>',
  );
  // A body that declares the namespace itself is fine too.
  assertEquals(
    put(doc, '/ruleset/rule[@id="a"]/conditions', `<conditions xmlns="${CP}"/>`, false, ns),
    doc.replace("<cr:conditions/>", `<conditions xmlns="${CP}"/>`),
  );
});

Deno.test("putNode() creates an element in a foreign namespace", () => {
  const ns = { "": RL, x: "urn:ext" };
  assertEquals(
    put(LIST, "/resource-lists/list/x:note", '<n:note xmlns:n="urn:ext">hi</n:note>', true, ns),
    LIST.replace(
      '<external anchor="http://x"/>',
      '<external anchor="http://x"/>\n    <n:note xmlns:n="urn:ext">hi</n:note>',
    ),
  );
});

Deno.test("putNode() replaces the document element when the body matches", () => {
  const doc = `<?xml version="1.0"?>\n<resource-lists xmlns="${RL}"/>\n<!-- tail -->`;
  assertEquals(
    put(doc, "/resource-lists", `<resource-lists xmlns="${RL}"><list/></resource-lists>`, false),
    `<?xml version="1.0"?>\n<resource-lists xmlns="${RL}"><list/></resource-lists>\n<!-- tail -->`,
  );
});

Deno.test("putNode() is cannot-insert when the selector would not select the new element", () => {
  // RFC 4825 §8.2.5: the body's attribute differs from the one in the selector.
  const created = putError(
    LIST,
    '/resource-lists/list/entry[@uri="sip:c@example.com"]',
    '<entry uri="sip:d@example.com"/>',
  );
  assertEquals(created, {
    kind: "conflict",
    condition: {
      tag: "cannot-insert",
      phrase: 'Cannot put /resource-lists/list/entry[@uri="sip:c@example.com"]: afterwards the ' +
        "selector would select nothing instead of the element in the body",
    },
    message: 'Cannot put /resource-lists/list/entry[@uri="sip:c@example.com"]: afterwards the ' +
      "selector would select nothing instead of the element in the body",
  });
  // Replacement with an element the selector no longer matches.
  const replaced = putError(
    LIST,
    '/resource-lists/list/entry[@uri="sip:a@example.com"]',
    '<entry uri="sip:z@example.com"/>',
  );
  assertEquals(conditionTag(replaced), "cannot-insert");
  // A body whose name differs from the step.
  assertEquals(
    conditionTag(putError(LIST, "/resource-lists/list/entry[3]", "<external/>")),
    "cannot-insert",
  );
});

Deno.test("putNode() is cannot-insert when a position cannot be reached", () => {
  assertEquals(putError(LIST, "/resource-lists/list/entry[4]", "<entry/>"), {
    kind: "conflict",
    condition: {
      tag: "cannot-insert",
      phrase: "Cannot insert /resource-lists/list/entry[4]: position 4 needs 3 preceding " +
        "siblings that match the step, and there are 2",
    },
    message: "Cannot insert /resource-lists/list/entry[4]: position 4 needs 3 preceding " +
      "siblings that match the step, and there are 2",
  });
  const zero: NodeSelector = {
    steps: [{ name: { local: "resource-lists" } }, { name: { local: "list" } }, {
      name: { local: "entry" },
      position: 0,
    }],
  };
  const result = putNode(parse(LIST), zero, NS, "<entry/>");
  assertEquals(conditionTag(result._unsafeUnwrapErr()), "cannot-insert");
});

Deno.test("putNode() is cannot-insert when the selector matches several elements", () => {
  const error = putError(LIST, "/resource-lists/list/entry", "<entry/>");
  assertEquals(
    error.message,
    "Cannot put /resource-lists/list/entry: it matches 2 elements, and a PUT must leave it selecting exactly one",
  );
  assertEquals(conditionTag(error), "cannot-insert");
});

Deno.test("putNode() is cannot-insert for a second document element", () => {
  assertEquals(
    putError(LIST, "/other", "<other/>").message,
    "Cannot put /other: the document element is <resource-lists>, and a document has exactly one",
  );
});

Deno.test("putNode() reports no-parent with the closest existing ancestor", () => {
  const error = putError(
    LIST,
    '/resource-lists/list[@name="friends"]/entry[9]/display-name',
    "<display-name/>",
  );
  assertEquals(error, {
    kind: "conflict",
    condition: {
      tag: "no-parent",
      phrase: 'Cannot create /resource-lists/list[@name="friends"]/entry[9]/display-name: its ' +
        'parent /resource-lists/list[@name="friends"]/entry[9] does not exist; the closest ' +
        'existing ancestor is /resource-lists/list[@name="friends"]',
      ancestor: '/resource-lists/list[@name="friends"]',
    },
    message: 'Cannot create /resource-lists/list[@name="friends"]/entry[9]/display-name: its ' +
      'parent /resource-lists/list[@name="friends"]/entry[9] does not exist; the closest ' +
      'existing ancestor is /resource-lists/list[@name="friends"]',
    ancestor: sel('/resource-lists/list[@name="friends"]'),
  });
});

Deno.test("putNode() reports the document as the ancestor when even the root step fails", () => {
  const error = putError(LIST, "/wrong/list/entry", "<entry/>");
  assert(error.kind === "conflict" && error.condition.tag === "no-parent");
  assertEquals(error.condition.ancestor, "");
  assertEquals(error.ancestor, { steps: [] });
});

Deno.test("putNode() reports no-parent when the parent is ambiguous", () => {
  const doc = `<resource-lists xmlns="${RL}"><list/><list/></resource-lists>`;
  const error = putError(doc, "/resource-lists/list/entry", "<entry/>");
  assert(error.kind === "conflict" && error.condition.tag === "no-parent");
  assertEquals(error.condition.ancestor, "/resource-lists");
  assert(error.message.includes("its parent /resource-lists/list matches 2 elements"));
});

Deno.test("putNode() rejects a body that is not one element", () => {
  assertEquals(putError(LIST, "/resource-lists/list/entry[3]", "<entry/><entry/>"), {
    kind: "conflict",
    condition: {
      tag: "not-xml-frag",
      phrase: "The body must be a single XML element; it has more than one XML element at " +
        "line 1, column 9",
    },
    message: "Cannot use the PUT body: The body must be a single XML element; it has more than " +
      "one XML element at line 1, column 9",
  });
  assertEquals(
    conditionTag(putError(LIST, "/resource-lists/list/entry[3]", "just text")),
    "not-xml-frag",
  );
  assertEquals(
    conditionTag(putError(LIST, "/resource-lists/list/entry[3]", "<entry>")),
    "not-xml-frag",
  );
  assertEquals(
    conditionTag(putError(LIST, "/resource-lists/list/entry[3]", "<entry a='1' a='2'/>")),
    "not-xml-frag",
  );
});

Deno.test("putNode() is constraint-failure when the result exceeds the limits", () => {
  const result = putNode(parse(LIST), sel("/resource-lists/list/entry[3]"), NS, "<entry/>", {
    limits: { maxElements: 6 },
  });
  assertEquals(conditionTag(result._unsafeUnwrapErr()), "constraint-failure");
});

Deno.test("putNode() refuses namespace::* with 405 semantics", () => {
  assertEquals(putError(LIST, "/resource-lists/namespace::*", "<x/>"), {
    kind: "not-allowed",
    message: "PUT is not allowed on namespace bindings (namespace::*); only GET is",
    allow: ["GET"],
  });
});

Deno.test("putNode() is bad-request for an unbound prefix", () => {
  assertEquals(putError(LIST, "/resource-lists/list/q:entry", "<entry/>").kind, "bad-request");
});

// -------------------------------------------------------------------------------------------
// PUT: attributes
// -------------------------------------------------------------------------------------------

Deno.test("putNode() replaces an attribute value in place, keeping its quotes", () => {
  assertEquals(
    put(LIST, "/resource-lists/list/entry[2]/@uri", "sip:bb@example.com", false),
    LIST.replace("uri='sip:b@example.com'", "uri='sip:bb@example.com'"),
  );
});

Deno.test("putNode() switches the quotes of a value that contains them", () => {
  assertEquals(
    put(LIST, "/resource-lists/list/entry[2]/@uri", "it's", false),
    LIST.replace("uri='sip:b@example.com'", `uri="it's"`),
  );
});

Deno.test("putNode() appends a new attribute to the start tag", () => {
  assertEquals(
    put(LIST, "/resource-lists/list/@id", "a&amp;b", true),
    LIST.replace('<list name="friends">', '<list name="friends" id="a&amp;b">'),
  );
  assertEquals(
    put(LIST, "/resource-lists/list/external/@label", 'say "hi"', true),
    LIST.replace('<external anchor="http://x"/>', `<external anchor="http://x" label='say "hi"'/>`),
  );
  const bare = `<resource-lists xmlns="${RL}"><list /></resource-lists>`;
  assertEquals(
    put(bare, "/resource-lists/list/@name", "x", true),
    `<resource-lists xmlns="${RL}"><list name="x" /></resource-lists>`,
  );
});

Deno.test("putNode() writes a namespaced attribute with a prefix in scope", () => {
  const doc = `<resource-lists xmlns="${RL}" xmlns:x="urn:x"><list/></resource-lists>`;
  assertEquals(
    put(doc, "/resource-lists/list/@p:flag", "1", true, { "": RL, p: "urn:x" }),
    `<resource-lists xmlns="${RL}" xmlns:x="urn:x"><list x:flag="1"/></resource-lists>`,
  );
});

Deno.test("putNode() declares a prefix for a namespaced attribute when none is in scope", () => {
  const doc = `<resource-lists xmlns="${RL}"><list/></resource-lists>`;
  assertEquals(
    put(doc, "/resource-lists/list/@p:flag", "1", true, { "": RL, p: "urn:x" }),
    `<resource-lists xmlns="${RL}"><list xmlns:p="urn:x" p:flag="1"/></resource-lists>`,
  );
  // The selector's prefix is taken by another namespace here: a fresh one is declared.
  const taken = `<resource-lists xmlns="${RL}" xmlns:p="urn:other"><list/></resource-lists>`;
  assertEquals(
    put(taken, "/resource-lists/list/@p:flag", "1", true, { "": RL, p: "urn:x" }),
    `<resource-lists xmlns="${RL}" xmlns:p="urn:other"><list xmlns:ns1="urn:x" ns1:flag="1"/>` +
      "</resource-lists>",
  );
});

Deno.test("putNode() rejects an invalid attribute value as not-xml-att-value", () => {
  const cases: [string, string][] = [
    ["a<b", 'The body is not a valid XML attribute value: "<" at offset 1 must be written "&lt;"'],
    [
      "AT&T",
      'The body is not a valid XML attribute value: "&" at offset 2 does not start a valid reference (write "&amp;" for "&")',
    ],
    [
      "&#0;",
      'The body is not a valid XML attribute value: "&" at offset 0 does not start a valid reference (write "&amp;" for "&")',
    ],
    [
      `"it's"`,
      'The body is not a valid XML attribute value: it contains both quote characters; write one of them as "&quot;" or "&apos;"',
    ],
    [
      "a\u0000",
      "The body is not a valid XML attribute value: character U+0000 at offset 1 is not allowed",
    ],
  ];
  for (const [body, phrase] of cases) {
    assertEquals(putError(LIST, "/resource-lists/list/@name", body), {
      kind: "conflict",
      condition: { tag: "not-xml-att-value", phrase },
      message: phrase,
    }, body);
  }
});

Deno.test("putNode() is cannot-insert when an attribute change unselects its element", () => {
  const error = putError(
    LIST,
    '/resource-lists/list/entry[@uri="sip:a@example.com"]/@uri',
    "sip:z@example.com",
  );
  assertEquals(conditionTag(error), "cannot-insert");
});

Deno.test("putNode() reports no-parent for an attribute of a missing element", () => {
  const error = putError(LIST, '/resource-lists/list[@name="foes"]/@id', "1");
  assert(error.kind === "conflict" && error.condition.tag === "no-parent");
  assertEquals(error.condition.ancestor, "/resource-lists");
});

Deno.test("putNode() does not treat xmlns as an attribute", () => {
  assertEquals(putError(LIST, "/resource-lists/@xmlns", "urn:x").kind, "bad-request");
});

// -------------------------------------------------------------------------------------------
// DELETE
// -------------------------------------------------------------------------------------------

Deno.test("deleteNode() removes an element with the indentation of its line", () => {
  assertEquals(
    del(LIST, "/resource-lists/list/entry[2]"),
    LIST.replace("\n    <entry uri='sip:b@example.com'/>", ""),
  );
  assertEquals(
    del(LIST, "/resource-lists/list/external"),
    LIST.replace('\n    <external anchor="http://x"/>', ""),
  );
});

Deno.test("deleteNode() removes only the element in compact text", () => {
  const doc = `<resource-lists xmlns="${RL}"><list><entry/> <external/></list></resource-lists>`;
  assertEquals(
    del(doc, "/resource-lists/list/external"),
    `<resource-lists xmlns="${RL}"><list><entry/> </list></resource-lists>`,
  );
});

Deno.test("deleteNode() undoes an insertion byte for byte", () => {
  const selectors = [
    '/resource-lists/list/entry[1][@x="1"]',
    '/resource-lists/list/entry[3][@x="1"]',
    '/resource-lists/list/*[@x="1"]',
  ];
  for (const selector of selectors) {
    const inserted = putNode(parse(LIST), sel(selector), NS, '<entry x="1"/>')._unsafeUnwrap();
    assertEquals(inserted.created, true);
    assertEquals(
      deleteNode(inserted.document, sel(selector), NS)._unsafeUnwrap().text,
      LIST,
      selector,
    );
  }
});

Deno.test("deleteNode() removes an attribute with the whitespace before it", () => {
  assertEquals(
    del(LIST, "/resource-lists/list/external/@anchor"),
    LIST.replace('<external anchor="http://x"/>', "<external/>"),
  );
  const doc = `<r xmlns="urn:r" a="1"\n   b='2' c="3"/>`;
  assertEquals(del(doc, "/r/@b", { "": "urn:r" }), `<r xmlns="urn:r" a="1" c="3"/>`);
});

Deno.test("deleteNode() is cannot-delete when a sibling would move into the position", () => {
  const result = deleteNode(parse(LIST), sel("/resource-lists/list/entry[1]"), NS);
  assertEquals(result._unsafeUnwrapErr(), {
    kind: "conflict",
    condition: {
      tag: "cannot-delete",
      phrase: "Cannot delete /resource-lists/list/entry[1]: afterwards the selector would select " +
        "another node, so the DELETE would not be idempotent",
    },
    message: "Cannot delete /resource-lists/list/entry[1]: afterwards the selector would select " +
      "another node, so the DELETE would not be idempotent",
  });
  // The last entry may go: nothing moves into position 2.
  assertEquals(
    del(LIST, "/resource-lists/list/entry[2]"),
    LIST.replace("\n    <entry uri='sip:b@example.com'/>", ""),
  );
});

Deno.test("deleteNode() refuses to delete the document element", () => {
  const result = deleteNode(parse(LIST), sel("/resource-lists"), NS);
  assertEquals(result._unsafeUnwrapErr(), {
    kind: "conflict",
    condition: {
      tag: "schema-validation-error",
      phrase: "Cannot delete /resource-lists: it is the document element, and a document needs " +
        "one; DELETE the document instead",
    },
    message: "Cannot delete /resource-lists: it is the document element, and a document needs " +
      "one; DELETE the document instead",
  });
});

Deno.test("deleteNode() is not-found for missing or ambiguous nodes", () => {
  const doc = parse(LIST);
  assertEquals(
    deleteNode(doc, sel("/resource-lists/list/entry"), NS)._unsafeUnwrapErr().kind,
    "not-found",
  );
  assertEquals(
    deleteNode(doc, sel("/resource-lists/list/entry[5]"), NS)._unsafeUnwrapErr().kind,
    "not-found",
  );
  assertEquals(
    deleteNode(doc, sel("/resource-lists/list/@id"), NS)._unsafeUnwrapErr().kind,
    "not-found",
  );
});

Deno.test("deleteNode() refuses namespace::* and unbound prefixes", () => {
  assertEquals(
    deleteNode(parse(LIST), sel("/resource-lists/namespace::*"), NS)._unsafeUnwrapErr(),
    {
      kind: "not-allowed",
      message: "DELETE is not allowed on namespace bindings (namespace::*); only GET is",
      allow: ["GET"],
    },
  );
  assertEquals(
    deleteNode(parse(LIST), sel("/x:resource-lists"), NS)._unsafeUnwrapErr().kind,
    "bad-request",
  );
});

// -------------------------------------------------------------------------------------------
// Scale
// -------------------------------------------------------------------------------------------

Deno.test("putNode() and deleteNode() handle 10,000 entries", () => {
  let text =
    `<?xml version="1.0" encoding="UTF-8"?>\n<resource-lists xmlns="${RL}">\n  <list name="all">\n`;
  for (let i = 0; i < 10_000; i++) text += `    <entry uri="sip:${i}@example.com"/>\n`;
  text += "  </list>\n</resource-lists>\n";
  const doc = parse(text);
  // How fast is measured by `deno task bench` (tests/bench/), never by a timed assertion here.
  const selector = sel('/resource-lists/list/entry[@uri="sip:new@example.com"]');
  const put = putNode(doc, selector, NS, '<entry uri="sip:new@example.com"/>')._unsafeUnwrap();
  assertEquals(
    put.text,
    text.replace("  </list>", '    <entry uri="sip:new@example.com"/>\n  </list>'),
  );
  const removed = deleteNode(put.document, selector, NS)._unsafeUnwrap();
  assertEquals(removed.text, text);
  const middle = deleteNode(
    doc,
    sel('/resource-lists/list/entry[@uri="sip:5000@example.com"]'),
    NS,
  );
  assertEquals(
    middle._unsafeUnwrap().text,
    text.replace('\n    <entry uri="sip:5000@example.com"/>', ""),
  );
});
