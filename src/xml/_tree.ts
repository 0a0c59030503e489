/**
 * Reading the engine's tree: element children, attribute lookup and character data, in one
 * place for every module that walks a parsed document (the typed usages, the schema checker,
 * selection, xcap-diff, capabilities).
 *
 * @module
 */
import type { XmlAttribute, XmlElement } from "./document.ts";
import { XML_NAMESPACE } from "./_names.ts";

/** The element children of an element. */
export function childElements(element: XmlElement): XmlElement[] {
  return element.children.filter((c): c is XmlElement => c.kind === "element");
}

/** The element children with this namespace and local name, in document order. */
export function childrenNamed(
  element: XmlElement,
  namespace: string,
  localName: string,
): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of element.children) {
    if (c.kind === "element" && c.namespace === namespace && c.localName === localName) out.push(c);
  }
  return out;
}

/** Whether the element has this namespace and local name. */
export function isElement(element: XmlElement, namespace: string, localName: string): boolean {
  return element.namespace === namespace && element.localName === localName;
}

/** The first child element with that name. */
export function firstChild(
  element: XmlElement,
  namespace: string,
  localName: string,
): XmlElement | undefined {
  for (const c of element.children) {
    if (c.kind === "element" && isElement(c, namespace, localName)) return c;
  }
  return undefined;
}

/** The value of an unprefixed attribute (in no namespace). */
export function attributeValue(element: XmlElement, localName: string): string | undefined {
  return findAttribute(element, undefined, localName)?.value;
}

/** The attribute with that expanded name. */
export function findAttribute(
  element: XmlElement,
  namespace: string | undefined,
  localName: string,
): XmlAttribute | undefined {
  for (const a of element.attributes) {
    if (a.localName === localName && a.namespace === namespace) return a;
  }
  return undefined;
}

/** The `xml:lang` of the element itself (not inherited). */
export function xmlLang(element: XmlElement): string | undefined {
  return findAttribute(element, XML_NAMESPACE, "lang")?.value;
}

/** The character data directly inside an element (text and CDATA children, joined). */
export function textContent(element: XmlElement): string {
  let out = "";
  for (const c of element.children) {
    if (c.kind === "text" || c.kind === "cdata") out += c.value;
  }
  return out;
}
