/**
 * The `application/xcap-error+xml` document of RFC 4825 §11 in both directions: parse the body
 * of a 409 response into an {@linkcode ConflictCondition}, build one for a server to send, and
 * describe a condition in words for error messages.
 *
 * @module
 */
import { err, ok, type Result } from "npm:neverthrow@^8.2.0";
import { XMLParser, XMLValidator } from "npm:fast-xml-parser@^5.12.1";
import type {
  ConflictCondition,
  ConflictConditionTag,
  MalformedResponseError,
  NonUniqueField,
} from "./errors.ts";

/**
 * The XML namespace of xcap-error documents (RFC 4825 §11.2).
 *
 * @example Usage
 * ```ts
 * import { XCAP_ERROR_NAMESPACE } from "./conflict_report.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(XCAP_ERROR_NAMESPACE, "urn:ietf:params:xml:ns:xcap-error");
 * ```
 */
export const XCAP_ERROR_NAMESPACE = "urn:ietf:params:xml:ns:xcap-error";

/** Condition elements whose only content is the optional `phrase` attribute. */
const SIMPLE_TAGS: ReadonlySet<string> = new Set<ConflictConditionTag>([
  "not-well-formed",
  "not-xml-frag",
  "schema-validation-error",
  "not-xml-att-value",
  "cannot-insert",
  "cannot-delete",
  "constraint-failure",
  "not-utf-8",
]);

type SimpleTag = Exclude<ConflictConditionTag, "no-parent" | "uniqueness-failure" | "extension">;

/** One node of fast-xml-parser's `preserveOrder` output. */
type OrderedNode = Record<string, unknown>;

/** An element with its namespace resolved. */
interface ElementView {
  /** The qualified name as written (`prefix:local` or `local`). */
  readonly name: string;
  /** The local name. */
  readonly local: string;
  /** The namespace URI; `undefined` for no namespace or an undeclared prefix. */
  readonly namespace: string | undefined;
  /** Attributes as written (values still raw: references not resolved). */
  readonly attributes: ReadonlyMap<string, string>;
  /** The child nodes. */
  readonly children: readonly OrderedNode[];
  /** Prefix bindings in scope inside this element (`""` is the default namespace). */
  readonly scope: ReadonlyMap<string, string>;
  /** `[start, end)` of the element in the parsed text. */
  readonly span?: { readonly startIndex: number; readonly endIndex: number };
}

const ATTRIBUTES_KEY = ":@";
const TEXT_KEY = "#text";
const CDATA_KEY = "#cdata";
const COMMENT_KEY = "#comment";

// Entities are resolved by `decodeReferences` below, not by the parser: XML knows five named
// entities and numeric references, nothing else, and nothing declared in a DOCTYPE is expanded.
const PARSER = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  commentPropName: COMMENT_KEY,
  cdataPropName: CDATA_KEY,
  textNodeName: TEXT_KEY,
  processEntities: false,
  captureMetaData: true,
});
const META = XMLParser.getMetaDataSymbol() as unknown as symbol;

/**
 * Parse an `application/xcap-error+xml` body (RFC 4825 §11) into its condition.
 *
 * The document element must be `xcap-error` in the namespace `urn:ietf:params:xml:ns:xcap-error`,
 * whatever prefix binds it (a default namespace or `<e:xcap-error xmlns:e="...">`). The
 * condition is its first child element in that namespace; an XML declaration (even after a
 * byte order mark or stray whitespace), comments, processing instructions, whitespace and
 * elements in other namespaces around it are skipped. CR LF line ends become LF (XML 1.0 §2.11).
 *
 * - `phrase` is read from the unprefixed `phrase` attribute of any condition.
 * - `no-parent`: `ancestor` is the text of its first `<ancestor>` child, whitespace-collapsed as
 *   `xs:anyURI` requires; absent when there is no `<ancestor>`.
 * - `uniqueness-failure`: one entry per `<exists>` child, `field` from its `field` attribute (`""`
 *   if the server left it out) and the texts of its `<alt-value>` children (OpenXCAP sends
 *   `<exists field="..."/>` with none).
 * - `extension`: `content` is the raw XML between its start and end tags, as sent.
 * - `<ancestor>`, `<exists>` and `<alt-value>` are accepted in the xcap-error namespace or in no
 *   namespace (a server that prefixes only the root element means the same thing).
 *
 * A condition element the schema does not define is an error, not an `extension`: the schema
 * of RFC 4825 §11.2 allows only the listed elements, and extensions travel inside
 * `<extension>`. RFC 4825 §11 has a client that does not understand an extension treat the
 * error as an unqualified 409; an unknown element gets the same treatment, which is what
 * {@linkcode interpretResponse} does with any `Err` from here (a `Conflict` without condition).
 *
 * Character and entity references (`&amp;`, `&#169;`) are resolved; named entities other than
 * XML's five are kept as written.
 *
 * @param body The response body.
 * @returns The frozen condition, or `MalformedResponse` saying why the body is not an
 * xcap-error document. Never throws, whatever the input.
 *
 * @example Parsing an OpenXCAP no-parent report
 * ```ts
 * import { parseConflictReport } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const body = `<?xml version="1.0" encoding="UTF-8"?>
 * <xcap-error xmlns="urn:ietf:params:xml:ns:xcap-error"><no-parent phrase="Parent does not exist"><ancestor>http://xcap.example.com/resource-lists/users/sip:bob@example.com/index</ancestor></no-parent></xcap-error>`;
 * assertEquals(parseConflictReport(body)._unsafeUnwrap(), {
 *   tag: "no-parent",
 *   phrase: "Parent does not exist",
 *   ancestor: "http://xcap.example.com/resource-lists/users/sip:bob@example.com/index",
 * });
 * assertEquals(parseConflictReport("<html>oops</html>").isErr(), true);
 * ```
 */
