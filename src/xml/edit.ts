/**
 * GET, PUT and DELETE of XCAP nodes (RFC 4825 §8.2 "PUT Handling", §8.3 "GET Handling", §8.4
 * "DELETE Handling") by splicing the original text: the
 * changed node is replaced at its offsets and every other byte (comments, whitespace, attribute
 * quoting, namespace prefixes) stays as it was. Nothing is re-serialized.
 *
 * After each change the new text is parsed again and the selector evaluated again: a PUT must
 * leave it selecting exactly the new node (`cannot-insert` otherwise), a DELETE must leave it
 * selecting nothing (`cannot-delete` otherwise), as RFC 4825 §8.2.5 ("Validation") and §8.4
 * require. Section numbers are RFC 4825's; the condition meanings are those of §11.
 *
 * @module
 */
import { childElements } from "./_tree.ts";
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result, safeTry } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import type { ConflictCondition } from "../client/errors.ts";
import type { NamespaceBindings, NodeSelector } from "../client/selector.ts";
import {
  parseXmlDocument,
  parseXmlElement,
  type XmlDocument,
  type XmlElement,
  type XmlParseLimits,
} from "./document.ts";
import { selectNode } from "./select.ts";
import type { NodeOperationError } from "./errors.ts";
import {
  applyStep,
  evaluateSteps,
  type ExpandedName,
  findAttributeByName,
  matchesName,
  type ResolvedSelector,
  type ResolvedStep,
  resolveSelector,
  selectorText,
} from "./_match.ts";
import {
  codePointLabel,
  escapeAttributeValue,
  firstNonXmlChar,
  isNCName,
  isSpaceCode,
  isXmlCharCode,
  PREDEFINED_ENTITIES,
} from "./_names.ts";

/** Options of {@linkcode putNode} and {@linkcode deleteNode}. */
export interface NodeEditOptions {
  /** Limits for parsing the body and the changed document. @default the defaults of XmlParseLimits */
  readonly limits?: XmlParseLimits;
}

/** What {@linkcode getNode} returns. */
export interface GetNodeResult {
  /** What was selected: `xcap-el+xml`, `xcap-att+xml` or `xcap-ns+xml` content. */
  readonly kind: "element" | "attribute" | "namespaces";
  /** The response body. */
  readonly body: string;
}

/** What {@linkcode putNode} returns. */
export interface PutNodeResult {
  /** The new document text. */
  readonly text: string;
  /** `true` when the node was created, `false` when it replaced an existing one. */
  readonly created: boolean;
  /** The new document, parsed. */
  readonly document: XmlDocument;
}

/** What {@linkcode deleteNode} returns. */
export interface DeleteNodeResult {
  /** The new document text. */
  readonly text: string;
  /** The new document, parsed. */
  readonly document: XmlDocument;
}

const GET_ONLY: readonly string[] = Object.freeze(["GET"]);

function conflict(
  tag: "cannot-insert" | "cannot-delete" | "not-xml-att-value" | "schema-validation-error",
  message: string,
): NodeOperationError {
  return { kind: "conflict", condition: { tag, phrase: message }, message };
}

function conditionError(condition: ConflictCondition, what: string): NodeOperationError {
  const phrase = condition.phrase ?? condition.tag;
  return { kind: "conflict", condition, message: `${what}: ${phrase}` };
}

function namespacesNotAllowed(method: string): NodeOperationError {
  return {
    kind: "not-allowed",
    message: `${method} is not allowed on namespace bindings (namespace::*); only GET is`,
    allow: GET_ONLY,
  };
}

// -------------------------------------------------------------------------------------------
// GET
// -------------------------------------------------------------------------------------------

