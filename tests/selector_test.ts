import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import {
  attributeSelector,
  formatNodeSelector,
  namespaceSelector,
  type NodeSelector,
  nodeSelector,
  parseNodeSelector,
  parseQualifiedName,
  selectorPrefixes,
  type SelectorStep,
  selectorStep,
  type TerminalSelector,
} from "../src/client/selector.ts";

/** The error message of a parse that must fail. */
function parseError(text: string): string {
  const result = parseNodeSelector(text);
  assert(result.isErr(), `expected ${JSON.stringify(text)} to be rejected`);
  assertEquals(result.error._tag, "InvalidArgument");
  assertEquals(result.error.argument, "nodeSelector");
  return result.error.message;
}

function parsed(text: string): NodeSelector {
  return parseNodeSelector(text)._unsafeUnwrap();
}

function formatted(selector: NodeSelector): string {
  return formatNodeSelector(selector)._unsafeUnwrap();
}

const n = (local: string, prefix?: string) => prefix === undefined ? { local } : { prefix, local };

// ------------------------------------------------------------------------------------------
// parseNodeSelector: accepted forms
// ------------------------------------------------------------------------------------------

Deno.test("parseNodeSelector() parses names, positions, predicates and a terminal attribute", () => {
  assertEquals(parsed('/resource-lists/list[@name="friends"]/entry[2]/@uri'), {
    steps: [
      { name: n("resource-lists") },
      { name: n("list"), attribute: { name: n("name"), value: "friends" } },
      { name: n("entry"), position: 2 },
    ],
    terminal: { kind: "attribute", name: n("uri") },
  });
});

Deno.test("parseNodeSelector() parses prefixes, * and position with predicate together", () => {
  assertEquals(parsed('/rl:resource-lists/*[3][@x:id="7"]/rl:entry/@xml:lang'), {
    steps: [
      { name: n("resource-lists", "rl") },
      { position: 3, attribute: { name: n("id", "x"), value: "7" } },
      { name: n("entry", "rl") },
    ],
    terminal: { kind: "attribute", name: n("lang", "xml") },
  });
});

Deno.test("parseNodeSelector() parses the namespace terminal selector", () => {
  assertEquals(parsed("/a/b/namespace::*"), {
    steps: [{ name: n("a") }, { name: n("b") }],
    terminal: { kind: "namespace" },
  });
  // An element that is merely called "namespace" is an ordinary step.
  assertEquals(parsed("/namespace/namespace"), {
    steps: [{ name: n("namespace") }, { name: n("namespace") }],
  });
});

Deno.test("parseNodeSelector() accepts both quote styles", () => {
  assertEquals(parsed(`/a[@b='say "hi"']`).steps[0]?.attribute?.value, 'say "hi"');
  assertEquals(parsed(`/a[@b="it's"]`).steps[0]?.attribute?.value, "it's");
});

Deno.test("parseNodeSelector() resolves entity and character references in values", () => {
  assertEquals(
    parsed('/a[@b="&quot;&amp;&#34;&#x22;&lt;&gt;&apos;&#233;"]').steps[0]?.attribute?.value,
    '"&""<>\'é',
  );
  assertEquals(parsed("/a[@b='&#x1F600;']").steps[0]?.attribute?.value, "😀");
});

Deno.test("parseNodeSelector() keeps /, [, ], ~~, # and ? inside attribute values", () => {
  assertEquals(
    parsed('/a[@b="x/y]z[/~~/#?%20"]/c').steps,
    [{ name: n("a"), attribute: { name: n("b"), value: "x/y]z[/~~/#?%20" } }, { name: n("c") }],
  );
});

Deno.test("parseNodeSelector() accepts non-ASCII names and NCName punctuation", () => {
  assertEquals(parsed("/ä/ü:ö.x-y_z·1[@é='1']").steps, [
    { name: n("ä") },
    { name: n("ö.x-y_z·1", "ü"), attribute: { name: n("é"), value: "1" } },
  ]);
  assertEquals(parsed("/_a/\u{10000}b").steps, [{ name: n("_a") }, { name: n("\u{10000}b") }]);
});

