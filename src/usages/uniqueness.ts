/**
 * Uniqueness constraints of application usages (RFC 4825 §5.3, "Data Validation": constraints
 * beyond the schema; the server checks them, §8.2.5): one definition, checked by the
 * client before it writes and by the embedded server after every write.
 *
 * @module
 */
import type { XmlDocument, XmlElement } from "../xml/document.ts";

/** A uniqueness constraint (RFC 4825 §5.3): an attribute that must not repeat. */
export interface UniquenessConstraint {
  /** Namespace URI of the constrained element. */
  readonly namespace: string;
  /** Local name of the constrained element. */
  readonly localName: string;
  /** The unprefixed attribute whose values must be unique. */
  readonly attribute: string;
  /** Unique among siblings of the same name, or in the whole document. */
  readonly scope: "siblings" | "document";
  /**
   * Whether a server should suggest free values (`friends-2`, …) in `<alt-value>`: sensible for
   * names and ids, not for addresses such as an entry's `uri`. @default {false}
   */
  readonly suggestAlternatives?: boolean;
}

/** One violation found by {@linkcode findUniquenessViolations}. */
export interface UniquenessViolation {
  /** The constraint that is violated. */
  readonly constraint: UniquenessConstraint;
  /** The repeated value. */
  readonly value: string;
  /** The second element that has it. */
  readonly element: XmlElement;
  /** Every value of the attribute among the elements it must differ from (itself included). */
  readonly taken: ReadonlySet<string>;
}

function attributeValue(element: XmlElement, local: string): string | undefined {
  return element.attributes.find((a) => a.namespace === undefined && a.localName === local)
    ?.value;
}

/**
 * Check a document against uniqueness constraints (RFC 4825 §8.2.5 asks the server to; a client
 * that checks first spares a round trip and a 409).
 *
 * @param usage Anything with the constraints, e.g. a typed application usage.
 * @param document The parsed document.
 * @returns Every repeated value, in document order (empty when there is none).
 *
 * @example A repeated entry URI
 * ```ts
 * import { findUniquenessViolations, RESOURCE_LISTS } from "@xcap/xcap/usages";
 * import { parseXmlDocument } from "@xcap/xcap/xml";
 * import { assertEquals } from "@std/assert";
 *
 * const doc = parseXmlDocument(
 *   '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="f">' +
 *     '<entry uri="sip:a@x"/><entry uri="sip:a@x"/></list></resource-lists>',
 * )._unsafeUnwrap();
 * assertEquals(findUniquenessViolations(RESOURCE_LISTS, doc).map((v) => v.value), ["sip:a@x"]);
 * ```
 */
export function findUniquenessViolations(
  usage: { readonly uniqueness: readonly UniquenessConstraint[] },
  document: XmlDocument,
): readonly UniquenessViolation[] {
  const out: UniquenessViolation[] = [];
  for (const constraint of usage.uniqueness) {
    // Group the constrained elements (by parent, or all together) in document order.
    const groups = new Map<XmlElement | undefined, XmlElement[]>();
    const stack: XmlElement[] = [document.root];
    while (stack.length > 0) {
      const e = stack.pop()!;
      for (let i = e.children.length - 1; i >= 0; i--) {
        const child = e.children[i]!;
        if (child.kind === "element") stack.push(child);
      }
      if (e.namespace !== constraint.namespace || e.localName !== constraint.localName) continue;
      const group = constraint.scope === "siblings" ? e.parent : undefined;
      const members = groups.get(group) ?? [];
      members.push(e);
      groups.set(group, members);
    }
    for (const members of groups.values()) {
      const taken = new Set<string>();
      for (const member of members) {
        const value = attributeValue(member, constraint.attribute);
        if (value !== undefined) taken.add(value);
      }
      const seen = new Set<string>();
      for (const member of members) {
        const value = attributeValue(member, constraint.attribute);
        if (value === undefined) continue;
        if (seen.has(value)) out.push({ constraint, value, element: member, taken });
        else seen.add(value);
      }
    }
  }
  return out;
}
