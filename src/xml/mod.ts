/**
 * The XML engine the client, the typed usages and the server share: a namespace-aware parser
 * that keeps every node's source offsets, node selection by XCAP node selector (RFC 4825 §6.3),
 * GET, PUT and DELETE of one node by splicing the text (every byte outside the changed node
 * stays as it was), and RFC 5261 XML patch operations on the same machinery.
 *
 * Pure: Web APIs only; nothing throws. Neighbours: `@xcap/xcap` (the client; node selectors and
 * namespace bindings come from there), `@xcap/xcap/usages` (typed documents built on this
 * engine), `@xcap/xcap/diff` (applies xcap-diff patches with {@linkcode applyXmlPatch}),
 * `@xcap/xcap/server` (serves documents with it).
 *
 * @example Select and replace one element, keeping every other byte
 * ```ts
 * import { parseNodeSelector } from "@xcap/xcap";
 * import { getNode, parseXmlDocument, putNode } from "@xcap/xcap/xml";
 * import { assertEquals } from "@std/assert";
 *
 * const text = '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">\n' +
 *   '  <!-- friends -->\n  <list name="friends"><entry uri="sip:bob@example.com"/></list>\n' +
 *   "</resource-lists>";
 * const ns = { "": "urn:ietf:params:xml:ns:resource-lists" };
 * const doc = parseXmlDocument(text)._unsafeUnwrap();
 * const entry = parseNodeSelector('/resource-lists/list[@name="friends"]/entry')._unsafeUnwrap();
 *
 * assertEquals(getNode(doc, entry, ns)._unsafeUnwrap().body, '<entry uri="sip:bob@example.com"/>');
 * const put = putNode(doc, entry, ns, '<entry uri="sip:carol@example.com"/>')._unsafeUnwrap();
 * assertEquals(put.created, false);
 * assertEquals(put.text, text.replace("bob", "carol"));
 * ```
 *
 * @module
 */
export {
  parseXmlDocument,
  parseXmlElement,
  type ParseXmlElementOptions,
  type XmlAttribute,
  type XmlCData,
  type XmlComment,
  type XmlDeclaration,
  type XmlDocument,
  type XmlElement,
  type XmlNamespaceDeclaration,
  type XmlNode,
  type XmlParseLimits,
  type XmlProcessingInstruction,
  type XmlText,
} from "./document.ts";
export { type SelectedNode, selectElements, selectNode } from "./select.ts";
export {
  deleteNode,
  type DeleteNodeResult,
  getNode,
  type GetNodeResult,
  type NodeEditOptions,
  putNode,
  type PutNodeResult,
} from "./edit.ts";
export type { NodeOperationError } from "./errors.ts";
export {
  applyXmlPatch,
  type XmlPatchCondition,
  type XmlPatchError,
  type XmlPatchOperation,
} from "./patch.ts";