/**
 * The body of a GET of the node a selector selects (RFC 4825 §8.3, "GET Handling"):
 *
 * - an element: its exact source text, byte for byte, without adding the namespace
 *   declarations of its ancestors (`application/xcap-el+xml`);
 * - an attribute: its value exactly as written between the quotes, i.e. in `AttValue` form with
 *   its references unexpanded. That is the form a PUT of the attribute takes (§7.7, "Create or
 *   Replace an Attribute": an `AttValue` without its quotes), so a GET after a PUT returns
 *   exactly the body that was PUT, as §8.2.5 demands (`application/xcap-att+xml`);
 * - `namespace::*`: an empty element with the selected element's qualified name carrying an
 *   `xmlns` declaration for every namespace in scope there (`application/xcap-ns+xml`; the
 *   implicit `xml` binding is left out).
 *
 * @param doc The document.
 * @param selector The node selector.
 * @param ns Prefix bindings; `""` is the application usage's default namespace.
 * @returns The body and what it is, or `not-found` (no node, or several) / `bad-request`.
 *
 * @example Elements, attributes and namespace bindings
 * ```ts
 * import { getNode, parseXmlDocument } from "@xcap/xcap/xml";
 * import { assertEquals } from "@std/assert";
 *
 * const doc = parseXmlDocument(
 *   '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">\n' +
 *     '  <list name="friends"><entry uri="sip:bob@example.com"/></list>\n' +
 *     "</resource-lists>",
 * )._unsafeUnwrap();
 * const ns = { "": "urn:ietf:params:xml:ns:resource-lists" };
 * const list = { name: { local: "list" }, attribute: { name: { local: "name" }, value: "friends" } };
 * const steps = [{ name: { local: "resource-lists" } }, list, { name: { local: "entry" } }];
 *
 * assertEquals(getNode(doc, { steps }, ns)._unsafeUnwrap(), {
 *   kind: "element",
 *   body: '<entry uri="sip:bob@example.com"/>',
 * });
 * const uri = { kind: "attribute", name: { local: "uri" } } as const;
 * assertEquals(getNode(doc, { steps, terminal: uri }, ns)._unsafeUnwrap().body, "sip:bob@example.com");
 * assertEquals(
 *   getNode(doc, { steps, terminal: { kind: "namespace" } }, ns)._unsafeUnwrap().body,
 *   '<entry xmlns="urn:ietf:params:xml:ns:resource-lists"/>',
 * );
 * ```
 */
export function getNode(
  doc: XmlDocument,
  selector: NodeSelector,
  ns: NamespaceBindings,
): Result<GetNodeResult, NodeOperationError> {
  return selectNode(doc, selector, ns).map((node): GetNodeResult => {
    switch (node.kind) {
      case "element":
        return { kind: "element", body: doc.text.slice(node.element.start, node.element.end) };
      case "attribute":
        return { kind: "attribute", body: node.attribute.rawValue };
      case "namespaces":
        return { kind: "namespaces", body: formatNamespaceBindings(node.element) };
    }
  });
}

/**
 * The `application/xcap-ns+xml` body for an element (RFC 4825 §7.10 "Fetch Namespace Bindings",
 * §8.3): an empty element with the
 * element's qualified name and one `xmlns` declaration per namespace in scope (the implicit
 * `xml` binding left out), in the order they were declared from the root down.
 *
 * @param element The element.
 * @returns The body.
 *
 * @example Usage
 * ```ts
 * import { parseXmlDocument } from "@xcap/xcap/xml";
 * import { formatNamespaceBindings } from "./edit.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const doc = parseXmlDocument('<cr:ruleset xmlns:cr="urn:cp" xmlns="urn:d"/>')._unsafeUnwrap();
 * assertEquals(formatNamespaceBindings(doc.root), '<cr:ruleset xmlns:cr="urn:cp" xmlns="urn:d"/>');
 * ```
 */
export function formatNamespaceBindings(element: XmlElement): string {
  let out = "<" + element.name;
  for (const [prefix, uri] of element.namespaces) {
    if (prefix === "xml") continue;
    out += (prefix === "" ? " xmlns" : " xmlns:" + prefix) + '="' + escapeAttributeValue(uri) +
      '"';
  }
  return out + "/>";
}

// -------------------------------------------------------------------------------------------
// Shared editing helpers
// -------------------------------------------------------------------------------------------

function splice(text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end);
}