Deno.test("parseNodeSelector() reads positions with leading zeros as numbers", () => {
  assertEquals(parsed("/a[007]").steps[0]?.position, 7);
});

Deno.test("parseNodeSelector() returns deeply frozen values", () => {
  const s = parsed('/a[1][@b="c"]/@d');
  assert(Object.isFrozen(s));
  assert(Object.isFrozen(s.steps));
  assert(Object.isFrozen(s.steps[0]));
  assert(Object.isFrozen(s.steps[0]?.attribute));
  assert(Object.isFrozen(s.steps[0]?.attribute?.name));
  assert(Object.isFrozen(s.terminal));
});

// ------------------------------------------------------------------------------------------
// parseNodeSelector: rejections, each with what and where
// ------------------------------------------------------------------------------------------

Deno.test("parseNodeSelector() rejects an unbalanced predicate", () => {
  assertEquals(
    parseError("/a/b["),
    'Cannot parse node selector "/a/b[": unbalanced bracket at offset 5',
  );
  assertEquals(
    parseError("/a[2"),
    'Cannot parse node selector "/a[2": unbalanced bracket at offset 4',
  );
  assertEquals(
    parseError('/a[@b="c"'),
    'Cannot parse node selector "/a[@b=\\"c\\"": unbalanced bracket at offset 9',
  );
  assertEquals(
    parseError("/a]"),
    'Cannot parse node selector "/a]": unbalanced bracket at offset 2',
  );
  assertEquals(
    parseError("/a[2]]"),
    'Cannot parse node selector "/a[2]]": unbalanced bracket at offset 5',
  );
  assertEquals(
    parseError("/a[2/b]"),
    'Cannot parse node selector "/a[2/b]": unexpected character "/" at offset 4',
  );
});

Deno.test("parseNodeSelector() rejects a selector without leading slash or empty", () => {
  assertEquals(
    parseError("a/b["),
    'Cannot parse node selector "a/b[": it must start with "/" (offset 0)',
  );
  assertEquals(parseError(""), 'Cannot parse node selector "": it is empty');
});

Deno.test("parseNodeSelector() rejects empty steps", () => {
  assertEquals(parseError("/"), 'Cannot parse node selector "/": empty step at offset 1');
  assertEquals(parseError("/a//b"), 'Cannot parse node selector "/a//b": empty step at offset 3');
  assertEquals(parseError("/a/"), 'Cannot parse node selector "/a/": empty step at offset 3');
});

Deno.test("parseNodeSelector() rejects position 0 and absurdly large positions", () => {
  assertEquals(
    parseError("/a[0]"),
    'Cannot parse node selector "/a[0]": position "0" at offset 3 must be 1 or more',
  );
  assertEquals(
    parseError("/a[00]"),
    'Cannot parse node selector "/a[00]": position "00" at offset 3 must be 1 or more',
  );
  assertEquals(
    parseError("/a[99999999999999999999]"),
    'Cannot parse node selector "/a[99999999999999999999]": position "99999999999999999999" ' +
      "at offset 3 is too large",
  );
});

Deno.test("parseNodeSelector() rejects predicates in the wrong order or repeated", () => {
  assertEquals(
    parseError('/a[@x="v"][2]'),
    'Cannot parse node selector "/a[@x=\\"v\\"][2]": the position predicate must come before ' +
      "the attribute predicate (offset 10)",
  );
  assertEquals(
    parseError("/a[1][2]"),
    'Cannot parse node selector "/a[1][2]": a step has at most one position predicate (offset 5)',
  );
  assertEquals(
    parseError('/a[@x="v"][@y="w"]'),
    'Cannot parse node selector "/a[@x=\\"v\\"][@y=\\"w\\"]": a step has at most one attribute ' +
      "predicate (offset 10)",
  );
  assertEquals(
    parseError("/a[]"),
    'Cannot parse node selector "/a[]": empty predicate at offset 2',
  );
});

