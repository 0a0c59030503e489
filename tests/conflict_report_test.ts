import {
  assert,
  assertEquals,
  assertFalse,
  assertMatch,
  assertNotMatch,
  assertStringIncludes,
} from "@std/assert";
import type { ConflictCondition } from "../src/client/errors.ts";
import {
  buildConflictReport,
  describeConflictCondition,
  parseConflictReport,
  XCAP_ERROR_NAMESPACE,
} from "../src/client/conflict_report.ts";

const NS = "urn:ietf:params:xml:ns:xcap-error";
const DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

function doc(inner: string): string {
  return `${DECL}<xcap-error xmlns="${NS}">${inner}</xcap-error>`;
}

function parsed(body: string): ConflictCondition {
  const result = parseConflictReport(body);
  if (result.isErr()) throw new Error(`expected Ok, got ${result.error.message}`);
  return result.value;
}

function parseFailure(body: string): string {
  const result = parseConflictReport(body);
  assert(result.isErr(), `expected Err for ${JSON.stringify(String(body).slice(0, 80))}`);
  assertEquals(result.error._tag, "MalformedResponse");
  assert(Object.isFrozen(result.error), "error is frozen");
  assertMatch(result.error.message, /^Cannot parse xcap-error document: /);
  assertNotMatch(result.error.message, /\.$/);
  return result.error.message;
}

const SIMPLE_TAGS = [
  "not-well-formed",
  "not-xml-frag",
  "schema-validation-error",
  "not-xml-att-value",
  "cannot-insert",
  "cannot-delete",
  "constraint-failure",
  "not-utf-8",
] as const;

/** One condition of every kind, with and without optional parts. */
const EVERY_CONDITION: readonly ConflictCondition[] = [
  ...SIMPLE_TAGS.map((tag) => ({ tag })),
  ...SIMPLE_TAGS.map((tag) => ({ tag, phrase: `${tag} happened` })),
  { tag: "no-parent" },
  { tag: "no-parent", ancestor: "http://xcap.example.com/resource-lists/users/sip:a@b/index" },
  {
    tag: "no-parent",
    phrase: 'Parent <list> & "friends" don\'t exist',
    ancestor: "http://xcap.example.com/x?a=1&b=2",
  },
  { tag: "uniqueness-failure", exists: [] },
  { tag: "uniqueness-failure", exists: [{ field: "/*/*[0]/*[1]/@uri", altValues: [] }] },
  {
    tag: "uniqueness-failure",
    phrase: "not unique",
    exists: [
      {
        field: "rls-services/service/@uri",
        altValues: ["sip:mybuddies@example.com", "sip:<buddies>&co@example.com"],
      },
      { field: 'resource-lists/list[@name="a"]/@name', altValues: ["b"] },
    ],
  },
  { tag: "extension", content: "" },
  { tag: "extension", content: '<q:quota xmlns:q="urn:example:quota" left="0">full</q:quota>' },
  { tag: "extension", phrase: "quota", content: "plain text &amp; more" },
];

Deno.test("XCAP_ERROR_NAMESPACE holds the RFC 4825 namespace", () => {
  assertEquals(XCAP_ERROR_NAMESPACE, NS);
});

Deno.test("parseConflictReport() reads every phrase-only condition", () => {
  for (const tag of SIMPLE_TAGS) {
    assertEquals(parsed(doc(`<${tag}/>`)), { tag });
    assertEquals(parsed(doc(`<${tag} phrase="why"></${tag}>`)), { tag, phrase: "why" });
  }
});

Deno.test("parseConflictReport() reads OpenXCAP's cannot-insert report", () => {
  const body = DECL +
    `<xcap-error xmlns="${NS}"><cannot-insert phrase="PUT request failed GET(PUT(x))==x invariant"/></xcap-error>`;
  assertEquals(parsed(body), {
    tag: "cannot-insert",
    phrase: "PUT request failed GET(PUT(x))==x invariant",
  });
});

Deno.test("parseConflictReport() ignores the comment OpenXCAP puts inside not-well-formed", () => {
  const body = doc("<not-well-formed><!--\nline 3: mismatched tag\n--></not-well-formed>");
  assertEquals(parsed(body), { tag: "not-well-formed" });
});

