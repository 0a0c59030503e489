// Property-based tests (fast-check) for every part that takes input from users or servers:
// node selectors, XCAP URIs, XML documents and splice edits, xcap-error documents,
// WWW-Authenticate headers and response interpretation. Seeded: see tests/_faults.ts (FC_SEED).
import fc from "npm:fast-check@^4.3.0";
import { assert, assertEquals } from "@std/assert";
import {
  buildXcapError,
  buildXcapUri,
  decodeUtf8,
  deleteNode,
  formatNodeSelector,
  getNode,
  interpretResponse,
  isXcapError,
  type NodeSelector,
  parseNodeSelector,
  parseWwwAuthenticate,
  parseXcapError,
  parseXcapUri,
  parseXmlDocument,
  putNode,
  type QualifiedName,
  type Step,
  type XcapErrorCondition,
  type XmlDocument,
  type XmlElement,
} from "../mod.ts";
import { fcParams } from "./_faults.ts";

// ---------------------------------------------------------------------------------------------
// Shared arbitraries
// ---------------------------------------------------------------------------------------------

function isXmlCode(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** One code point anywhere in Unicode (no lone surrogates). */
const anyCodePoint = fc.string({ unit: "binary", minLength: 1, maxLength: 1 });
/** One lone UTF-16 surrogate. */
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));

/** Strings of XML characters, rich in the characters that need escaping somewhere. */
const xmlText = fc.string({
  maxLength: 12,
  unit: fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '"',
        "'",
        "&",
        "<",
        ">",
        "/",
        "[",
        "]",
        "@",
        "=",
        ";",
        "#",
        "%",
        "?",
        "~",
        " ",
        "\t",
        "\n",
        "\r",
        "(",
        ")",
        "^",
        "é",
        "\u{1F600}",
        "\u00A0",
        "\uFFFD",
      ),
    },
    { weight: 2, arbitrary: anyCodePoint.filter((c) => isXmlCode(c.codePointAt(0)!)) },
  ),
});

const nameStart = fc.constantFrom("a", "b", "x", "_", "A", "Z", "é", "中", "\u{10000}", "\u00C0");
const nameRest = fc.constantFrom("a", "z", "1", "-", ".", "_", "\u00B7", "\u0300", "é", "9");
/** XML NCNames, including non-ASCII ones and a few that look like syntax. */
const ncName = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.tuple(nameStart, fc.array(nameRest, { maxLength: 5 })).map(([s, r]) =>
      s + r.join("")
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom("namespace", "xmlns", "xml", "child", "text", "node") },
);
const qualifiedName: fc.Arbitrary<QualifiedName> = fc.record(
  { prefix: ncName, local: ncName },
  { requiredKeys: ["local"] },
);
const step: fc.Arbitrary<Step> = fc.record({
  name: qualifiedName,
  position: fc.oneof(fc.integer({ min: 1, max: 30 }), fc.constant(Number.MAX_SAFE_INTEGER)),
  attribute: fc.record({ name: qualifiedName, value: xmlText }),
}, { requiredKeys: [] });
const selectorModel: fc.Arbitrary<NodeSelector> = fc.record({
  steps: fc.array(step, { minLength: 1, maxLength: 5 }),
  terminal: fc.oneof(
    qualifiedName.map((name) => ({ kind: "attribute" as const, name })),
    fc.constant({ kind: "namespace" as const }),
  ),
}, { requiredKeys: ["steps"] });

/** Strings built from selector syntax, so that many of them get deep into the parser. */
const selectorish = fc.string({
  maxLength: 40,
  unit: fc.oneof(
    {
      weight: 6,
      arbitrary: fc.constantFrom(
        "/",
        "a",
        "b:c",
        "[",
        "]",
        "@",
        "=",
        '"',
        "'",
        "1",
        "0",
        "*",
        "&amp;",
        "&#x41;",
        "&#0;",
        "&#x110000;",
        "&",
        ";",
        "namespace::*",
        "::",
        ":",
        "é",
        "\u{10000}",
        " ",
        "(",
        ")",
        ".",
        "99999999999999999999",
      ),
    },
    { weight: 1, arbitrary: anyCodePoint },
    { weight: 1, arbitrary: loneSurrogate },
  ),
});