Deno.test("parseNodeSelector() rejects malformed attribute predicates", () => {
  assertEquals(
    parseError("/a[@b]"),
    'Cannot parse node selector "/a[@b]": attribute predicate without "=" and a value at offset 5',
  );
  assertEquals(
    parseError("/a[@b=c]"),
    'Cannot parse node selector "/a[@b=c]": the attribute value at offset 6 must be quoted ' +
      "with \" or '",
  );
  assertEquals(
    parseError('/a[@b="c]'),
    'Cannot parse node selector "/a[@b=\\"c]": unterminated attribute value: the " at offset 6 ' +
      "is never closed",
  );
  assertEquals(
    parseError('/a[@="c"]'),
    'Cannot parse node selector "/a[@=\\"c\\"]": missing attribute name at offset 4',
  );
});

Deno.test("parseNodeSelector() rejects the closing quote character inside a value", () => {
  // The second " closes the value; what follows is not "]".
  assertEquals(
    parseError('/a[@b="x"y"]'),
    'Cannot parse node selector "/a[@b=\\"x\\"y\\"]": unexpected character "y" at offset 9',
  );
  assertEquals(
    parseError("/a[@b='x'y']"),
    `Cannot parse node selector "/a[@b='x'y']": unexpected character "y" at offset 9`,
  );
});

Deno.test("parseNodeSelector() rejects a raw < or & and unknown references", () => {
  assertEquals(
    parseError('/a[@b="<"]'),
    'Cannot parse node selector "/a[@b=\\"<\\"]": "<" at offset 7 must be written as &lt; in an ' +
      "attribute value",
  );
  assertEquals(
    parseError('/a[@b="a&b"]'),
    'Cannot parse node selector "/a[@b=\\"a&b\\"]": "&" at offset 8 does not start a reference ' +
      '(write "&" as &amp;)',
  );
  assertEquals(
    parseError('/a[@b="&nbsp;"]'),
    'Cannot parse node selector "/a[@b=\\"&nbsp;\\"]": unknown entity reference "&nbsp;" at ' +
      "offset 7",
  );
  assertEquals(
    parseError('/a[@b="&#0;"]'),
    'Cannot parse node selector "/a[@b=\\"&#0;\\"]": character reference "&#0;" at offset 7 is ' +
      "not an XML character",
  );
  assertEquals(
    parseError('/a[@b="&#x110000;"]'),
    'Cannot parse node selector "/a[@b=\\"&#x110000;\\"]": character reference "&#x110000;" at ' +
      "offset 7 is not an XML character",
  );
  assertEquals(
    parseError('/a[@b="&#xD800;"]'),
    'Cannot parse node selector "/a[@b=\\"&#xD800;\\"]": character reference "&#xD800;" at ' +
      "offset 7 is not an XML character",
  );
});

Deno.test("parseNodeSelector() rejects characters that are not XML characters in values", () => {
  assertEquals(
    parseError('/a[@b="\u0001"]'),
    'Cannot parse node selector "/a[@b=\\"\\u0001\\"]": character U+0001 at offset 7 is not ' +
      "allowed in XML",
  );
  assertEquals(
    parseError('/a[@b="\ud800"]'),
    'Cannot parse node selector "/a[@b=\\"\\ud800\\"]": character U+D800 at offset 7 is not ' +
      "allowed in XML",
  );
});

Deno.test("parseNodeSelector() rejects invalid QNames", () => {
  assertEquals(
    parseError("/1a"),
    'Cannot parse node selector "/1a": invalid element name at offset 1: "1" cannot start an ' +
      "XML name",
  );
  assertEquals(
    parseError("/-a"),
    'Cannot parse node selector "/-a": invalid element name at offset 1: "-" cannot start an ' +
      "XML name",
  );
  assertEquals(
    parseError("/a:b:c"),
    'Cannot parse node selector "/a:b:c": unexpected character ":" at offset 4; extension ' +
      "selectors, XPath axes and functions are not supported",
  );
  assertEquals(
    parseError("/a:"),
    'Cannot parse node selector "/a:": missing element name at offset 3',
  );
  assertEquals(
    parseError("/p:*"),
    'Cannot parse node selector "/p:*": "*" at offset 3 is only allowed as a whole element name',
  );
  assertEquals(
    parseError("/a/@1x"),
    'Cannot parse node selector "/a/@1x": invalid attribute name at offset 4: "1" cannot start ' +
      "an XML name",
  );
  assertEquals(
    parseError("/a/."),
    'Cannot parse node selector "/a/.": invalid element name at offset 3: "." cannot start an ' +
      "XML name",
  );
  assertEquals(
    parseError("/a/.."),
    'Cannot parse node selector "/a/..": invalid element name at offset 3: "." cannot start an ' +
      "XML name",
  );
});

