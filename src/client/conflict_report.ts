/**
 * The `application/xcap-error+xml` document of RFC 4825 §11 in both directions: parse the body
 * of a 409 response into an {@linkcode ConflictCondition}, build one for a server to send, and
 * describe a condition in words for error messages.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { parseXmlDocument, type XmlElement } from "../xml/document.ts";
import {
  escapeAttributeValue,
  escapeText as escapeXmlText,
  isXmlCharCode,
  PREDEFINED_ENTITIES,
} from "../xml/_names.ts";
import {
  type ConflictCondition,
  type ConflictConditionTag,
  malformedResponse,
  type MalformedResponseError,
  type NonUniqueField,
} from "./errors.ts";

/**
 * The XML namespace of xcap-error documents (RFC 4825 §11.2).
 *
 * @example Usage
 * ```ts
 * import { XCAP_ERROR_NAMESPACE } from "./conflict_report.ts";
 * import { buildConflictReport } from "@xcap/xcap";
 * import { assertStringIncludes } from "@std/assert";
 *
 * // A server's 409 body carries its condition in this namespace (RFC 4825 §11.2).
 * assertStringIncludes(
 *   buildConflictReport({ tag: "no-parent" }),
 *   `<xcap-error xmlns="${XCAP_ERROR_NAMESPACE}">`,
 * );
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
  const { view, restore } = lenientView(text);
  const parsed = parseXmlDocument(view);
  if (parsed.isErr()) {
    const { tag, phrase } = parsed.error;
    return malformed(
      tag === "not-well-formed"
        ? `it is not well-formed XML (${phrase})`
        : `it cannot be read (${phrase})`,
    );
  }
  const root = parsed.value.root;
  if (root.localName !== "xcap-error" || root.namespace !== XCAP_ERROR_NAMESPACE) {
    return malformed(
      `the document element is <${root.name}> ${describeNamespace(root.namespace)}, not ` +
        `<xcap-error> in namespace ${XCAP_ERROR_NAMESPACE}`,
    );
  }
  const conditionElement = childElements(root).find((e) => e.namespace === XCAP_ERROR_NAMESPACE);
  if (conditionElement === undefined) {
    return malformed(`<xcap-error> contains no condition element`);
  }
  return readCondition(conditionElement, text, restore);
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
  element: XmlElement,
  text: string,
  restore: (value: string) => string,
): Result<ConflictCondition, MalformedResponseError> {
  const phraseValue = attributeValue(element, "phrase");
  const phrase = phraseValue === undefined ? {} : { phrase: restore(phraseValue) };
  if (SIMPLE_TAGS.has(element.localName)) {
    return ok(Object.freeze({ tag: element.localName as SimpleTag, ...phrase }));
  }
  switch (element.localName) {
    case "no-parent": {
      const ancestor = childElements(element).find((e) =>
        e.localName === "ancestor" && isOwnOrNoNamespace(e)
      );
      return ok(Object.freeze({
        tag: "no-parent",
        ...phrase,
        ...(ancestor === undefined ? {} : { ancestor: collapse(restore(textContent(ancestor))) }),
      }));
    }
    case "uniqueness-failure": {
      const exists = childElements(element)
        .filter((e) => e.localName === "exists" && isOwnOrNoNamespace(e))
        .map((e): NonUniqueField => {
          const altValues = childElements(e)
            .filter((a) => a.localName === "alt-value" && isOwnOrNoNamespace(a))
            .map((a) => restore(textContent(a)));
          return Object.freeze({
            field: restore(attributeValue(e, "field") ?? ""),
            altValues: Object.freeze(altValues),
          });
        });
      return ok(
        Object.freeze({ tag: "uniqueness-failure", ...phrase, exists: Object.freeze(exists) }),
      );
    }
    case "extension":
      return ok(Object.freeze({
        tag: "extension",
        ...phrase,
        // The raw text as sent: `text` has the offsets of the parsed view (see lenientView).
        content: element.selfClosing ? "" : text.slice(element.contentStart, element.contentEnd),
      }));
    default:
      return malformed(
        `<${element.name}> is not a condition RFC 4825 defines (expected one of ` +
          `${[...SIMPLE_TAGS, "no-parent", "uniqueness-failure", "extension"].join(", ")})`,
      );
  }
}

function isOwnOrNoNamespace(element: XmlElement): boolean {
  return element.namespace === XCAP_ERROR_NAMESPACE || element.namespace === undefined;
}

/** The value of an unprefixed attribute (references resolved, normalized as XML 1.0 §3.3.3). */
function attributeValue(element: XmlElement, name: string): string | undefined {
  return element.attributes.find((a) => a.prefix === undefined && a.localName === name)?.value;
}

function childElements(element: XmlElement): XmlElement[] {
  return element.children.filter((c): c is XmlElement => c.kind === "element");
}