Deno.test("parseConflictReport() reads OpenXCAP's exists without alt-value", () => {
  const body = doc('<uniqueness-failure><exists field="/*/*[0]/*[1]/@uri"/></uniqueness-failure>');
  assertEquals(parsed(body), {
    tag: "uniqueness-failure",
    exists: [{ field: "/*/*[0]/*[1]/@uri", altValues: [] }],
  });
});

Deno.test("parseConflictReport() reads the RFC 4825 uniqueness-failure example", () => {
  const body = `<?xml version="1.0" encoding="UTF-8"?>
<xcap-error xmlns="urn:ietf:params:xml:ns:xcap-error">
 <uniqueness-failure>
  <exists field="rls-services/service/@uri">
   <alt-value>sip:mybuddies@example.com</alt-value>
  </exists>
 </uniqueness-failure>
</xcap-error>
`;
  assertEquals(parsed(body), {
    tag: "uniqueness-failure",
    exists: [{ field: "rls-services/service/@uri", altValues: ["sip:mybuddies@example.com"] }],
  });
});

Deno.test("parseConflictReport() keeps every exists and every alt-value in order", () => {
  const body = doc(
    '<uniqueness-failure phrase="dup">' +
      '<exists field="a"><alt-value>1</alt-value><alt-value>2</alt-value></exists>' +
      '<exists field="b"/>' +
      '<exists field="c"><alt-value><![CDATA[x<y]]></alt-value></exists>' +
      "</uniqueness-failure>",
  );
  assertEquals(parsed(body), {
    tag: "uniqueness-failure",
    phrase: "dup",
    exists: [
      { field: "a", altValues: ["1", "2"] },
      { field: "b", altValues: [] },
      { field: "c", altValues: ["x<y"] },
    ],
  });
});

Deno.test("parseConflictReport() gives an exists without field an empty field", () => {
  const body = doc(
    "<uniqueness-failure><exists><alt-value>v</alt-value></exists></uniqueness-failure>",
  );
  assertEquals(parsed(body), {
    tag: "uniqueness-failure",
    exists: [{ field: "", altValues: ["v"] }],
  });
});

Deno.test("parseConflictReport() reads no-parent with and without ancestor", () => {
  assertEquals(parsed(doc("<no-parent/>")), { tag: "no-parent" });
  assertEquals(
    parsed(
      doc(
        "<no-parent><ancestor>http://h/xcap-root/a/users/u/index?x=1&amp;y=2</ancestor></no-parent>",
      ),
    ),
    { tag: "no-parent", ancestor: "http://h/xcap-root/a/users/u/index?x=1&y=2" },
  );
});

Deno.test("parseConflictReport() trims a pretty-printed ancestor (xs:anyURI)", () => {
  const body = doc(
    "<no-parent>\n  <ancestor>\n    http://h/xcap-root/a\n  </ancestor>\n</no-parent>",
  );
  assertEquals(parsed(body), { tag: "no-parent", ancestor: "http://h/xcap-root/a" });
});

Deno.test("parseConflictReport() takes the first ancestor", () => {
  const body = doc(
    "<no-parent><ancestor>http://a</ancestor><ancestor>http://b</ancestor></no-parent>",
  );
  assertEquals(parsed(body), { tag: "no-parent", ancestor: "http://a" });
});

Deno.test("parseConflictReport() accepts any prefix for the xcap-error namespace", () => {
  const body = `${DECL}<e:xcap-error xmlns:e="${NS}"><e:no-parent phrase="p">` +
    `<e:ancestor>http://h/x</e:ancestor></e:no-parent></e:xcap-error>`;
  assertEquals(parsed(body), { tag: "no-parent", phrase: "p", ancestor: "http://h/x" });
});

Deno.test("parseConflictReport() accepts unqualified inner elements under a prefixed root", () => {
  const body = `<e:xcap-error xmlns:e="${NS}"><e:uniqueness-failure>` +
    `<exists field="f"><alt-value>v</alt-value></exists></e:uniqueness-failure></e:xcap-error>`;
  assertEquals(parsed(body), {
    tag: "uniqueness-failure",
    exists: [{ field: "f", altValues: ["v"] }],
  });
});