/** Start of the run of whitespace that ends at `offset`, not going below `floor`. */
function whitespaceStart(text: string, offset: number, floor: number): number {
  let i = offset;
  while (i > floor && isSpaceCode(text.charCodeAt(i - 1))) i--;
  return i;
}

/** The whitespace that precedes a node inside its parent (its "indentation run"). */
function leadingWhitespace(text: string, start: number, parent: XmlElement | undefined): string {
  return text.slice(whitespaceStart(text, start, parent?.contentStart ?? 0), start);
}

/**
 * The indentation of the line an element starts on, when it starts its own line (only
 * whitespace before it on that line); `undefined` otherwise.
 */
function indentOf(text: string, element: XmlElement): string | undefined {
  const floor = element.parent?.contentStart ?? 0;
  const runStart = whitespaceStart(text, element.start, floor);
  const run = text.slice(runStart, element.start);
  const newline = Math.max(run.lastIndexOf("\n"), run.lastIndexOf("\r"));
  if (newline >= 0) return run.slice(newline + 1);
  return runStart === 0 || (runStart === 1 && text.charCodeAt(0) === 0xfeff) ? run : undefined;
}

const DEFAULT_INDENT_UNIT = "  ";
const INDENT_SCAN_LIMIT = 10_000;

/** One indentation step, guessed from the document; two spaces when it shows none. */
function indentUnit(doc: XmlDocument, parent: XmlElement): string {
  const text = doc.text;
  const unitBetween = (outer: XmlElement, inner: XmlElement): string | undefined => {
    const a = indentOf(text, outer);
    const b = indentOf(text, inner);
    return a !== undefined && b !== undefined && b.length > a.length && b.startsWith(a)
      ? b.slice(a.length)
      : undefined;
  };
  if (parent.parent !== undefined) {
    const unit = unitBetween(parent.parent, parent);
    if (unit !== undefined) return unit;
  }
  const stack: XmlElement[] = [doc.root];
  let visited = 0;
  while (stack.length > 0 && visited++ < INDENT_SCAN_LIMIT) {
    const element = stack.pop()!;
    const children = element.children.filter((c): c is XmlElement => c.kind === "element");
    const first = children[0];
    if (first !== undefined) {
      const unit = unitBetween(element, first);
      if (unit !== undefined) return unit;
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return DEFAULT_INDENT_UNIT;
}

/** The closest existing ancestor for a `no-parent` report (RFC 4825 §8.2.1, §11). */
function noParent(
  doc: XmlDocument,
  selector: NodeSelector,
  resolved: ResolvedSelector,
  parentLength: number,
  found: number,
): NodeOperationError {
  const parentSelector: NodeSelector = { steps: selector.steps.slice(0, parentLength) };
  let ancestorLength = 0;
  for (let k = parentLength - 1; k >= 1; k--) {
    if (evaluateSteps(doc, resolved.steps.slice(0, k)).length === 1) {
      ancestorLength = k;
      break;
    }
  }
  const ancestor: NodeSelector = { steps: selector.steps.slice(0, ancestorLength) };
  const ancestorText = ancestorLength === 0 ? "" : selectorText(ancestor);
  const message =
    `Cannot create ${selectorText(selector)}: its parent ${selectorText(parentSelector)} ${
      found === 0 ? "does not exist" : `matches ${found} elements`
    }; the closest existing ` +
    `ancestor is ${ancestorLength === 0 ? "the document" : ancestorText}`;
  return {
    kind: "conflict",
    condition: { tag: "no-parent", phrase: message, ancestor: ancestorText },
    message,
    ancestor,
  };
}

function reparse(
  text: string,
  limits: XmlParseLimits,
  what: string,
): Result<XmlDocument, NodeOperationError> {
  return parseXmlDocument(text, limits).mapErr((condition) =>
    conditionError(condition, `${what}: the changed document is rejected`)
  );
}

// -------------------------------------------------------------------------------------------
// PUT
// -------------------------------------------------------------------------------------------

/**
 * Create or replace the node a selector selects, by splicing the document text (RFC 4825 §8.2,
 * "PUT Handling"). Only the new or replaced node changes; every other byte of the document is
 * kept.
 *
 * **Elements** (body: exactly one element, `application/xcap-el+xml`). The parent is the
 * element the selector without its last step selects; when that is not exactly one element the
 * result is a `no-parent` conflict naming the closest existing ancestor (§8.2.1, "Locating the
 * Parent"). If the last step selects one existing element, it is replaced in place (§8.2.4);
 * otherwise the new element is inserted where the selector will select it (§8.2.3, "Creation"):
 *
 * - last step with a position `n`: directly after the (n-1)th sibling that passes the name test
 *   (`*`: any element), or before the first one when `n` is 1; too few siblings, or `n` < 1, is
 *   `cannot-insert`;
 * - last step without a position: after the last sibling with the same expanded name (for `*`,
 *   the name of the new element);
 * - with no such sibling: after the last child element, or as the only child.
 *
 * A new element takes the whitespace that precedes its neighbour (so it lands on its own line
 * at the same indentation); in an empty parent it gets the parent's indentation plus one step
 * guessed from the document. Prefixes in the body that it does not declare resolve in the
 * namespace scope of the insertion point. The body must be one well-formed element, else
 * `not-xml-frag` (several elements, text around it, broken markup, an undeclared prefix). Afterwards the selector must select exactly the new element, else
 * `cannot-insert` (§8.2.5, "Validation").
 *
 * **Attributes** (body: the value in `AttValue` form without quotes, `application/xcap-att+xml`,
 * §7.7): the value is replaced in place or a new attribute appended to the start tag; a body that
 * is not a valid attribute value is `not-xml-att-value`. A prefixed attribute whose namespace has
 * no prefix in scope gets a namespace declaration next to it.
 *
 * **`namespace::*`**: `not-allowed` (only GET).
 *
 * @param doc The document.
 * @param selector The node selector.
 * @param ns Prefix bindings; `""` is the application usage's default namespace.
 * @param body The request body.
 * @param options Parse limits for the body and the changed document.
 * @returns The new text, whether the node was created, and the new document; or the error.
 *
 * @example Inserting an entry after its last sibling
 * ```ts
 * import { parseXmlDocument, putNode } from "@xcap/xcap/xml";
 * import { assertEquals } from "@std/assert";
 *
 * const doc = parseXmlDocument(
 *   '<list xmlns="urn:rl">\n  <entry uri="a"/>\n  <!-- keep -->\n</list>',
 * )._unsafeUnwrap();
 * const put = putNode(doc, {
 *   steps: [{ name: { local: "list" } }, {
 *     name: { local: "entry" },
 *     attribute: { name: { local: "uri" }, value: "b" },
 *   }],
 * }, { "": "urn:rl" }, '<entry uri="b"/>')._unsafeUnwrap();
 * assertEquals(put.created, true);
 * assertEquals(
 *   put.text,
 *   '<list xmlns="urn:rl">\n  <entry uri="a"/>\n  <entry uri="b"/>\n  <!-- keep -->\n</list>',
 * );
 * ```
 */
export function putNode(
  doc: XmlDocument,
  selector: NodeSelector,
  ns: NamespaceBindings,
  body: string,
  options: NodeEditOptions = {},
): Result<PutNodeResult, NodeOperationError> {
  if (selector?.terminal?.kind === "namespace") return err(namespacesNotAllowed("PUT"));
  if (typeof body !== "string") {
    return err({ kind: "bad-request", message: "The PUT body is not a string" });
  }
  const limits = options?.limits ?? {};
  return resolveSelector(selector, ns ?? {}).andThen((resolved) =>
    resolved.terminal?.kind === "attribute"
      ? putAttribute(doc, selector, resolved, body, limits)
      : putElement(doc, selector, resolved, body, limits)
  );
}

interface Splice {
  readonly start: number;
  readonly end: number;
  readonly insert: string;
  /** Offset of the new element in the new text. */
  readonly elementStart: number;
}

function insertAfter(
  text: string,
  anchor: { readonly start: number; readonly end: number },
  parent: XmlElement,
  element: string,
): Splice {
  const ws = leadingWhitespace(text, anchor.start, parent);
  return {
    start: anchor.end,
    end: anchor.end,
    insert: ws + element,
    elementStart: anchor.end + ws.length,
  };
}

function insertBefore(
  text: string,
  anchor: XmlElement,
  parent: XmlElement,
  element: string,
): Splice {
  const ws = leadingWhitespace(text, anchor.start, parent);
  return {
    start: anchor.start,
    end: anchor.start,
    insert: element + ws,
    elementStart: anchor.start,
  };
}

/** Insert as the last element child: after the last one, or into a parent without any. */
function insertLast(doc: XmlDocument, parent: XmlElement, element: string): Splice {
  const text = doc.text;
  const children = childElements(parent);
  const last = children[children.length - 1];
  if (last !== undefined) return insertAfter(text, last, parent, element);
  // No element children: after the last comment/PI/CDATA/text, or into empty content.
  for (let i = parent.children.length - 1; i >= 0; i--) {
    const node = parent.children[i]!;
    if (node.kind !== "text") return insertAfter(text, node, parent, element);
    if (node.value.trim() !== "") {
      const at = whitespaceStart(text, node.end, node.start);
      return { start: at, end: at, insert: element, elementStart: at };
    }
  }
  const indent = indentOf(text, parent);
  const close = "</" + parent.name + ">";
  if (indent === undefined) {
    // Compact document: no whitespace added.
    if (parent.selfClosing) {
      const at = parent.end - 2;
      return { start: at, end: parent.end, insert: ">" + element + close, elementStart: at + 1 };
    }
    return {
      start: parent.contentEnd,
      end: parent.contentEnd,
      insert: element,
      elementStart: parent.contentEnd,
    };
  }
  const newline = leadingWhitespace(text, parent.start, parent.parent).includes("\r\n")
    ? "\r\n"
    : "\n";
  const inner = newline + indent + indentUnit(doc, parent);
  if (parent.selfClosing) {
    const at = parent.end - 2;
    return {
      start: at,
      end: parent.end,
      insert: ">" + inner + element + newline + indent + close,
      elementStart: at + 1 + inner.length,
    };
  }
  const content = text.slice(parent.contentStart, parent.contentEnd);
  if (content.includes("\n") || content.includes("\r")) {
    return {
      start: parent.contentStart,
      end: parent.contentStart,
      insert: inner + element,
      elementStart: parent.contentStart + inner.length,
    };
  }
  return {
    start: parent.contentStart,
    end: parent.contentEnd,
    insert: inner + element + newline + indent,
    elementStart: parent.contentStart + inner.length,
  };
}

/** Where a new element goes (RFC 4825 §8.2.3), or why it cannot be inserted. */
function planInsertion(
  doc: XmlDocument,
  parent: XmlElement,
  step: ResolvedStep,
  newElement: XmlElement,
  element: string,
  selector: NodeSelector,
): Result<Splice, NodeOperationError> {
  const text = doc.text;
  const children = childElements(parent);
  if (step.position !== undefined) {
    const n = step.position;
    const siblings = children.filter((c) => matchesName(c, step.name));
    if (n < 1) {
      return err(conflict(
        "cannot-insert",
        `Cannot insert at position ${n} of ${selectorText(selector)}: positions start at 1`,
      ));
    }
    if (n === 1) {
      const first = siblings[0];
      return ok(
        first !== undefined
          ? insertBefore(text, first, parent, element)
          : insertLast(doc, parent, element),
      );
    }
    const previous = siblings[n - 2];
    if (previous === undefined) {
      return err(conflict(
        "cannot-insert",
        `Cannot insert ${selectorText(selector)}: position ${n} needs ${n - 1} preceding ` +
          `sibling${n === 2 ? "" : "s"} that match the step, and there ${
            siblings.length === 1 ? "is" : "are"
          } ${siblings.length}`,
      ));
    }
    return ok(insertAfter(text, previous, parent, element));
  }
  const name: ExpandedName = step.name ??
    { namespace: newElement.namespace, local: newElement.localName };
  let lastSame: XmlElement | undefined;
  for (const c of children) if (matchesName(c, name)) lastSame = c;
  return ok(
    lastSame !== undefined
      ? insertAfter(text, lastSame, parent, element)
      : insertLast(doc, parent, element),
  );
}

function putElement(
  doc: XmlDocument,
  selector: NodeSelector,
  resolved: ResolvedSelector,
  body: string,
  limits: XmlParseLimits,
): Result<PutNodeResult, NodeOperationError> {
  return safeTry(function* () {
    const steps = resolved.steps;
    const last = steps[steps.length - 1]!;
    let parent: XmlElement | undefined;
    if (steps.length > 1) {
      const parents = evaluateSteps(doc, steps.slice(0, -1));
      if (parents.length !== 1) {
        return err(noParent(doc, selector, resolved, steps.length - 1, parents.length));
      }
      parent = parents[0]!;
    }
    const parsedBody = yield* parseXmlElement(body, {
      ...(parent === undefined ? {} : { namespaces: parent.namespaces }),
      limits,
      parentDepth: parent?.depth ?? 0,
    }).mapErr((condition) => conditionError(condition, "Cannot use the PUT body"));
    const newElement = parsedBody.root;
    const element = body.slice(newElement.start, newElement.end);

    const targets = applyStep(doc, [parent], last);
    let plan: Splice;
    let created: boolean;
    if (targets.length > 1) {
      return err(conflict(
        "cannot-insert",
        `Cannot put ${selectorText(selector)}: it matches ${targets.length} elements, and a PUT ` +
          "must leave it selecting exactly one",
      ));
    }
    if (targets.length === 1) {
      const target = targets[0]!;
      plan = { start: target.start, end: target.end, insert: element, elementStart: target.start };
      created = false;
    } else if (parent === undefined) {
      return err(conflict(
        "cannot-insert",
        `Cannot put ${selectorText(selector)}: the document element is <${doc.root.name}>, and ` +
          "a document has exactly one",
      ));
    } else {
      const planned = yield* planInsertion(doc, parent, last, newElement, element, selector);
      plan = planned;
      created = true;
    }

    const text = splice(doc.text, plan.start, plan.end, plan.insert);
    const what = `Cannot put ${selectorText(selector)}`;
    const reparsed = yield* reparse(text, limits, what);
    // RFC 4825 §8.2.5: the request URI must now select the element just written.
    const selected = evaluateSteps(reparsed, steps);
    if (selected.length !== 1 || selected[0]!.start !== plan.elementStart) {
      return err(conflict(
        "cannot-insert",
        `${what}: afterwards the selector would ${
          selected.length === 0
            ? "select nothing"
            : selected.length > 1
            ? `match ${selected.length} elements`
            : "select another element"
        } instead of the element in the body`,
      ));
    }
    return ok({ text, created, document: reparsed });
  });
}

const ATTRIBUTE_REFERENCE = /&(?:([A-Za-z]+)|#([0-9]+)|#x([0-9A-Fa-f]+));/y;

/** Why a body is not an `AttValue` without its quotes (RFC 4825 §7.7), or `undefined`. */
function attributeValueProblem(body: string): string | undefined {
  const bad = firstNonXmlChar(body);
  if (bad >= 0) return `character ${codePointLabel(body, bad)} at offset ${bad} is not allowed`;
  const lt = body.indexOf("<");
  if (lt >= 0) return `"<" at offset ${lt} must be written "&lt;"`;
  for (let i = body.indexOf("&"); i >= 0; i = body.indexOf("&", i + 1)) {
    ATTRIBUTE_REFERENCE.lastIndex = i;
    const match = ATTRIBUTE_REFERENCE.exec(body);
    let valid = false;
    if (match !== null) {
      if (match[1] !== undefined) valid = Object.hasOwn(PREDEFINED_ENTITIES, match[1]);
      else {
        const cp = match[2] !== undefined ? parseInt(match[2], 10) : parseInt(match[3]!, 16);
        valid = isXmlCharCode(cp);
      }
    }
    if (!valid) {
      return `"&" at offset ${i} does not start a valid reference (write "&amp;" for "&")`;
    }
  }
  if (body.includes('"') && body.includes("'")) {
    return `it contains both quote characters; write one of them as "&quot;" or "&apos;"`;
  }
  return undefined;
}

function putAttribute(
  doc: XmlDocument,
  selector: NodeSelector,
  resolved: ResolvedSelector,
  body: string,
  limits: XmlParseLimits,
): Result<PutNodeResult, NodeOperationError> {
  return safeTry(function* () {
    const terminal = resolved.terminal as { kind: "attribute"; name: ExpandedName };
    const name = terminal.name;
    const written = selector.terminal?.kind === "attribute" ? selector.terminal.name : undefined;
    if (
      (name.namespace === undefined && name.local === "xmlns") || written?.prefix === "xmlns" ||
      !isNCName(name.local)
    ) {
      return err({
        kind: "bad-request",
        message: `Cannot put ${
          selectorText(selector)
        }: namespace declarations are not attributes (use namespace::* to read them)`,
      });
    }
    const elements = evaluateSteps(doc, resolved.steps);
    if (elements.length !== 1) {
      return err(noParent(doc, selector, resolved, resolved.steps.length, elements.length));
    }
    const element = elements[0]!;
    const problem = attributeValueProblem(body);
    if (problem !== undefined) {
      return err(
        conflict("not-xml-att-value", `The body is not a valid XML attribute value: ${problem}`),
      );
    }
    const existing = findAttributeByName(element, name);
    let plan: { start: number; end: number; insert: string };
    if (existing !== undefined) {
      if (body.includes(existing.quote)) {
        // The value needs the other quote character; only this attribute's quotes change.
        const quote = existing.quote === '"' ? "'" : '"';
        plan = {
          start: existing.valueStart - 1,
          end: existing.valueEnd + 1,
          insert: quote + body + quote,
        };
      } else {
        plan = { start: existing.valueStart, end: existing.valueEnd, insert: body };
      }
    } else {
      let qname = name.local;
      let declaration = "";
      if (name.namespace !== undefined) {
        const prefix = chooseAttributePrefix(element, name.namespace, written?.prefix);
        if (prefix.declare) {
          declaration = ` xmlns:${prefix.prefix}="${escapeAttributeValue(name.namespace)}"`;
        }
        qname = prefix.prefix + ":" + name.local;
      }
      const quote = body.includes('"') ? "'" : '"';
      const lastItem = Math.max(
        element.start + 1 + element.name.length,
        ...element.attributes.map((a) => a.end),
        ...element.namespaceDeclarations.map((d) => d.end),
      );
      plan = {
        start: lastItem,
        end: lastItem,
        insert: `${declaration} ${qname}=${quote}${body}${quote}`,
      };
    }
    const text = splice(doc.text, plan.start, plan.end, plan.insert);
    const what = `Cannot put ${selectorText(selector)}`;
    const reparsed = yield* reparse(text, limits, what);
    // RFC 4825 §8.2.5: the request URI must now select the attribute with the value just written.
    const selected = evaluateSteps(reparsed, resolved.steps);
    const attribute = selected.length === 1 && selected[0]!.start === element.start
      ? findAttributeByName(selected[0]!, name)
      : undefined;
    if (attribute === undefined || attribute.rawValue !== body) {
      return err(conflict(
        "cannot-insert",
        `${what}: afterwards the selector would no longer select this attribute of this element`,
      ));
    }
    return ok({ text, created: existing === undefined, document: reparsed });
  });
}

/** A prefix for a new attribute in `namespace`: one in scope, or one to declare. */
function chooseAttributePrefix(
  element: XmlElement,
  namespace: string,
  preferred: string | undefined,
): { prefix: string; declare: boolean } {
  const scope = element.namespaces;
  if (preferred !== undefined && scope.get(preferred) === namespace) {
    return { prefix: preferred, declare: false };
  }
  for (const [prefix, uri] of scope) {
    if (prefix !== "" && uri === namespace) return { prefix, declare: false };
  }
  // Declare a prefix not in scope here, so that nothing already written changes meaning.
  if (preferred !== undefined && preferred !== "xml" && !scope.has(preferred)) {
    return { prefix: preferred, declare: true };
  }
  let i = 1;
  while (scope.has(`ns${i}`)) i++;
  return { prefix: `ns${i}`, declare: true };
}

// -------------------------------------------------------------------------------------------
// DELETE
// -------------------------------------------------------------------------------------------

/**
 * Delete the element or attribute a selector selects, by cutting it out of the text (RFC 4825
 * §8.4, "DELETE Handling"). An element goes together with the indentation of its line (the whitespace before it,
 * when that holds a line break), so no blank line is left; an attribute goes with the
 * whitespace before it. Everything else is kept byte for byte.
 *
 * `not-found` when the selector selects no node or several. Afterwards the selector must select
 * nothing, else `cannot-delete` (e.g. `entry[1]` when a second entry would move up). Deleting
 * the document element would leave no document, which no schema admits: a
 * `schema-validation-error` conflict (§8.2.5 applies to DELETE as well; delete the document
 * instead). `namespace::*` is `not-allowed` (only GET).
 *
 * @param doc The document.
 * @param selector The node selector.
 * @param ns Prefix bindings; `""` is the application usage's default namespace.
 * @param options Parse limits for the changed document.
 * @returns The new text and document, or the error.
 *
 * @example A positional delete that would not be idempotent
 * ```ts
 * import { deleteNode, parseXmlDocument } from "@xcap/xcap/xml";
 * import { assertEquals } from "@std/assert";
 *
 * const doc = parseXmlDocument('<list>\n  <entry uri="a"/>\n  <entry uri="b"/>\n</list>')
 *   ._unsafeUnwrap();
 * const byUri = {
 *   steps: [{ name: { local: "list" } }, {
 *     name: { local: "entry" },
 *     attribute: { name: { local: "uri" }, value: "a" },
 *   }],
 * };
 * assertEquals(deleteNode(doc, byUri, {})._unsafeUnwrap().text, '<list>\n  <entry uri="b"/>\n</list>');
 *
 * const first = { steps: [{ name: { local: "list" } }, { name: { local: "entry" }, position: 1 }] };
 * const refused = deleteNode(doc, first, {})._unsafeUnwrapErr();
 * assertEquals(refused.kind === "conflict" && refused.condition.tag, "cannot-delete");
 * ```
 */
export function deleteNode(
  doc: XmlDocument,
  selector: NodeSelector,
  ns: NamespaceBindings,
  options: NodeEditOptions = {},
): Result<DeleteNodeResult, NodeOperationError> {
  return safeTry(function* () {
    if (selector?.terminal?.kind === "namespace") return err(namespacesNotAllowed("DELETE"));
    const node = yield* selectNode(doc, selector, ns);
    const text = doc.text;
    let start: number;
    let end: number;
    if (node.kind === "attribute") {
      start = whitespaceStart(text, node.attribute.start, node.element.start);
      end = node.attribute.end;
    } else {
      const element = node.element;
      if (element.parent === undefined) {
        return err(conflict(
          "schema-validation-error",
          `Cannot delete ${selectorText(selector)}: it is the document element, and a document ` +
            "needs one; DELETE the document instead",
        ));
      }
      const run = whitespaceStart(text, element.start, element.parent.contentStart);
      const ws = text.slice(run, element.start);
      start = ws.includes("\n") || ws.includes("\r") ? run : element.start;
      end = element.end;
    }
    const newText = splice(text, start, end, "");
    const what = `Cannot delete ${selectorText(selector)}`;
    const reparsed = yield* reparse(newText, options?.limits ?? {}, what);
    // RFC 4825 §8.4: afterwards the request URI must select nothing (a GET would be 404).
    if (selectNode(reparsed, selector, ns).isOk()) {
      return err(conflict(
        "cannot-delete",
        `${what}: afterwards the selector would select another node, so the DELETE would not be ` +
          "idempotent",
      ));
    }
    return ok({ text: newText, document: reparsed });
  });
}