/** The element's own character data: text (references resolved) and CDATA, comments skipped. */
function textContent(element: XmlElement): string {
  let result = "";
  for (const child of element.children) {
    if (child.kind === "text" || child.kind === "cdata") result += child.value;
  }
  return result;
}

/**
 * Stands in for the `&` of a reference XML does not define: U+FDD0 is a noncharacter, which no
 * interchanged text carries.
 */
const AMPERSAND_STAND_IN = "\uFDD0";
const REFERENCE = /&(#x[0-9a-fA-F]+|#[0-9]+|[^\s&<>;"'=]+);/g;

/**
 * The text the XML engine parses, with the leniencies of this reader; every change keeps the
 * length (and line ends) of what it replaces, so offsets and `line L, column C` in messages are
 * those of `text`:
 *
 * - The XML declaration is blanked: the executor has already decoded the body as UTF-8, whatever
 *   encoding the declaration names (servers that pass on a Latin-1 declaration exist).
 * - A document type declaration is blanked: nothing declared in it is used (no entity is ever
 *   expanded), and an HTML error page starts with one.
 * - The `&` of a reference XML does not define without a DTD (`&nbsp;`, `&#0;`) is replaced by a
 *   stand-in that `restore` turns back into `&`: such references are kept as written instead of
 *   making the whole report unreadable. (Not when the text already holds the stand-in.)
 */
function lenientView(text: string): { view: string; restore: (value: string) => string } {
  let view = text;
  for (let pos = 0;;) {
    while (view[pos] === " " || view[pos] === "\t" || view[pos] === "\n") pos++;
    let end = -1;
    if (view.startsWith("<?", pos)) {
      end = closingEnd(view, "?>", pos + 2);
      if (end > 0 && pos === 0 && /^<\?xml[\s?]/.test(view)) view = blank(view, 0, end);
    } else if (view.startsWith("<!--", pos)) {
      end = closingEnd(view, "-->", pos + 4);
    } else if (view.startsWith("<!DOCTYPE", pos)) {
      end = doctypeEnd(view, pos);
      if (end > 0) view = blank(view, pos, end);
    }
    if (end < 0) break;
    pos = end;
  }
  if (!view.includes("&") || view.includes(AMPERSAND_STAND_IN)) {
    return { view, restore: (value) => value };
  }
  view = view.replace(REFERENCE, (match, body: string) => {
    if (body.startsWith("#")) {
      const code = body[1] === "x" ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return isXmlCharCode(code) ? match : AMPERSAND_STAND_IN + match.slice(1);
    }
    return Object.hasOwn(PREDEFINED_ENTITIES, body) ? match : AMPERSAND_STAND_IN + match.slice(1);
  });
  return {
    view,
    restore: (value) =>
      value.includes(AMPERSAND_STAND_IN) ? value.replaceAll(AMPERSAND_STAND_IN, "&") : value,
  };
}

/** The offset just after the first `close` from `from` on, or -1. */
function closingEnd(text: string, close: string, from: number): number {
  const at = text.indexOf(close, from);
  return at < 0 ? -1 : at + close.length;
}

/** `text` with `[start, end)` turned into spaces, line ends kept. */
function blank(text: string, start: number, end: number): string {
  return text.slice(0, start) + text.slice(start, end).replace(/[^\n]/g, " ") + text.slice(end);
}

/** The offset just after the `<!DOCTYPE ...>` at `start` (its internal subset included), or -1. */
function doctypeEnd(text: string, start: number): number {
  let quote: string | undefined;
  let depth = 0;
  for (let i = start + 9; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === "[") {
      depth++;
    } else if (c === "]") {
      depth--;
    } else if (c === ">" && depth <= 0) {
      return i + 1;
    }
  }
  return -1;
}

// C0 controls other than tab, LF and CR, and U+FFFE/U+FFFF, cannot appear in XML 1.0 at all.
// deno-lint-ignore no-control-regex
const NOT_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

function toXmlChars(value: string): string {
  return value.toWellFormed().replace(NOT_XML_CHARS, "\uFFFD");
}

/** Character data, every character XML can carry (`>` escaped as well, for readers that expect it). */
function escapeText(value: string): string {
  return escapeXmlText(toXmlChars(value));
}

/** A double-quoted attribute value; `>` escaped as well. */
function escapeAttribute(value: string): string {
  return escapeAttributeValue(toXmlChars(value)).replaceAll(">", "&gt;");
}

function isWellFormedFragment(content: string): boolean {
  if (content !== toXmlChars(content) || content.includes("\r")) return false;
  return parseXmlDocument(`<x>${content}</x>`).isOk();
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

function malformed(reason: string): Result<never, MalformedResponseError> {
  return err(malformedResponse(`Cannot parse xcap-error document: ${reason}`));
}