Deno.test("parseConflictReport() ignores inner elements in a foreign namespace", () => {
  const body = doc(
    '<no-parent><x:ancestor xmlns:x="urn:other">http://wrong</x:ancestor>' +
      "<ancestor>http://right</ancestor></no-parent>",
  );
  assertEquals(parsed(body), { tag: "no-parent", ancestor: "http://right" });
});

Deno.test("parseConflictReport() skips declaration, comments, PIs and whitespace", () => {
  const body = `\n${DECL}<!-- generated -->\n<?server info?>\n<xcap-error xmlns="${NS}">\n` +
    `  <!-- the reason -->\n  <cannot-delete/>\n</xcap-error>\n<!-- end -->\n`;
  assertEquals(parsed(body), { tag: "cannot-delete" });
});

Deno.test("parseConflictReport() tolerates a byte order mark and whitespace before the declaration", () => {
  assertEquals(parsed(`\uFEFF\n  ${doc("<not-xml-att-value/>")}`), { tag: "not-xml-att-value" });
  assertEquals(parsed(`\r\n${doc("<not-xml-att-value/>")}`), { tag: "not-xml-att-value" });
});

Deno.test("parseConflictReport() skips children in other namespaces before the condition", () => {
  const body = doc('<v:vendor xmlns:v="urn:vendor"><v:code>42</v:code></v:vendor><not-utf-8/>');
  assertEquals(parsed(body), { tag: "not-utf-8" });
});

Deno.test("parseConflictReport() takes the first of several conditions", () => {
  assertEquals(parsed(doc("<cannot-insert/><cannot-delete/>")), { tag: "cannot-insert" });
});

Deno.test("parseConflictReport() resolves references and normalizes the phrase attribute", () => {
  const body = doc(
    '<constraint-failure phrase="a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; ' +
      '&#169; &#x1F600;\tline&#10;next"/>',
  );
  assertEquals(parsed(body), {
    tag: "constraint-failure",
    phrase: "a & b <c> \"d\" 'e' © 😀 line\nnext",
  });
});

Deno.test("parseConflictReport() keeps unknown entities and invalid character references as written", () => {
  const body = doc('<constraint-failure phrase="&nbsp; &#0; &#xD800;"/>');
  assertEquals(parsed(body), { tag: "constraint-failure", phrase: "&nbsp; &#0; &#xD800;" });
});

Deno.test("parseConflictReport() keeps unknown references as written in text, CDATA and fields", () => {
  const body = doc(
    '<uniqueness-failure><exists field="a&nbsp;b"><alt-value>x &copy; y</alt-value>' +
      "<alt-value><![CDATA[&nbsp; &amp;]]></alt-value></exists></uniqueness-failure>",
  );
  assertEquals(parsed(body), {
    tag: "uniqueness-failure",
    exists: [{ field: "a&nbsp;b", altValues: ["x &copy; y", "&nbsp; &amp;"] }],
  });
  // A body that already holds the stand-in for "&" (U+FDD0) is read strictly.
  assertEquals(parsed(doc('<cannot-insert phrase="\uFDD0"/>')), {
    tag: "cannot-insert",
    phrase: "\uFDD0",
  });
  assertStringIncludes(parseFailure(doc('<cannot-insert phrase="\uFDD0 &nbsp;"/>')), "&nbsp;");
});

Deno.test("parseConflictReport() rejects an unclosed comment, PI or DOCTYPE in the prolog", () => {
  for (const prolog of ["<!-- c --> <?pi", "<?pi?> <!-- c", "<!DOCTYPE x [ <!ENTITY a 'b'> "]) {
    assertStringIncludes(parseFailure(`${prolog}<xcap-error xmlns="${NS}"/>`), "line 1");
  }
});

Deno.test("parseConflictReport() reads a report whose XML declaration names another encoding", () => {
  // The executor decoded the body as UTF-8 already; the declaration cannot change that.
  const body = `<?xml version="1.0" encoding="ISO-8859-1"?>\n<xcap-error xmlns="${NS}">` +
    '<no-parent phrase="Parent missing"/></xcap-error>';
  assertEquals(parsed(body), { tag: "no-parent", phrase: "Parent missing" });
});

