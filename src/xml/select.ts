/**
 * Node selection (RFC 4825 §6.3) over a parsed {@linkcode XmlDocument}: the one selector engine
 * that GET, PUT and DELETE (`edit.ts`) and the client use.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import type { NamespaceBindings, NodeSelector } from "../client/selector.ts";
import type { XmlAttribute, XmlDocument, XmlElement } from "./document.ts";
import type { NodeOperationError } from "./errors.ts";
import {
  evaluateSteps,
  findAttributeByName,
  type ResolvedSelector,
  resolveSelector,
  selectorText,
} from "./_match.ts";

/** The node a selector selects. */
export type SelectedNode =
  | { readonly kind: "element"; readonly element: XmlElement }
  | { readonly kind: "attribute"; readonly element: XmlElement; readonly attribute: XmlAttribute }
  | { readonly kind: "namespaces"; readonly element: XmlElement };

/**
 * Every element the selector's element steps select, in document order (the terminal selector,
 * if any, is ignored).
 *
 * Names match by namespace URI and local name: a prefixed name through `ns` (the URI's
 * `xmlns()` bindings), an unprefixed element name in the application usage's default namespace
 * `ns[""]` (not the document's default namespace), an unprefixed attribute name in no namespace
 * (RFC 4825 §6.3). `*` matches any element. A position counts the siblings that pass the name
 * test; an attribute test then applies to the element at that position.
 *
 * @param doc The document.
 * @param selector The selector.
 * @param ns Prefix bindings; `""` is the application usage's default namespace.
 * @returns The elements (possibly none), or a `bad-request` error for an unbound prefix.
 *
 * @example Unprefixed names are in the application usage's namespace
 * ```ts
 * import { parseXmlDocument, selectElements } from "@xcap/xcap/xml";
 * import { assertEquals } from "@std/assert";
 *
 * const doc = parseXmlDocument(
 *   '<rl:resource-lists xmlns:rl="urn:ietf:params:xml:ns:resource-lists">' +
 *     '<rl:list name="a"/><rl:list name="b"/></rl:resource-lists>',
 * )._unsafeUnwrap();
 * const lists = selectElements(
 *   doc,
 *   { steps: [{ name: { local: "resource-lists" } }, { name: { local: "list" } }] },
 *   { "": "urn:ietf:params:xml:ns:resource-lists" },
 * )._unsafeUnwrap();
 * assertEquals(lists.map((e) => e.attributes[0]?.value), ["a", "b"]);
 * ```
 */
export function selectElements(
  doc: XmlDocument,
  selector: NodeSelector,
  ns: NamespaceBindings,
): Result<readonly XmlElement[], NodeOperationError> {
  return resolveSelector({ steps: selector?.steps ?? [] }, ns ?? {}).map((resolved) =>
    evaluateSteps(doc, resolved.steps)
  );
}

/**
 * The one node a selector selects: an element, an attribute, or an element's namespace
 * bindings (`namespace::*`).
 *
 * A selector that selects no element or more than one is `not-found`: the request URI then
 * identifies no single resource (RFC 4825 §6.3, and §8.3 "GET Handling" answers 404); so is a
 * missing attribute.
 *
 * @param doc The document.
 * @param selector The selector.
 * @param ns Prefix bindings; `""` is the application usage's default namespace.
 * @returns The node, or `not-found` / `bad-request` (unbound prefix).
 *
 * @example Attribute selection
 * ```ts
 * import { parseXmlDocument, selectNode } from "@xcap/xcap/xml";
 * import { assertEquals } from "@std/assert";
 *
 * const doc = parseXmlDocument('<list xmlns="urn:x"><entry uri="sip:a"/></list>')._unsafeUnwrap();
 * const node = selectNode(doc, {
 *   steps: [{ name: { local: "list" } }, { name: { local: "entry" }, position: 1 }],
 *   terminal: { kind: "attribute", name: { local: "uri" } },
 * }, { "": "urn:x" })._unsafeUnwrap();
 * assertEquals(node.kind === "attribute" && node.attribute.value, "sip:a");
 * ```
 */
export function selectNode(
  doc: XmlDocument,
  selector: NodeSelector,
  ns: NamespaceBindings,
): Result<SelectedNode, NodeOperationError> {
  return resolveSelector(selector, ns ?? {}).andThen((resolved) =>
    selectResolved(doc, selector, resolved)
  );
}

function selectResolved(
  doc: XmlDocument,
  selector: NodeSelector,
  resolved: ResolvedSelector,
): Result<SelectedNode, NodeOperationError> {
  const elements = evaluateSteps(doc, resolved.steps);
  const text = selectorText(selector);
  if (elements.length !== 1) {
    return err({
      kind: "not-found",
      message: elements.length === 0
        ? `No element matches node selector ${text}`
        : `Node selector ${text} matches ${elements.length} elements; it must select exactly one`,
    });
  }
  const element = elements[0]!;
  const terminal = resolved.terminal;
  if (terminal === undefined) return ok({ kind: "element", element });
  if (terminal.kind === "namespace") return ok({ kind: "namespaces", element });
  const attribute = findAttributeByName(element, terminal.name);
  if (attribute === undefined) {
    return err({
      kind: "not-found",
      message: `The element selected by node selector ${text} has no such attribute`,
    });
  }
  return ok({ kind: "attribute", element, attribute });
}