function assertNoInternalError(message: string): void {
  assert(!message.includes("internal error"), `an exception leaked into: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// Node selectors
// ---------------------------------------------------------------------------------------------

Deno.test("formatNodeSelector() and parseNodeSelector() round-trip every valid selector model", () => {
  fc.assert(
    fc.property(selectorModel, (model) => {
      const text = formatNodeSelector(model);
      assert(text.isOk(), text.isErr() ? text.error.message : "");
      const parsed = parseNodeSelector(text.value);
      assert(parsed.isOk(), parsed.isErr() ? parsed.error.message : "");
      assertEquals(parsed.value, model);
    }),
    fcParams("selector model round trip", 3000),
  );
});

Deno.test("parseNodeSelector() never throws, and what it accepts formats back to itself", () => {
  fc.assert(
    fc.property(fc.oneof(selectorish, fc.string({ unit: "binary", maxLength: 30 })), (text) => {
      const parsed = parseNodeSelector(text);
      if (parsed.isErr()) {
        assertEquals(parsed.error._tag, "InvalidArgument");
        assertEquals(parsed.error.argument, "nodeSelector");
        assert(parsed.error.message.startsWith("Cannot parse node selector "));
        assertNoInternalError(parsed.error.message);
        return;
      }
      const canonical = formatNodeSelector(parsed.value);
      assert(canonical.isOk(), canonical.isErr() ? canonical.error.message : "");
      const again = parseNodeSelector(canonical.value);
      assert(again.isOk());
      assertEquals(again.value, parsed.value);
    }),
    fcParams("selector parse of arbitrary text", 5000),
  );
});

Deno.test("public parsers and builders return errors, never throw, for values of any type", () => {
  // JavaScript callers can pass anything; these functions check their input's type.
  fc.assert(
    fc.property(fc.anything({ withNullPrototype: true, withBoxedValues: true }), (value) => {
      const v = value as never;
      for (
        const result of [
          parseNodeSelector(v),
          formatNodeSelector(v),
          formatNodeSelector({ steps: [v] } as never),
          parseXcapUri(v, "/xcap-root"),
          parseXcapUri("/xcap-root/a/global/index", v),
          buildXcapUri(v),
          buildXcapUri({ xcapRoot: "http://h/", auid: "a", xui: v }),
          buildXcapUri({ xcapRoot: "http://h/", auid: "a", xui: "x", namespaces: v }),
          parseXmlDocument(v),
          parseXcapError(v),
        ]
      ) {
        assert(result.isOk() || result.isErr());
      }
    }),
    fcParams("untyped input", 1000),
  );
});

// ---------------------------------------------------------------------------------------------
// XCAP URIs
// ---------------------------------------------------------------------------------------------

/** Names for XUIs and folders: path syntax, escapes, dot segments, Unicode, controls. */
const segmentName = fc.string({
  minLength: 1,
  maxLength: 10,
  unit: fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        "/",
        "%",
        "%2F",
        "%2e",
        "%25",
        "?",
        "#",
        "~",
        "~~",
        ".",
        "..",
        "@",
        ":",
        "[",
        "]",
        " ",
        "\\",
        ";",
        "=",
        "+",
        "&",
        "'",
        "é",
        "\u{1F600}",
        "sip:",
        "bob",
        "x",
      ),
    },
    { weight: 2, arbitrary: anyCodePoint },
    { weight: 1, arbitrary: fc.constantFrom("\u0000", "\u001f", "\u007f", "\n") },
    { weight: 1, arbitrary: loneSurrogate },
  ),
});
const auid = fc.stringMatching(/^[A-Za-z0-9\-_~.!$&'()*+,;=:@]{1,10}$/);
const xcapRoot = fc.constantFrom(
  "http://127.0.0.1:8080/xcap-root",
  "https://xcap.example.com",
  "http://xcap.example.com/a/b/",
  "http://[::1]:9/x%20y",
  "https://h.example/~user/xcap",
);
const namespaceUri = fc.string({
  minLength: 1,
  maxLength: 12,
  unit: fc.oneof(
    fc.constantFrom("(", ")", "^", "=", "&", "+", " ", "%", "#", "?", "/", "é", "xmlns(", "u"),
    anyCodePoint,
  ),
});

interface UriParts {
  xcapRoot: string;
  auid: string;
  xui?: string;
  global?: boolean;
  filename: string;
  node?: NodeSelector;
  namespaces: Record<string, string>;
}

const uriParts: fc.Arbitrary<UriParts> = fc.record({
  xcapRoot,
  auid,
  xui: segmentName,
  global: fc.boolean(),
  folders: fc.array(segmentName, { minLength: 1, maxLength: 3 }),
  node: fc.option(selectorModel, { nil: undefined }),
  uris: fc.array(namespaceUri, { minLength: 12, maxLength: 12 }),
}).map(({ xcapRoot, auid, xui, global, folders, node, uris }) => {
  // Bind every prefix the selector uses (except xml), each to some URI.
  const namespaces: Record<string, string> = {};
  const names = node === undefined ? [] : [
    ...node.steps.flatMap((s) => [s.name, s.attribute?.name]),
    node.terminal?.kind === "attribute" ? node.terminal.name : undefined,
  ];
  for (const [i, name] of names.entries()) {
    const prefix = name?.prefix;
    if (prefix !== undefined && prefix !== "xml" && prefix !== "xmlns") {
      namespaces[prefix] = uris[i % uris.length]!;
    }
  }
  return {
    xcapRoot,
    auid,
    ...(global ? { global: true } : { xui }),
    filename: folders.join("/"),
    ...(node === undefined ? {} : { node }),
    namespaces,
  };
});

function rootPathOf(root: string): string {
  return new URL(root).pathname.replace(/\/+$/, "");
}

Deno.test("buildXcapUri() output parses back to the same parts, each in its own segment", () => {
  let built = 0;
  fc.assert(
    fc.property(uriParts, (parts) => {
      const uri = buildXcapUri(parts);
      if (uri.isErr()) {
        assertEquals(uri.error._tag, "InvalidArgument");
        assert(["xui", "filename", "auid", "node", "namespaces"].includes(uri.error.argument));
        assertNoInternalError(uri.error.message);
        return;
      }
      built++;
      const text = uri.value;
      // fetch sends exactly this: the WHATWG URL parser changes nothing (no dot segment resolved,
      // nothing re-encoded).
      assertEquals(new URL(text).href, text);
      const rootPath = rootPathOf(parts.xcapRoot);
      const parsed = parseXcapUri(text, rootPath);
      assert(parsed.isOk(), parsed.isErr() ? parsed.error.message : "");
      const back = parsed.value;
      assertEquals(back.auid, parts.auid);
      assertEquals(back.tree, parts.global ? "global" : "users");
      assertEquals(back.xui, parts.xui);
      assertEquals(back.documentPath, parts.filename);
      assertEquals(back.node, parts.node);
      for (const [prefix, ns] of Object.entries(back.namespaces)) {
        assertEquals(ns, parts.namespaces[prefix]);
      }
      // The same through a URL object (what a server's Request gives).
      const viaUrl = parseXcapUri(new URL(text), rootPath);
      assert(viaUrl.isOk());
      assertEquals(viaUrl.value.xui, parts.xui);
      assertEquals(viaUrl.value.documentPath, parts.filename);
      // No input escapes its segment: the raw path has exactly one segment for the XUI and one
      // per folder, none of them a dot segment or the "~~" separator.
      const path = new URL(text).pathname.slice(rootPath.length + 1);
      const separator = path.indexOf("/~~/");
      const documentSegments = (separator < 0 ? path : path.slice(0, separator)).split("/");
      const folders = parts.filename.split("/");
      assertEquals(documentSegments.length, (parts.global ? 2 : 3) + folders.length);
      for (const segment of documentSegments) {
        assert(![".", "..", "~~", ""].includes(segment), `bad raw segment ${segment}`);
        assert(!/%2e%2e/i.test(segment) || segment.length > 6);
      }
      if (!parts.global) assertEquals(decodeURIComponent(documentSegments[2]!), parts.xui);
      assertEquals(
        documentSegments.slice(parts.global ? 2 : 3).map((s) => decodeURIComponent(s)),
        folders,
      );
      if (parts.node === undefined) assertEquals(separator, -1);
    }),
    fcParams("URI build/parse round trip", 3000),
  );
  // The property is not vacuous: most generated parts make a URI.
  assert(built > 300, `only ${built} URIs were built`);
});

/** Edits an attacker or a broken proxy might make to a URI. */
const uriMutation = fc.record({
  at: fc.nat(),
  insert: fc.constantFrom(
    "/../",
    "/./",
    "%2e%2e/",
    "%2E%2E%2F",
    "%",
    "%zz",
    "%C0%AF",
    "%ED%A0%80",
    "~~",
    "/~~/",
    "?",
    "#",
    "//",
    "\\",
    "%00",
    "xmlns(",
    ")",
    "^",
    "%252F",
  ),
  cut: fc.nat({ max: 5 }),
});

Deno.test("parseXcapUri() never throws on mangled or arbitrary URIs", () => {
  fc.assert(
    fc.property(
      uriParts,
      fc.array(uriMutation, { maxLength: 3 }),
      fc.string({ unit: "binary", maxLength: 40 }),
      (parts, mutations, noise) => {
        let text = buildXcapUri(parts).unwrapOr(`http://h/xcap-root/a/users/${noise}/index`);
        for (const m of mutations) {
          const at = m.at % (text.length + 1);
          text = text.slice(0, at) + m.insert + text.slice(at + m.cut);
        }
        for (const candidate of [text, noise, `/xcap-root/${noise}`]) {
          for (const root of ["/xcap-root", "", rootPathOf(parts.xcapRoot)]) {
            const parsed = parseXcapUri(candidate, root);
            if (parsed.isErr()) {
              assertEquals(parsed.error._tag, "InvalidArgument");
              assertNoInternalError(parsed.error.message);
            } else {
              // Whatever parses names a document without dot segments or slashes in names.
              for (const name of parsed.value.documentPath.split("/")) {
                assert(name !== "" && name !== "." && name !== "..");
              }
            }
          }
        }
      },
    ),
    fcParams("URI parse of mangled input", 2000),
  );
});