Deno.test("parseConflictReport() does not expand entities declared in a DOCTYPE", () => {
  const body = `<!DOCTYPE xcap-error [<!ENTITY x "expanded">]>` +
    `<xcap-error xmlns="${NS}"><cannot-insert phrase="&x;"/></xcap-error>`;
  assertEquals(parsed(body), { tag: "cannot-insert", phrase: "&x;" });
});

Deno.test("parseConflictReport() normalizes CR LF line ends", () => {
  const body = doc(
    "<uniqueness-failure><exists field='f'><alt-value>a\r\nb\rc</alt-value></exists></uniqueness-failure>",
  );
  assertEquals(parsed(body), {
    tag: "uniqueness-failure",
    exists: [{ field: "f", altValues: ["a\nb\nc"] }],
  });
});

Deno.test("parseConflictReport() keeps the raw XML inside extension", () => {
  const inner = '\n  <q:quota xmlns:q="urn:example:quota" left="0">full &amp; over</q:quota>\n';
  assertEquals(parsed(doc(`<extension attr=">">${inner}</extension>`)), {
    tag: "extension",
    content: inner,
  });
  assertEquals(parsed(doc('<extension phrase="p"/>')), {
    tag: "extension",
    phrase: "p",
    content: "",
  });
  assertEquals(parsed(doc("<extension></extension>")), { tag: "extension", content: "" });
});

Deno.test("parseConflictReport() returns frozen conditions", () => {
  const condition = parsed(
    doc(
      '<uniqueness-failure><exists field="f"><alt-value>v</alt-value></exists></uniqueness-failure>',
    ),
  );
  assert(Object.isFrozen(condition));
  assert(condition.tag === "uniqueness-failure");
  assert(Object.isFrozen(condition.exists));
  assert(Object.isFrozen(condition.exists[0]));
  assert(Object.isFrozen(condition.exists[0]?.altValues));
});

Deno.test("parseConflictReport() rejects an unknown condition element", () => {
  const message = parseFailure(doc('<quota-exceeded phrase="full"/>'));
  assertStringIncludes(message, "<quota-exceeded>");
  assertStringIncludes(message, "not a condition RFC 4825 defines");
});

Deno.test("parseConflictReport() rejects a root outside the xcap-error namespace", () => {
  assertStringIncludes(
    parseFailure("<xcap-error><no-parent/></xcap-error>"),
    "<xcap-error> in no namespace",
  );
  assertStringIncludes(
    parseFailure('<xcap-error xmlns="urn:ietf:params:xml:ns:other"><no-parent/></xcap-error>'),
    "in namespace urn:ietf:params:xml:ns:other",
  );
  // An undeclared prefix is not namespace-well-formed (Namespaces in XML 1.0 §5).
  assertStringIncludes(
    parseFailure("<e:xcap-error><e:no-parent/></e:xcap-error>"),
    'prefix "e" of element <e:xcap-error> is not declared',
  );
  assertStringIncludes(parseFailure(`<error xmlns="${NS}"><no-parent/></error>`), "<error>");
});

Deno.test("parseConflictReport() rejects xcap-error without a condition", () => {
  assertStringIncludes(parseFailure(doc("")), "contains no condition element");
  assertStringIncludes(parseFailure(doc("  <!-- nothing -->  ")), "contains no condition element");
  assertStringIncludes(
    parseFailure(doc('<no-parent xmlns=""/>')),
    "contains no condition element",
  );
  assertStringIncludes(
    parseFailure(`<e:xcap-error xmlns:e="${NS}"><no-parent/></e:xcap-error>`),
    "contains no condition element",
  );
});

Deno.test("parseConflictReport() rejects empty, truncated and non-XML bodies", () => {
  assertStringIncludes(parseFailure(""), "the body is empty");
  assertStringIncludes(parseFailure("  \r\n\t"), "the body is empty");
  assertStringIncludes(parseFailure(doc("<no-parent>").slice(0, -5)), "not well-formed XML");
  assertStringIncludes(parseFailure(`<xcap-error xmlns="${NS}"><no-parent>`), "not well-formed");
  assertStringIncludes(parseFailure("Conflict"), "not well-formed XML");
  assertStringIncludes(parseFailure('{"error":"conflict"}'), "not well-formed XML");
  assertStringIncludes(parseFailure(`<xcap-error xmlns="${NS}" a="1" a="2"/>`), "line 1");
});