export function parseConflictReport(
  body: string,
): Result<ConflictCondition, MalformedResponseError> {
  if (typeof body !== "string") return malformed("the body is not a string");
  // XML 1.0 §2.11: a processor passes CR LF and lone CR on as LF. Whitespace (or a byte order
  // mark) before the XML declaration is not XML, but some servers send it: drop it.
  const text = body.replace(/\r\n?/g, "\n").replace(/^[\uFEFF \t\n]+/, "");
  if (text.trim() === "") return malformed("the body is empty");
  let validation: ReturnType<typeof XMLValidator.validate>;
  try {
    validation = XMLValidator.validate(text);
  } catch (e) {
    return malformed(`the XML validator failed on it (${describeThrown(e)})`);
  }
  if (validation !== true) {
    const { msg, line, col } = validation.err;
    const where = col === undefined ? `line ${line}` : `line ${line}, column ${col}`;
    return malformed(`it is not well-formed XML (${msg.replace(/\.$/, "")} at ${where})`);
  }
  let tree: unknown;
  try {
    tree = PARSER.parse(text);
  } catch (e) {
    return malformed(`the XML parser rejected it (${describeThrown(e)})`);
  }
  if (!Array.isArray(tree)) return malformed("the XML parser returned no document");

  const roots: OrderedNode[] = [];
  for (const node of tree as OrderedNode[]) {
    const key = nodeKey(node);
    if (key === TEXT_KEY) {
      if (String(node[TEXT_KEY]).trim() !== "") {
        return malformed("it has text outside the document element");
      }
    } else if (key !== undefined && !key.startsWith("?") && key !== COMMENT_KEY) {
      roots.push(node);
    }
  }
  const [rootNode] = roots;
  if (rootNode === undefined) return malformed("it has no document element");
  if (roots.length > 1) return malformed("it has more than one document element");

  const root = viewElement(rootNode, new Map());
  if (root.local !== "xcap-error" || root.namespace !== XCAP_ERROR_NAMESPACE) {
    return malformed(
      `the document element is <${root.name}> ${describeNamespace(root.namespace)}, not ` +
        `<xcap-error> in namespace ${XCAP_ERROR_NAMESPACE}`,
    );
  }
  const conditionElement = childElements(root).find((e) => e.namespace === XCAP_ERROR_NAMESPACE);
  if (conditionElement === undefined) {
    return malformed(`<xcap-error> contains no condition element`);
  }
  return readCondition(conditionElement, text);
}

/**
 * Build an `application/xcap-error+xml` document (RFC 4825 §11) for a condition: an XML
 * declaration, `<xcap-error>` with the xcap-error namespace as default namespace, and the
 * condition element with its `phrase`, `<ancestor>`, `<exists>`/`<alt-value>` children or
 * extension content.
 *
 * Attribute values and text are escaped, so {@linkcode parseConflictReport} returns a condition equal
 * to the one given, with these exceptions: characters XML 1.0 cannot carry at all (most C0
 * controls, lone surrogates, U+FFFE, U+FFFF) become U+FFFD; `ancestor` comes back
 * whitespace-collapsed (it is an `xs:anyURI`); and an extension `content` that is
 * not a well-formed XML fragment is written as escaped text rather than as markup. Extension
 * content is the caller's XML: prefixes used in it must be declared in it.
 *
 * @param condition The condition to report.
 * @returns The document, ending with a newline.
 *
 * @example Building a uniqueness-failure report
 * ```ts
 * import { buildConflictReport, parseConflictReport } from "@xcap/xcap";
 * import { assertEquals, assertStringIncludes } from "@std/assert";
 *
 * const condition = {
 *   tag: "uniqueness-failure",
 *   exists: [{ field: "rls-services/service/@uri", altValues: ["sip:mybuddies@example.com"] }],
 * } as const;
 * const xml = buildConflictReport(condition);
 * assertStringIncludes(xml, '<exists field="rls-services/service/@uri">');
 * assertEquals(parseConflictReport(xml)._unsafeUnwrap(), condition);
 * ```
 */