// ---------------------------------------------------------------------------------------------
// XML documents and splice edits
// ---------------------------------------------------------------------------------------------

type GenNode =
  | { kind: "element"; el: GenElement }
  | { kind: "text"; text: string }
  | { kind: "comment"; text: string }
  | { kind: "cdata"; text: string }
  | { kind: "pi"; text: string };
interface GenElement {
  name: string;
  attributes: { name: string; value: string; quote: '"' | "'" }[];
  children: GenNode[];
  space: string;
}

const elementName = fc.constantFrom("a", "b", "entry", "list", "é");
const textPiece = fc.constantFrom(
  "x",
  " ",
  "\n  ",
  "é",
  "\u{1F600}",
  "&amp;",
  "&lt;",
  "&gt;",
  "&quot;",
  "&#65;",
  "&#x1F600;",
  "\r\n",
  "\t",
  "]",
  "'",
  '"',
);
const genText = fc.array(textPiece, { minLength: 1, maxLength: 6 }).map((p) => p.join(""));
const attrValue = fc.array(
  fc.constantFrom("v", " ", "&amp;", "&lt;", "&#10;", "é", ">", "/", "[", "]"),
  { maxLength: 4 },
).map((p) => p.join(""));

const genElement: fc.Arbitrary<GenElement> = fc.letrec<{ element: GenElement; node: GenNode }>((
  tie,
) => ({
  element: fc.record({
    name: elementName,
    attributes: fc.uniqueArray(
      fc.record({
        name: fc.constantFrom("uri", "name", "id", "z1"),
        value: attrValue,
        quote: fc.constantFrom('"' as const, "'" as const),
      }),
      { maxLength: 3, selector: (a) => a.name },
    ),
    children: fc.array(tie("node"), { maxLength: 4, depthIdentifier: "xml" }),
    space: fc.constantFrom("", " ", "\n"),
  }),
  node: fc.oneof(
    { depthSize: "small", depthIdentifier: "xml" },
    { weight: 3, arbitrary: tie("element").map((el) => ({ kind: "element" as const, el })) },
    { weight: 2, arbitrary: genText.map((text) => ({ kind: "text" as const, text })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(" c ", "-a-", "<x>&", "").map((text) => ({
        kind: "comment" as const,
        text,
      })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom("<a>&", "]]", "x]>", "").map((text) => ({
        kind: "cdata" as const,
        text,
      })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom("", " data ?", " a=b").map((text) => ({
        kind: "pi" as const,
        text,
      })),
    },
  ),
})).element;

function serializeElement(el: GenElement): string {
  const attrs = el.attributes.map((a) => ` ${a.name}=${a.quote}${a.value}${a.quote}`).join("");
  const open = `<${el.name}${attrs}${el.space}`;
  if (el.children.length === 0) return `${open}/>`;
  return `${open}>${el.children.map(serializeNode).join("")}</${el.name}>`;
}

function serializeNode(node: GenNode): string {
  switch (node.kind) {
    case "element":
      return serializeElement(node.el);
    case "text":
      return node.text;
    case "comment":
      return `<!--${node.text}-->`;
    case "cdata":
      return `<![CDATA[${node.text}]]>`;
    case "pi":
      return `<?pi${node.text}?>`;
  }
}

const genDocument = fc.record({
  root: genElement,
  declaration: fc.boolean(),
  namespace: fc.constantFrom(undefined, "urn:test"),
  prolog: fc.constantFrom("", "\n", "<!-- head -->\n"),
  epilog: fc.constantFrom("", "\n", "\n<!-- tail -->"),
}).map(({ root, declaration, namespace, prolog, epilog }) => {
  const withNs = namespace === undefined ? root : {
    ...root,
    attributes: [...root.attributes, { name: "xmlns", value: namespace, quote: '"' as const }],
  };
  const text = (declaration ? '<?xml version="1.0" encoding="UTF-8"?>\n' : "") + prolog +
    serializeElement(withNs) + epilog;
  const ns: Record<string, string> = namespace === undefined ? {} : { "": namespace };
  return { text, ns };
});

/** Every element of a parsed document with a positional selector that selects it. */
function elementsWithSelectors(
  doc: XmlDocument,
): { element: XmlElement; selector: NodeSelector }[] {
  const out: { element: XmlElement; selector: NodeSelector }[] = [];
  const walk = (element: XmlElement, steps: Step[]) => {
    out.push({ element, selector: { steps } });
    const counts = new Map<string, number>();
    for (const child of element.children) {
      if (child.kind !== "element") continue;
      const n = (counts.get(child.localName) ?? 0) + 1;
      counts.set(child.localName, n);
      walk(child, [...steps, { name: { local: child.localName }, position: n }]);
    }
  };
  walk(doc.root, [{ name: { local: doc.root.localName } }]);
  return out;
}

/** Whether `after` is `before` with only [start, end) replaced. */
function onlyChanged(before: string, after: string, start: number, end: number): boolean {
  const tail = before.length - end;
  return after.startsWith(before.slice(0, start)) && after.endsWith(before.slice(end)) &&
    after.length - tail >= start;
}

function escapeAttValue(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;");
}

Deno.test("parseXmlDocument() and node edits keep every byte outside the changed node", () => {
  fc.assert(
    fc.property(genDocument, fc.nat(), xmlText, ({ text, ns }, pick, value) => {
      const parsed = parseXmlDocument(text);
      assert(parsed.isOk(), parsed.isErr() ? `${parsed.error.phrase}\n${text}` : "");
      const doc = parsed.value;
      assertEquals(doc.text, text);
      const all = elementsWithSelectors(doc);
      const { element, selector } = all[pick % all.length]!;

      // GET: the exact source text.
      const got = getNode(doc, selector, ns);
      assert(got.isOk(), got.isErr() ? got.error.message : "");
      assertEquals(got.value.body, text.slice(element.start, element.end));

      // PUT replacing the element: only its span changes.
      const replacement = `<${element.name} fresh="1"/>`;
      const replaced = putNode(doc, selector, ns, replacement);
      assert(replaced.isOk(), replaced.isErr() ? replaced.error.message : "");
      assertEquals(replaced.value.created, false);
      assertEquals(
        replaced.value.text,
        text.slice(0, element.start) + replacement + text.slice(element.end),
      );

      // PUT of an attribute: only the start tag changes, and a GET returns the body as PUT.
      const body = escapeAttValue(value);
      const attrSelector: NodeSelector = {
        ...selector,
        terminal: { kind: "attribute", name: { local: "zz" } },
      };
      const withAttr = putNode(doc, attrSelector, ns, body);
      assert(withAttr.isOk(), withAttr.isErr() ? withAttr.error.message : "");
      assert(onlyChanged(text, withAttr.value.text, element.start, element.contentStart));
      const attr = getNode(withAttr.value.document, attrSelector, ns);
      assert(attr.isOk());
      assertEquals(attr.value.body, body);

      // PUT creating a new child: everything outside the element's content stays.
      const childSelector: NodeSelector = {
        steps: [...selector.steps, {
          name: { local: "new" },
          attribute: { name: { local: "k" }, value },
        }],
      };
      const childBody = `<new k="${escapeAttValue(value)}"/>`;
      const inserted = putNode(doc, childSelector, ns, childBody);
      assert(inserted.isOk(), inserted.isErr() ? inserted.error.message : "");
      assertEquals(inserted.value.created, true);
      assert(onlyChanged(text, inserted.value.text, element.start, element.end));
      assertEquals(
        getNode(inserted.value.document, childSelector, ns)._unsafeUnwrap().body,
        childBody,
      );

      // DELETE: the element goes, with at most the whitespace before it.
      const removed = deleteNode(doc, selector, ns);
      if (element.parent === undefined) {
        assert(removed.isErr() && removed.error.kind === "conflict");
      } else if (removed.isErr()) {
        // A positional delete that would select a later sibling afterwards is refused.
        assert(removed.error.kind === "conflict", removed.error.message);
        assertEquals(removed.error.condition.tag, "cannot-delete");
      } else {
        const after = removed.value.text;
        assert(after.endsWith(text.slice(element.end)));
        const kept = after.length - (text.length - element.end);
        assert(kept <= element.start && kept >= element.parent.contentStart);
        assertEquals(after.slice(0, kept), text.slice(0, kept));
        assert(/^\s*$/.test(text.slice(kept, element.start)));
      }
    }),
    fcParams("XML splice edits", 1500),
  );
});

const xmlNoise = fc.constantFrom(
  "<",
  ">",
  "&",
  "&amp",
  "&#xD800;",
  "&foo;",
  '"',
  "'",
  "=",
  "/",
  "!",
  "?",
  "-",
  "--",
  "[",
  "]]>",
  "<!DOCTYPE a [<!ENTITY e 'x'>]>",
  "<![CDATA[",
  "<?xml version='1.0'?>",
  "xmlns:p='urn:p'",
  "p:",
  "\u0000",
  "\uFFFE",
  "\uD800",
);

Deno.test("parseXmlDocument() and the node operations never throw on broken XML", () => {
  const tags = new Set(["not-well-formed", "not-xml-frag", "constraint-failure", "not-utf-8"]);
  fc.assert(
    fc.property(
      genDocument,
      fc.array(fc.record({ at: fc.nat(), cut: fc.nat({ max: 8 }), insert: xmlNoise }), {
        minLength: 1,
        maxLength: 4,
      }),
      selectorModel,
      fc.string({ maxLength: 20 }),
      ({ text, ns }, mutations, selector, body) => {
        let broken = text;
        for (const m of mutations) {
          const at = m.at % (broken.length + 1);
          broken = broken.slice(0, at) + m.insert + broken.slice(at + m.cut);
        }
        for (const input of [broken, broken.slice(0, mutations[0]!.at % (text.length + 1))]) {
          const parsed = parseXmlDocument(input);
          if (parsed.isErr()) {
            assert(tags.has(parsed.error.tag), parsed.error.tag);
            assert(typeof parsed.error.phrase === "string");
            assertNoInternalError(parsed.error.phrase ?? "");
            continue;
          }
          // It is still well-formed: every offset points at the element it belongs to.
          for (const { element, selector: path } of elementsWithSelectors(parsed.value)) {
            assertEquals(input[element.start], "<");
            assertEquals(input.slice(element.end - 1, element.end), ">");
            assert(getNode(parsed.value, path, ns).isOk());
          }
          for (
            const s of [selector, { steps: [{ name: { local: parsed.value.root.localName } }] }]
          ) {
            getNode(parsed.value, s, ns);
            putNode(parsed.value, s, ns, body);
            putNode(parsed.value, s, ns, broken);
            deleteNode(parsed.value, s, ns);
          }
        }
      },
    ),
    fcParams("XML parse of broken input", 2000),
  );
});

Deno.test("decodeUtf8() never throws and agrees with a strict TextDecoder", () => {
  const strict = new TextDecoder("utf-8", { fatal: true });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 32 }), (bytes) => {
      const decoded = decodeUtf8(bytes);
      let expected: string | undefined;
      try {
        expected = strict.decode(bytes);
      } catch {
        expected = undefined;
      }
      if (expected === undefined) {
        assert(decoded.isErr());
        assertEquals(decoded.error.tag, "not-utf-8");
      } else {
        assertEquals(decoded._unsafeUnwrap(), expected);
      }
    }),
    fcParams("UTF-8 decoding", 3000),
  );
});

