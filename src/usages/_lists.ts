/**
 * Private: reading and planning `<list>` elements, shared by resource-lists and rls-services
 * (whose services hold a list of the same type, RFC 4826 §4.2).
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { ok, Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import type { InvalidArgumentError } from "../client/errors.ts";
import type { XmlElement } from "../xml/document.ts";
import {
  attributeValue,
  childElements,
  childOf,
  type ChildPlan,
  type ElementPlan,
  firstChild,
  originOf,
  requiredAttribute,
  textContent,
} from "./_model.ts";
import type { XmlOrigin } from "./codec.ts";
import type { ResourceList, ResourceListItem } from "./resource_lists.ts";

/** The resource-lists namespace (RFC 4826 §3.2). */
const RL = "urn:ietf:params:xml:ns:resource-lists";

const WHAT = "resource-lists";
const ITEM_NAMES = new Set(["entry", "entry-ref", "external", "list"]);

function displayNameOf(element: XmlElement): string | undefined {
  const dn = firstChild(element, RL, "display-name");
  return dn === undefined ? undefined : textContent(dn);
}

function parseItem(
  element: XmlElement,
  text: string,
): Result<ResourceListItem, InvalidArgumentError> {
  const origin = originOf(element, text);
  const displayName = displayNameOf(element);
  switch (element.localName) {
    case "entry":
      return requiredAttribute(element, "uri", WHAT).map((uri) => ({
        kind: "entry" as const,
        uri,
        ...(displayName === undefined ? {} : { displayName }),
        origin,
      }));
    case "entry-ref":
      return requiredAttribute(element, "ref", WHAT).map((ref) => ({
        kind: "entry-ref" as const,
        ref,
        ...(displayName === undefined ? {} : { displayName }),
        origin,
      }));
    case "external": {
      const anchor = attributeValue(element, "anchor");
      return ok({
        kind: "external" as const,
        ...(anchor === undefined ? {} : { anchor }),
        ...(displayName === undefined ? {} : { displayName }),
        origin,
      });
    }
    default:
      return parseList(element, text);
  }
}

/**
 * Read a `<list>` element (of resource-lists, or the `<list>` of an rls-services service, whose
 * members are in the resource-lists namespace too).
 */
export function parseList(
  element: XmlElement,
  text: string,
): Result<ResourceList, InvalidArgumentError> {
  const name = attributeValue(element, "name");
  const displayName = displayNameOf(element);
  return Result.combine(
    childElements(element)
      .filter((child) => child.namespace === RL && ITEM_NAMES.has(child.localName))
      .map((child) => parseItem(child, text)),
  ).map((items) => ({
    kind: "list",
    ...(name === undefined ? {} : { name }),
    ...(displayName === undefined ? {} : { displayName }),
    items,
    origin: originOf(element, text),
  }));
}

/** The plan of a `<display-name>` child of `parent` (absent value: no display name). */
export function displayNamePlan(
  parent: XmlOrigin | undefined,
  value: string | undefined,
  namespace: string = RL,
): ChildPlan[] {
  if (value === undefined) return [];
  const existing = parent === undefined
    ? undefined
    : firstChild(parent.element, namespace, "display-name");
  return [childOf({
    origin: existing === undefined ? undefined : originOf(existing, parent!.text),
    namespace,
    localName: "display-name",
    preferredPrefix: "rl",
    text: value,
  })];
}

/** Whether `element` is the first `<display-name>` of its parent (the one the model reads). */
function isFirstDisplayName(element: XmlElement, namespace: string = RL): boolean {
  return element.parent !== undefined &&
    firstChild(element.parent, namespace, "display-name") === element;
}

function itemPlan(item: ResourceListItem): ElementPlan {
  switch (item.kind) {
    case "entry":
    case "entry-ref":
    case "external": {
      const attribute = item.kind === "entry"
        ? { localName: "uri", value: item.uri }
        : item.kind === "entry-ref"
        ? { localName: "ref", value: item.ref }
        : { localName: "anchor", value: item.anchor };
      return {
        origin: item.origin,
        namespace: RL,
        localName: item.kind,
        preferredPrefix: "rl",
        attributes: [attribute],
        isKnown: (e) => isFirstDisplayName(e),
        children: displayNamePlan(item.origin, item.displayName),
      };
    }
    default:
      return listPlan(item, RL);
  }
}

/**
 * The build plan of a list whose own element is in `namespace` (resource-lists, or rls-services
 * for a service's list); its members are always in the resource-lists namespace.
 */
export function listPlan(list: ResourceList, namespace: string): ElementPlan {
  return {
    origin: list.origin,
    namespace,
    localName: "list",
    preferredPrefix: namespace === RL ? "rl" : "rls",
    attributes: [{ localName: "name", value: list.name }],
    isKnown: (e) => e.namespace === RL && (ITEM_NAMES.has(e.localName) || isFirstDisplayName(e)),
    children: [
      ...displayNamePlan(list.origin, list.displayName),
      ...(list.items ?? []).map((i) => childOf(itemPlan(i))),
    ],
  };
}