Deno.test("parseNodeSelector() rejects a misplaced terminal selector", () => {
  assertEquals(
    parseError("/a/@b/c"),
    'Cannot parse node selector "/a/@b/c": the terminal selector must be the last step (offset 5)',
  );
  assertEquals(
    parseError("/a/namespace::*/c"),
    'Cannot parse node selector "/a/namespace::*/c": the terminal selector must be the last ' +
      "step (offset 15)",
  );
  assertEquals(
    parseError("/@b"),
    'Cannot parse node selector "/@b": an element step must come before "@" (offset 1)',
  );
  assertEquals(
    parseError("/namespace::*"),
    'Cannot parse node selector "/namespace::*": an element step must come before ' +
      '"namespace::*" (offset 1)',
  );
  assertEquals(
    parseError("/a/namespace::*x"),
    'Cannot parse node selector "/a/namespace::*x": unexpected character "x" at offset 15',
  );
});

Deno.test("parseNodeSelector() rejects extension selectors, axes and functions", () => {
  assertEquals(
    parseError("/a/text()"),
    'Cannot parse node selector "/a/text()": unexpected character "(" at offset 7; extension ' +
      "selectors, XPath axes and functions are not supported",
  );
  assertEquals(
    parseError("/a/child::b"),
    'Cannot parse node selector "/a/child::b": unexpected character ":" at offset 8; extension ' +
      "selectors, XPath axes and functions are not supported",
  );
  assertEquals(
    parseError("/a/comment()[1]"),
    'Cannot parse node selector "/a/comment()[1]": unexpected character "(" at offset 10; ' +
      "extension selectors, XPath axes and functions are not supported",
  );
  assertEquals(
    parseError("/a/!ext"),
    'Cannot parse node selector "/a/!ext": invalid element name at offset 3: "!" cannot start ' +
      "an XML name",
  );
});

Deno.test("parseNodeSelector() rejects whitespace outside values", () => {
  assertEquals(
    parseError("/a[ 2]"),
    'Cannot parse node selector "/a[ 2]": unexpected character " " at offset 3',
  );
  assertEquals(
    parseError('/a[@b = "c"]'),
    'Cannot parse node selector "/a[@b = \\"c\\"]": unexpected character " " at offset 5',
  );
  assertEquals(
    parseError("/a /b"),
    'Cannot parse node selector "/a /b": unexpected character " " at offset 2',
  );
});

Deno.test("parseNodeSelector() returns an error, not an exception, for a non-string", () => {
  const result = parseNodeSelector(42 as unknown as string);
  assert(result.isErr());
  assertEquals(result.error.message, "Cannot parse node selector: it is not a string");
});

// ------------------------------------------------------------------------------------------
// formatNodeSelector
// ------------------------------------------------------------------------------------------

Deno.test("formatNodeSelector() writes canonical text with double quotes", () => {
  assertEquals(
    formatted(parsed("/rl:a/*[2][@x:b='v']/c/@d")),
    '/rl:a/*[2][@x:b="v"]/c/@d',
  );
  assertEquals(formatted(parsed("/a/namespace::*")), "/a/namespace::*");
  assertEquals(formatted(parsed("/a[007]")), "/a[7]");
});