// ---------------------------------------------------------------------------------------------
// xcap-error documents
// ---------------------------------------------------------------------------------------------

const phrase = xmlText;
/** Text that survives xs:anyURI whitespace collapsing unchanged. */
const collapsedText = xmlText.map((t) => t.replace(/[\t\n\r ]+/g, " ").trim());
const fragment = fc.constantFrom(
  '<x:detail xmlns:x="urn:x">text &amp; more</x:detail>',
  '<y xmlns="urn:y" a="1"/>',
  "<z xmlns='urn:z'><w/><!-- c --></z>",
);

const condition: fc.Arbitrary<XcapErrorCondition> = fc.oneof(
  fc.record({
    tag: fc.constantFrom(
      "not-well-formed" as const,
      "not-xml-frag" as const,
      "schema-validation-error" as const,
      "not-xml-att-value" as const,
      "cannot-insert" as const,
      "cannot-delete" as const,
      "constraint-failure" as const,
      "not-utf-8" as const,
    ),
    phrase,
  }, { requiredKeys: ["tag"] }),
  fc.record({ tag: fc.constant("no-parent" as const), phrase, ancestor: collapsedText }, {
    requiredKeys: ["tag"],
  }),
  fc.record({
    tag: fc.constant("uniqueness-failure" as const),
    phrase,
    exists: fc.array(
      fc.record({ field: xmlText, altValues: fc.array(xmlText, { maxLength: 3 }) }),
      { maxLength: 3 },
    ),
  }, { requiredKeys: ["tag", "exists"] }),
  fc.record({ tag: fc.constant("extension" as const), phrase, content: fragment }, {
    requiredKeys: ["tag", "content"],
  }),
);