export function buildConflictReport(condition: ConflictCondition): string {
  if (condition === null || typeof condition !== "object") {
    // Only reachable from untyped callers: still answer with a valid (empty) extension report.
    return buildConflictReport({ tag: "extension", content: "" });
  }
  const tag = condition.tag;
  const phrase = condition.phrase === undefined
    ? ""
    : ` phrase="${escapeAttribute(condition.phrase)}"`;
  let element: string;
  switch (condition.tag) {
    case "no-parent":
      element = condition.ancestor === undefined
        ? `  <no-parent${phrase}/>\n`
        : `  <no-parent${phrase}>\n    <ancestor>${
          escapeText(condition.ancestor)
        }</ancestor>\n  </no-parent>\n`;
      break;
    case "uniqueness-failure": {
      const exists = (condition.exists ?? []).map((entry) => {
        const field = ` field="${escapeAttribute(entry.field ?? "")}"`;
        const altValues = entry.altValues ?? [];
        if (altValues.length === 0) return `    <exists${field}/>\n`;
        const alts = altValues.map((v) => `      <alt-value>${escapeText(v)}</alt-value>\n`);
        return `    <exists${field}>\n${alts.join("")}    </exists>\n`;
      });
      element = exists.length === 0
        ? `  <uniqueness-failure${phrase}/>\n`
        : `  <uniqueness-failure${phrase}>\n${exists.join("")}  </uniqueness-failure>\n`;
      break;
    }
    case "extension": {
      const content = condition.content ?? "";
      element = content === ""
        ? `  <extension${phrase}/>\n`
        : `  <extension${phrase}>${
          isWellFormedFragment(content) ? content : escapeText(content)
        }</extension>\n`;
      break;
    }
    default:
      element = `  <${tag}${phrase}/>\n`;
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<xcap-error xmlns="${XCAP_ERROR_NAMESPACE}">\n${element}</xcap-error>\n`;
}

/**
 * Say in words what a condition means, for error messages: a lower-case clause without a final
 * period, e.g. `the parent of the new node does not exist (closest ancestor: http://...)`. The
 * server's `phrase`, when there is one, is quoted at the end (`; the server says "..."`).
 *
 * @param condition The condition to describe.
 * @returns The description.
 *
 * @example Usage
 * ```ts
 * import { describeConflictCondition } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(
 *   describeConflictCondition({ tag: "no-parent", ancestor: "http://xcap.example.com/x/~~/a" }),
 *   "the parent of the new node does not exist (closest ancestor: http://xcap.example.com/x/~~/a)",
 * );
 * assertEquals(
 *   describeConflictCondition({ tag: "cannot-delete", phrase: "not idempotent" }),
 *   'the node cannot be deleted: deleting it would not be idempotent; the server says "not idempotent"',
 * );
 * ```
 */
export function describeConflictCondition(condition: ConflictCondition): string {
  let text: string;
  // Meanings from the schema documentation of RFC 4825 §11.2.
  switch (condition.tag) {
    case "not-well-formed":
      text = "the request body is not a well-formed XML document";
      break;
    case "not-xml-frag":
      text = "the request body is not a well-formed XML fragment";
      break;
    case "schema-validation-error":
      text = "the document would not be valid against the application usage's schema";
      break;
    case "not-xml-att-value":
      text = "the request body is not a valid XML attribute value";
      break;
    case "cannot-insert":
      text = "the node cannot be inserted: a GET of the new resource would not return the " +
        "content that was PUT";
      break;
    case "cannot-delete":
      text = "the node cannot be deleted: deleting it would not be idempotent";
      break;
    case "constraint-failure":
      text = "the document would violate a constraint of the application usage";
      break;
    case "not-utf-8":
      text = "the document would not be encoded in UTF-8";
      break;
    case "no-parent":
      text = "the parent of the new node does not exist";
      if (condition.ancestor !== undefined && condition.ancestor !== "") {
        text += ` (closest ancestor: ${condition.ancestor})`;
      }
      break;
    case "uniqueness-failure": {
      const fields = (condition.exists ?? []).map(describeExists);
      text = "the document would break a uniqueness constraint of the application usage";
      if (fields.length > 0) text += `: ${fields.join("; ")}`;
      break;
    }
    case "extension": {
      const content = collapse(condition.content ?? "");
      text = "the server reported an extension condition";
      if (content !== "") text += ` (${truncate(content, 200)})`;
      break;
    }
    default:
      // Only reachable when a caller passes a tag outside the type.
      text = `the server reported the condition ${
        JSON.stringify(String((condition as { tag: unknown }).tag))
      }`;
  }
  if (condition.phrase !== undefined && condition.phrase.trim() !== "") {
    text += `; the server says ${JSON.stringify(condition.phrase.trim())}`;
  }
  return text;
}

function describeExists(entry: NonUniqueField): string {
  const field = entry.field === "" ? "a value" : `${JSON.stringify(entry.field)}`;
  const alts = entry.altValues ?? [];
  return alts.length === 0
    ? `${field} is not unique`
    : `${field} is not unique (alternatives: ${alts.map((v) => JSON.stringify(v)).join(", ")})`;
}

function readCondition(
  element: ElementView,
  text: string,
): Result<ConflictCondition, MalformedResponseError> {
  const phraseRaw = element.attributes.get("phrase");
  const phrase = phraseRaw === undefined ? {} : { phrase: decodeAttribute(phraseRaw) };
  if (SIMPLE_TAGS.has(element.local)) {
    return ok(Object.freeze({ tag: element.local as SimpleTag, ...phrase }));
  }
  switch (element.local) {
    case "no-parent": {
      const ancestor = childElements(element).find((e) =>
        e.local === "ancestor" && isOwnOrNoNamespace(e)
      );
      return ok(Object.freeze({
        tag: "no-parent",
        ...phrase,
        ...(ancestor === undefined ? {} : { ancestor: collapse(textContent(ancestor)) }),
      }));
    }
    case "uniqueness-failure": {
      const exists = childElements(element)
        .filter((e) => e.local === "exists" && isOwnOrNoNamespace(e))
        .map((e): NonUniqueField => {
          const altValues = childElements(e)
            .filter((a) => a.local === "alt-value" && isOwnOrNoNamespace(a))
            .map(textContent);
          return Object.freeze({
            field: decodeAttribute(e.attributes.get("field") ?? ""),
            altValues: Object.freeze(altValues),
          });
        });
      return ok(
        Object.freeze({ tag: "uniqueness-failure", ...phrase, exists: Object.freeze(exists) }),
      );
    }
    case "extension":
      return ok(Object.freeze({ tag: "extension", ...phrase, content: innerXml(element, text) }));
    default:
      return malformed(
        `<${element.name}> is not a condition RFC 4825 defines (expected one of ` +
          `${[...SIMPLE_TAGS, "no-parent", "uniqueness-failure", "extension"].join(", ")})`,
      );
  }
}

function isOwnOrNoNamespace(element: ElementView): boolean {
  return element.namespace === XCAP_ERROR_NAMESPACE || element.namespace === undefined;
}

/** The key naming a `preserveOrder` node: the element name, `#text`, `#comment`, `?xml`... */
function nodeKey(node: OrderedNode): string | undefined {
  return Object.keys(node).find((k) => k !== ATTRIBUTES_KEY);
}

function viewElement(node: OrderedNode, parentScope: ReadonlyMap<string, string>): ElementView {
  const name = nodeKey(node) ?? "";
  const rawAttributes = node[ATTRIBUTES_KEY];
  // A Map, not an object: attribute names such as `__proto__` must stay plain data.
  const attributes = new Map<string, string>();
  if (rawAttributes !== null && typeof rawAttributes === "object") {
    for (const [k, v] of Object.entries(rawAttributes)) attributes.set(k, String(v));
  }
  let scope = parentScope;
  for (const [attribute, value] of attributes) {
    if (attribute === "xmlns" || attribute.startsWith("xmlns:")) {
      if (scope === parentScope) scope = new Map(parentScope);
      (scope as Map<string, string>).set(
        attribute === "xmlns" ? "" : attribute.slice(6),
        decodeAttribute(value),
      );
    }
  }
  const colon = name.indexOf(":");
  const prefix = colon === -1 ? "" : name.slice(0, colon);
  const local = colon === -1 ? name : name.slice(colon + 1);
  const uri = scope.get(prefix);
  const children = node[name];
  const span = (node as Record<symbol, unknown>)[META];
  return {
    name,
    local,
    // `xmlns=""` undeclares the default namespace (Namespaces in XML §6.2).
    namespace: uri === undefined || uri === "" ? undefined : uri,
    attributes,
    children: Array.isArray(children) ? (children as OrderedNode[]) : [],
    scope,
    ...(isSpan(span) ? { span } : {}),
  };
}

function isSpan(value: unknown): value is { startIndex: number; endIndex: number } {
  return value !== null && typeof value === "object" &&
    typeof (value as { startIndex?: unknown }).startIndex === "number" &&
    typeof (value as { endIndex?: unknown }).endIndex === "number";
}

function childElements(element: ElementView): ElementView[] {
  const result: ElementView[] = [];
  for (const child of element.children) {
    const key = nodeKey(child);
    if (key === undefined || key === TEXT_KEY || key === CDATA_KEY || key === COMMENT_KEY) continue;
    if (key.startsWith("?")) continue;
    result.push(viewElement(child, element.scope));
  }
  return result;
}

/** The element's own character data: text (references resolved) and CDATA, comments skipped. */
function textContent(element: ElementView): string {
  let result = "";
  for (const child of element.children) {
    if (TEXT_KEY in child) {
      result += decodeReferences(String(child[TEXT_KEY]));
    } else if (CDATA_KEY in child) {
      const parts = child[CDATA_KEY];
      if (Array.isArray(parts)) {
        for (const part of parts as OrderedNode[]) {
          if (TEXT_KEY in part) result += String(part[TEXT_KEY]);
        }
      }
    }
  }
  return result;
}

/** The raw text between an element's start tag and end tag (`""` when self-closing). */
function innerXml(element: ElementView, text: string): string {
  if (element.span === undefined) return "";
  const { startIndex, endIndex } = element.span;
  let quote: string | undefined;
  let i = startIndex;
  for (; i < endIndex; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === ">") {
      break;
    }
  }
  if (i >= endIndex || text[i - 1] === "/") return "";
  const close = text.lastIndexOf("</", endIndex - 1);
  return close > i ? text.slice(i + 1, close) : "";
}

const CHARACTER_REFERENCE = /&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(lt|gt|amp|quot|apos));/g;
const NAMED: Readonly<Record<string, string>> = {
  lt: "<",
  gt: ">",
  amp: "&",
  quot: '"',
  apos: "'",
};

/** Resolve XML's predefined entities and character references; leave anything else as is. */
function decodeReferences(value: string): string {
  if (!value.includes("&")) return value;
  return value.replace(
    CHARACTER_REFERENCE,
    (match, hex: string | undefined, dec: string | undefined, named: string | undefined) => {
      if (named !== undefined) return NAMED[named] ?? match;
      const code = hex !== undefined ? parseInt(hex, 16) : parseInt(dec ?? "", 10);
      return isXmlChar(code) ? String.fromCodePoint(code) : match;
    },
  );
}

/** Attribute-value normalization (XML 1.0 §3.3.3) for a CDATA attribute, then references. */
function decodeAttribute(value: string): string {
  return decodeReferences(value.replace(/[\t\n\r]/g, " "));
}

/** `Char` of XML 1.0 §2.2. */
function isXmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff);
}