Deno.test("formatNodeSelector() picks the quote that avoids escaping", () => {
  const value = (v: string) =>
    formatted({ steps: [{ name: n("a"), attribute: { name: n("b"), value: v } }] });
  assertEquals(value('say "hi"'), `/a[@b='say "hi"']`);
  assertEquals(value("it's"), `/a[@b="it's"]`);
  assertEquals(value(`"it's"`), `/a[@b="&quot;it's&quot;"]`);
  assertEquals(value("a&b<c>d"), '/a[@b="a&amp;b&lt;c>d"]');
  assertEquals(value("t\tn\nr\r"), '/a[@b="t&#9;n&#10;r&#13;"]');
  assertEquals(value(""), '/a[@b=""]');
  assertEquals(value("x/y]z[/~~/"), '/a[@b="x/y]z[/~~/"]');
});

Deno.test("formatNodeSelector() output parses back to the same selector", () => {
  const texts = [
    '/resource-lists/list[@name="friends"]/entry[2]/@uri',
    `/a[@b='"&amp;\t']/c[1][@d="'"]/namespace::*`,
    "/*/*[3]/p:q/@r:s",
    '/a[@b="&#x1F600;é/~~/"]',
  ];
  for (const text of texts) {
    const model = parsed(text);
    assertEquals(parsed(formatted(model)), model, text);
  }
});

Deno.test("formatNodeSelector() rejects an invalid model instead of throwing", () => {
  const message = (s: unknown) => {
    const result = formatNodeSelector(s as NodeSelector);
    assert(result.isErr());
    assertEquals(result.error.argument, "nodeSelector");
    return result.error.message;
  };
  assertEquals(
    message({ steps: [] }),
    "Cannot format node selector: it has no steps (at least one element step is needed)",
  );
  assertEquals(message(null), "Cannot format node selector: it is not a node selector");
  assertEquals(message({}), "Cannot format node selector: it is not a node selector");
  assertEquals(
    message({ steps: [{ name: { local: "1a" } }] }),
    'Cannot format node selector: step 1 has an invalid local name "1a"',
  );
  assertEquals(
    message({ steps: [{ name: { local: "a" } }, { name: { prefix: "", local: "b" } }] }),
    'Cannot format node selector: step 2 has an invalid prefix ""',
  );
  assertEquals(
    message({ steps: [{ name: { local: "a:b" } }] }),
    'Cannot format node selector: step 1 has an invalid local name "a:b"',
  );
  assertEquals(
    message({ steps: [{ name: { local: "a" }, position: 0 }] }),
    "Cannot format node selector: step 1 has position 0; positions are integers from 1",
  );
  assertEquals(
    message({ steps: [{ position: 1.5 }] }),
    "Cannot format node selector: step 1 has position 1.5; positions are integers from 1",
  );
  assertEquals(
    message({ steps: [{ position: NaN }] }),
    "Cannot format node selector: step 1 has position NaN; positions are integers from 1",
  );
  assertEquals(
    message({ steps: [{ attribute: { name: { local: "b" }, value: "\ud800" } }] }),
    "Cannot format node selector: step 1's attribute value contains U+D800 at offset 0, which " +
      "is not an XML character",
  );
  assertEquals(
    message({ steps: [{ attribute: { name: { local: "" }, value: "x" } }] }),
    'Cannot format node selector: step 1\'s attribute predicate has an invalid local name ""',
  );
  assertEquals(
    message({ steps: [{}], terminal: { kind: "attribute", name: { local: "a b" } } }),
    'Cannot format node selector: its terminal attribute selector has an invalid local name "a b"',
  );
  assertEquals(
    message({ steps: [{}], terminal: { kind: "text" } }),
    'Cannot format node selector: its terminal selector has unknown kind "text"',
  );
  assertEquals(
    message({ steps: [null] }),
    "Cannot format node selector: step 1 is not a step",
  );
});

// ------------------------------------------------------------------------------------------
// Builders
// ------------------------------------------------------------------------------------------