/** XML 1.0 §2.11: a parser passes CR LF and lone CR on as LF. */
function normalizeLineEnds<T>(value: T): T {
  return JSON.parse(JSON.stringify(value).replace(/\\r\\n|\\r/g, "\\n"));
}

Deno.test("buildXcapError() output parses back to the same condition", () => {
  fc.assert(
    fc.property(condition, (c) => {
      const xml = buildXcapError(c);
      const parsed = parseXcapError(xml);
      assert(parsed.isOk(), parsed.isErr() ? `${parsed.error.message}\n${xml}` : "");
      assertEquals(normalizeLineEnds(parsed.value), normalizeLineEnds(c));
    }),
    fcParams("xcap-error build/parse round trip", 2000),
  );
});

Deno.test("parseXcapError() never throws on mangled or arbitrary bodies", () => {
  fc.assert(
    fc.property(
      condition,
      fc.array(fc.record({ at: fc.nat(), cut: fc.nat({ max: 8 }), insert: xmlNoise }), {
        maxLength: 3,
      }),
      fc.string({ unit: "binary", maxLength: 60 }),
      (c, mutations, noise) => {
        let xml = buildXcapError(c);
        for (const m of mutations) {
          const at = m.at % (xml.length + 1);
          xml = xml.slice(0, at) + m.insert + xml.slice(at + m.cut);
        }
        for (const body of [xml, noise, xml.slice(0, noise.length * 3)]) {
          const parsed = parseXcapError(body);
          if (parsed.isErr()) {
            assertEquals(parsed.error._tag, "MalformedResponse");
            assert(parsed.error.message.length > 0);
          }
          // The client's view of a 409 with this body: a Conflict, with or without condition.
          const response = interpretResponse({
            status: 409,
            headers: new Headers({ "content-type": "application/xcap-error+xml" }),
            body,
            url: "http://127.0.0.1/x",
          });
          assert(response.isErr() && response.error._tag === "Conflict");
        }
      },
    ),
    fcParams("xcap-error parse of mangled input", 2000),
  );
});