Deno.test("parseConflictReport() rejects an HTML error page", () => {
  parseFailure(
    "<!DOCTYPE html>\n<html><head><title>409 Conflict</title></head>" +
      "<body><h1>Conflict</h1><p>Try again<br></p></body></html>",
  );
  assertStringIncludes(
    parseFailure("<html><body><h1>Conflict</h1></body></html>"),
    "the document element is <html> in no namespace",
  );
});

Deno.test("parseConflictReport() rejects several roots and text outside the root", () => {
  assertStringIncludes(
    parseFailure(doc("<no-parent/>") + "<xcap-error/>"),
    "Only one document element is allowed",
  );
  assertStringIncludes(
    parseFailure(`oops<xcap-error xmlns="${NS}"><no-parent/></xcap-error>`),
    "not well-formed XML",
  );
  assertStringIncludes(parseFailure(doc("<no-parent/>") + "trailing"), "not well-formed XML");
});

Deno.test("parseConflictReport() treats names such as <constructor> and __proto__ as plain data", () => {
  for (
    const body of [
      "<constructor/>",
      "<constructor>x</constructor>",
      doc("<constructor/>"),
      "<__proto__ a='1'/>",
      doc("<toString/>"),
      doc("<hasOwnProperty/>"),
    ]
  ) {
    parseFailure(body);
  }
  // Element and attribute names are plain data.
  assertEquals(parsed(doc("<no-parent><constructor/></no-parent>")), { tag: "no-parent" });
  assertEquals(parsed(doc('<no-parent __proto__="x" phrase="p"/>')), {
    tag: "no-parent",
    phrase: "p",
  });
});

Deno.test("parseConflictReport() survives deep nesting", () => {
  const depth = 100_000;
  parseFailure("<a>".repeat(depth) + "</a>".repeat(depth));
  parseFailure(doc("<extension>" + "<a>".repeat(depth) + "</a>".repeat(depth) + "</extension>"));
  parseFailure("<a>".repeat(depth));
});

Deno.test("parseConflictReport() rejects a non-string body without throwing", () => {
  assertStringIncludes(parseFailure(undefined as unknown as string), "not a string");
  assertStringIncludes(parseFailure(42 as unknown as string), "not a string");
});