Deno.test("selectorStep() builds name, *, prefixed, position and attribute steps", () => {
  assertEquals(selectorStep("entry")._unsafeUnwrap(), { name: n("entry") });
  assertEquals(selectorStep("*")._unsafeUnwrap(), {});
  assertEquals(selectorStep("rl:entry")._unsafeUnwrap(), { name: n("entry", "rl") });
  assertEquals(selectorStep("entry", { position: 3 })._unsafeUnwrap(), {
    name: n("entry"),
    position: 3,
  });
  assertEquals(
    selectorStep("*", { position: 1, attribute: ["x:uri", "sip:a@b"] })._unsafeUnwrap(),
    { position: 1, attribute: { name: n("uri", "x"), value: "sip:a@b" } },
  );
  assertEquals(
    selectorStep("list", { attribute: { name: n("name"), value: "f" } })._unsafeUnwrap(),
    { name: n("list"), attribute: { name: n("name"), value: "f" } },
  );
  assert(Object.isFrozen(selectorStep("a", { attribute: ["b", "c"] })._unsafeUnwrap().attribute));
});

Deno.test("selectorStep() rejects bad names, positions and attributes with the option named", () => {
  const error = (r: ReturnType<typeof selectorStep>) => r._unsafeUnwrapErr();
  assertEquals(error(selectorStep("1a")), {
    _tag: "InvalidArgument",
    argument: "name",
    message: 'Invalid XML name "1a": invalid local name "1a"',
  });
  assertEquals(error(selectorStep("p:")).message, 'Invalid XML name "p:": invalid local name ""');
  assertEquals(error(selectorStep(":a")).message, 'Invalid XML name ":a": invalid prefix ""');
  assertEquals(
    error(selectorStep("p:*")).message,
    'Invalid XML name "p:*": invalid local name "*"',
  );
  assertEquals(error(selectorStep("a", { position: 0 })), {
    _tag: "InvalidArgument",
    argument: "options.position",
    message: "Invalid step position 0: positions are integers from 1",
  });
  assertEquals(error(selectorStep("a", { position: 2.5 })).argument, "options.position");
  assertEquals(error(selectorStep("a", { attribute: ["b c", "v"] })), {
    _tag: "InvalidArgument",
    argument: "options.attribute",
    message: 'Invalid XML name "b c": invalid local name "b c"',
  });
  assertEquals(error(selectorStep("a", { attribute: ["b", "\u0000"] })), {
    _tag: "InvalidArgument",
    argument: "options.attribute",
    message: "Invalid attribute value: it contains U+0000 at offset 0, which is not an XML " +
      "character",
  });
  assertEquals(
    error(selectorStep("a", { attribute: { name: n("-x"), value: "v" } })).message,
    'Invalid attribute name: it has an invalid local name "-x"',
  );
});

Deno.test("attributeSelector() and namespaceSelector() build terminal selectors", () => {
  assertEquals(attributeSelector("uri")._unsafeUnwrap(), { kind: "attribute", name: n("uri") });
  assertEquals(
    attributeSelector("xml:lang")._unsafeUnwrap(),
    { kind: "attribute", name: n("lang", "xml") },
  );
  assertEquals(attributeSelector("@uri")._unsafeUnwrapErr().argument, "name");
  assertEquals(namespaceSelector(), { kind: "namespace" });
  assert(Object.isFrozen(namespaceSelector()));
});

Deno.test("nodeSelector() assembles and freezes a copy of the steps", () => {
  const steps: SelectorStep[] = [selectorStep("a")._unsafeUnwrap()];
  const built = nodeSelector(steps, namespaceSelector());
  steps.push(selectorStep("b")._unsafeUnwrap());
  assertEquals(built, { steps: [{ name: n("a") }], terminal: { kind: "namespace" } });
  assert(Object.isFrozen(built) && Object.isFrozen(built.steps));
  assertEquals(nodeSelector([selectorStep("a")._unsafeUnwrap()]), { steps: [{ name: n("a") }] });
  assert(!("terminal" in nodeSelector([])));
});

Deno.test("nodeSelector() with builders formats to the expected RFC-style text", () => {
  const selector = nodeSelector(
    [
      selectorStep("resource-lists")._unsafeUnwrap(),
      selectorStep("list", { attribute: ["name", "friends"] })._unsafeUnwrap(),
      selectorStep("entry", { attribute: ["uri", "sip:bob@example.com"] })._unsafeUnwrap(),
      selectorStep("display-name")._unsafeUnwrap(),
    ],
  );
  assertEquals(
    formatted(selector),
    '/resource-lists/list[@name="friends"]/entry[@uri="sip:bob@example.com"]/display-name',
  );
  assertEquals(parsed(formatted(selector)), selector);
});