// ---------------------------------------------------------------------------------------------
// WWW-Authenticate
// ---------------------------------------------------------------------------------------------

const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,8}$/);
const paramValue = fc.string({
  maxLength: 12,
  unit: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('"', "\\", ",", " ", "=", "/", "a", "Z", "9", "\t") },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }) },
  ),
});
const challengeModel = fc.record({
  scheme: token,
  params: fc.uniqueArray(fc.tuple(token, paramValue), {
    maxLength: 5,
    selector: ([name]) => name.toLowerCase(),
  }),
  quoteAll: fc.boolean(),
  space: fc.constantFrom(" ", "  ", "\t"),
});

function quoteValue(value: string): string {
  return `"${value.replace(/[\\"]/g, "\\$&")}"`;
}

Deno.test("parseWwwAuthenticate() reads back every challenge list written per RFC 7235", () => {
  fc.assert(
    fc.property(fc.array(challengeModel, { minLength: 1, maxLength: 3 }), (challenges) => {
      const header = challenges.map(({ scheme, params, quoteAll, space }) =>
        params.length === 0
          ? scheme
          : `${scheme}${space}${
            params.map(([name, value]) =>
              `${name}${space === "\t" ? " = " : "="}${
                !quoteAll && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(value)
                  ? value
                  : quoteValue(value)
              }`
            ).join(`,${space}`)
          }`
      ).join(", ");
      const parsed = parseWwwAuthenticate(header);
      assert(parsed.isOk(), parsed.isErr() ? `${parsed.error.message}` : "");
      assertEquals(
        parsed.value,
        challenges.map(({ scheme, params }) => ({
          scheme,
          params: Object.fromEntries(params.map(([n, v]) => [n.toLowerCase(), v])),
        })),
      );
    }),
    fcParams("WWW-Authenticate round trip", 3000),
  );
});