// C0 controls other than tab, LF and CR, and U+FFFE/U+FFFF, cannot appear in XML 1.0 at all.
// deno-lint-ignore no-control-regex
const NOT_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

function toXmlChars(value: string): string {
  return value.toWellFormed().replace(NOT_XML_CHARS, "\uFFFD");
}

function escapeText(value: string): string {
  return toXmlChars(value)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\r/g, "&#13;");
}

function escapeAttribute(value: string): string {
  return escapeText(value)
    .replace(/"/g, "&quot;")
    .replace(/\t/g, "&#9;")
    .replace(/\n/g, "&#10;");
}

function isWellFormedFragment(content: string): boolean {
  if (content !== toXmlChars(content) || content.includes("\r")) return false;
  try {
    return XMLValidator.validate(`<x>${content}</x>`) === true;
  } catch {
    return false;
  }
}

function collapse(value: string): string {
  return value.replace(/[ \t\n\r]+/g, " ").trim();
}

function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

function describeNamespace(namespace: string | undefined): string {
  return namespace === undefined ? "in no namespace" : `in namespace ${namespace}`;
}

function describeThrown(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function malformed(reason: string): Result<never, MalformedResponseError> {
  return err(Object.freeze({
    _tag: "MalformedResponse",
    message: `Cannot parse xcap-error document: ${reason}`,
  }));
}