Deno.test("buildConflictReport() writes a declaration, the default namespace and the condition", () => {
  const xml = buildConflictReport({ tag: "no-parent", ancestor: "http://h/x?a=1&b=2" });
  assert(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'));
  assertStringIncludes(xml, `<xcap-error xmlns="${NS}">`);
  assertStringIncludes(xml, "<ancestor>http://h/x?a=1&amp;b=2</ancestor>");
  assert(xml.endsWith("</xcap-error>\n"));
});

Deno.test("buildConflictReport() escapes attributes and text", () => {
  const xml = buildConflictReport({
    tag: "uniqueness-failure",
    phrase: 'a<b>&"c"\td\ne\rf',
    exists: [{ field: '@x="1"', altValues: ["<v>&"] }],
  });
  assertStringIncludes(xml, 'phrase="a&lt;b&gt;&amp;&quot;c&quot;&#9;d&#10;e&#13;f"');
  assertStringIncludes(xml, 'field="@x=&quot;1&quot;"');
  assertStringIncludes(xml, "<alt-value>&lt;v&gt;&amp;</alt-value>");
});

Deno.test("buildConflictReport() round-trips through parseConflictReport() for every condition kind", () => {
  for (const condition of EVERY_CONDITION) {
    assertEquals(parsed(buildConflictReport(condition)), condition, JSON.stringify(condition));
  }
});

Deno.test("buildConflictReport() round-trips random phrases, fields and values", () => {
  const pool = [
    "a",
    "Z",
    "0",
    " ",
    "\t",
    "\n",
    "\r",
    "<",
    ">",
    "&",
    '"',
    "'",
    "]]>",
    "é",
    "😀",
    "&amp;",
    "--",
  ];
  let seed = 20240607;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  const randomString = () => {
    let s = "";
    for (let n = next() % 12; n > 0; n--) s += pool[next() % pool.length];
    return s;
  };
  for (let i = 0; i < 300; i++) {
    const condition: ConflictCondition = {
      tag: "uniqueness-failure",
      phrase: randomString(),
      exists: [
        { field: randomString(), altValues: [randomString(), randomString()] },
        { field: randomString(), altValues: [] },
      ],
    };
    assertEquals(parsed(buildConflictReport(condition)), condition);
    const tag = SIMPLE_TAGS[i % SIMPLE_TAGS.length] ?? "not-utf-8";
    const simple: ConflictCondition = { tag, phrase: randomString() };
    assertEquals(parsed(buildConflictReport(simple)), simple);
  }
});

Deno.test("buildConflictReport() replaces characters XML cannot carry", () => {
  const xml = buildConflictReport({ tag: "cannot-insert", phrase: "a\u0000b\u001Fc\uD800d" });
  assertEquals(parsed(xml), { tag: "cannot-insert", phrase: "a\uFFFDb\uFFFDc\uFFFDd" });
});

Deno.test("buildConflictReport() writes malformed extension content as text", () => {
  const xml = buildConflictReport({ tag: "extension", content: "<open> & stray" });
  assertStringIncludes(xml, "<extension>&lt;open&gt; &amp; stray</extension>");
  assertEquals(parsed(xml), { tag: "extension", content: "&lt;open&gt; &amp; stray" });
});

Deno.test("buildConflictReport() never throws on values outside the types", () => {
  const loose = [
    { tag: "uniqueness-failure" },
    { tag: "uniqueness-failure", exists: [{}] },
    { tag: "extension" },
  ] as unknown as ConflictCondition[];
  for (const condition of loose) {
    const xml = buildConflictReport(condition);
    assert(parseConflictReport(xml).isOk(), xml);
  }
});

Deno.test("describeConflictCondition() describes no-parent with its ancestor", () => {
  assertEquals(
    describeConflictCondition({ tag: "no-parent", ancestor: "http://h/xcap-root/a" }),
    "the parent of the new node does not exist (closest ancestor: http://h/xcap-root/a)",
  );
  assertEquals(
    describeConflictCondition({ tag: "no-parent" }),
    "the parent of the new node does not exist",
  );
  assertEquals(
    describeConflictCondition({ tag: "no-parent", ancestor: "" }),
    "the parent of the new node does not exist",
  );
});

Deno.test("describeConflictCondition() names uniqueness fields and alternatives", () => {
  const text = describeConflictCondition({
    tag: "uniqueness-failure",
    exists: [
      { field: "rls-services/service/@uri", altValues: ["sip:x@example.com"] },
      { field: "", altValues: [] },
    ],
  });
  assertStringIncludes(text, "uniqueness constraint");
  assertStringIncludes(
    text,
    '"rls-services/service/@uri" is not unique (alternatives: "sip:x@example.com")',
  );
  assertStringIncludes(text, "a value is not unique");
});

Deno.test("describeConflictCondition() appends the server's phrase", () => {
  assertEquals(
    describeConflictCondition({ tag: "not-xml-frag", phrase: "  bad body  " }),
    'the request body is not a well-formed XML fragment; the server says "bad body"',
  );
  assertEquals(
    describeConflictCondition({ tag: "not-xml-frag", phrase: " " }),
    "the request body is not a well-formed XML fragment",
  );
});

Deno.test("describeConflictCondition() gives a distinct clause for every condition", () => {
  const seen = new Set<string>();
  for (const condition of EVERY_CONDITION) {
    const text = describeConflictCondition(condition);
    assertMatch(text, /^the /);
    assertNotMatch(text, /\.$/);
    if (condition.phrase === undefined && condition.tag !== "extension") seen.add(text);
  }
  // 8 simple tags, 2 no-parent variants, 3 uniqueness-failure variants.
  assertEquals(seen.size, 8 + 2 + 2);
  assertFalse(
    describeConflictCondition({ tag: "extension", content: "x".repeat(1000) }).length > 300,
  );
  assertStringIncludes(
    describeConflictCondition({ tag: "unheard-of" } as unknown as ConflictCondition),
    '"unheard-of"',
  );
});