Deno.test("parseWwwAuthenticate() never throws and stays linear on hostile headers", () => {
  const pieces = fc.constantFrom(
    "Digest",
    "Basic",
    " ",
    ",",
    "=",
    '"',
    "\\",
    "realm",
    "nonce=",
    "a=b",
    "==",
    "abc/+=",
    "\t",
    "\u00ff",
    "é",
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: pieces, maxLength: 30 }),
        fc.string({ unit: "binary", maxLength: 40 }),
      ),
      (header) => {
        const parsed = parseWwwAuthenticate(header);
        if (parsed.isErr()) {
          assertEquals(parsed.error._tag, "MalformedResponse");
          assertEquals(parsed.error.status, 401);
        } else {
          assert(parsed.value.length > 0);
        }
      },
    ),
    fcParams("WWW-Authenticate parse of arbitrary text", 5000),
  );
  // Long adversarial inputs: each is parsed in well under a second (no backtracking blow-up).
  for (
    const header of [
      "Digest " + "a=b, ".repeat(50_000),
      'Digest realm="' + "\\".repeat(200_000),
      "Digest " + "a".repeat(200_000),
      ",".repeat(200_000),
      'Basic realm="x", ' + "Digest , ".repeat(50_000),
      "x=".repeat(100_000),
    ]
  ) {
    const started = performance.now();
    const parsed = parseWwwAuthenticate(header);
    const elapsed = performance.now() - started;
    assert(parsed.isOk() || parsed.error._tag === "MalformedResponse");
    assert(elapsed < 1000, `${elapsed} ms for a ${header.length}-character header`);
    if (parsed.isErr()) assert(parsed.error.message.length < 400, "the message quotes too much");
  }
});

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