Deno.test("parseQualifiedName() splits prefix and local name and validates both", () => {
  assertEquals(parseQualifiedName("a")._unsafeUnwrap(), { local: "a" });
  assertEquals(parseQualifiedName("p:a")._unsafeUnwrap(), { prefix: "p", local: "a" });
  assertEquals(
    parseQualifiedName("")._unsafeUnwrapErr().message,
    'Invalid XML name "": invalid local name ""',
  );
  assertEquals(
    parseQualifiedName("a:b:c")._unsafeUnwrapErr().message,
    'Invalid XML name "a:b:c": invalid local name "b:c"',
  );
});

// ------------------------------------------------------------------------------------------
// selectorPrefixes
// ------------------------------------------------------------------------------------------

Deno.test("selectorPrefixes() lists each prefix once in order of first use", () => {
  assertEquals(selectorPrefixes(parsed('/b:x/a:y[@b:z="1"]/*[@c:q="2"]/@d:w')), [
    "b",
    "a",
    "c",
    "d",
  ]);
  assertEquals(selectorPrefixes(parsed('/x/y[@z="1"]/@w')), []);
  assertEquals(selectorPrefixes(parsed("/p:x/namespace::*")), ["p"]);
});

// ------------------------------------------------------------------------------------------
// Round trip over generated selectors (deterministic LCG, no Math.random)
// ------------------------------------------------------------------------------------------

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const NAME_STARTS = ["a", "Z", "_", "é", "ü", "ж", "中", "\u{10000}"];
const NAME_CHARS = [...NAME_STARTS, "0", "9", ".", "-", "·", "\u0301"];
const VALUE_CHARS = [
  "a",
  " ",
  '"',
  "'",
  "&",
  "<",
  ">",
  "/",
  "[",
  "]",
  "~",
  "%",
  "#",
  "?",
  "=",
  "@",
  "\t",
  "\n",
  "é",
  "😀",
  ";",
  "*",
];

function generateSelector(random: () => number): NodeSelector {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const ncname = () => {
    let s = pick(NAME_STARTS);
    const length = Math.floor(random() * 4);
    for (let i = 0; i < length; i++) s += pick(NAME_CHARS);
    return s;
  };
  const qname = () => random() < 0.4 ? { prefix: ncname(), local: ncname() } : { local: ncname() };
  const value = () => {
    let s = "";
    const length = Math.floor(random() * 8);
    for (let i = 0; i < length; i++) s += pick(VALUE_CHARS);
    return s;
  };
  const steps: SelectorStep[] = [];
  const count = 1 + Math.floor(random() * 4);
  for (let i = 0; i < count; i++) {
    const s: { name?: ReturnType<typeof qname>; position?: number; attribute?: object } = {};
    if (random() < 0.85) s.name = qname();
    if (random() < 0.4) s.position = 1 + Math.floor(random() * 20);
    if (random() < 0.5) s.attribute = { name: qname(), value: value() };
    steps.push(s as SelectorStep);
  }
  const r = random();
  const terminal: TerminalSelector | undefined = r < 0.25
    ? { kind: "attribute", name: qname() }
    : r < 0.4
    ? { kind: "namespace" }
    : undefined;
  return terminal === undefined ? { steps } : { steps, terminal };
}

Deno.test("formatNodeSelector() and parseNodeSelector() round-trip generated selectors", () => {
  const random = lcg(20070501);
  for (let i = 0; i < 2000; i++) {
    const selector = generateSelector(random);
    const text = formatNodeSelector(selector);
    assert(text.isOk(), `case ${i}: ${JSON.stringify(selector)}`);
    const back = parseNodeSelector(text.value);
    assert(back.isOk(), `case ${i}: ${text.value}: ${back.isErr() && back.error.message}`);
    assertEquals(back.value, selector, `case ${i}: ${text.value}`);
    // Canonical text is a fixed point.
    assertStrictEquals(formatNodeSelector(back.value)._unsafeUnwrap(), text.value);
  }
});