const headerValue = fc.string({ unit: "grapheme-ascii", maxLength: 30 });

Deno.test("interpretResponse() never throws and maps every non-2xx status to a typed error", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.integer({ min: 100, max: 599 }), fc.integer({ min: -5, max: 2000 })),
      fc.record({
        etag: headerValue,
        "content-type": headerValue,
        "www-authenticate": headerValue,
        allow: headerValue,
        location: headerValue,
      }, { requiredKeys: [] }),
      fc.oneof(fc.string({ unit: "binary", maxLength: 80 }), fc.constant("")),
      (status, headers, body) => {
        const result = interpretResponse({
          status,
          headers: new Headers(headers),
          body,
          url: "http://127.0.0.1/xcap-root/x",
        });
        if (status >= 200 && status <= 299) {
          assert(result.isOk());
          assertEquals(result.value.body, body);
          // An ETag is kept only when it is usable in a precondition.
          if (result.value.etag !== undefined) {
            assert(!/[\s"]$/.test(result.value.etag) || result.value.etag.endsWith('"'));
          }
        } else {
          assert(result.isErr());
          assert(isXcapError(result.error));
          assert(Object.isFrozen(result.error));
          assert(result.error.message.includes(String(status)));
        }
      },
    ),
    fcParams("response interpretation", 3000),
  );
});
