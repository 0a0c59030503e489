/**
 * Private: node selector evaluation (RFC 4825 §6.3) over the tree of `document.ts`. The one
 * selector engine behind `select.ts` and `edit.ts`.
 *
 * @module
 */
import { findAttribute } from "./_tree.ts";
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result, safeTry } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import {
  formatNodeSelector,
  type NamespaceBindings,
  type NodeSelector,
  type QualifiedName,
} from "../client/selector.ts";
import type { XmlAttribute, XmlDocument, XmlElement } from "./document.ts";
import type { NodeOperationError } from "./errors.ts";
import { XML_NAMESPACE } from "./_names.ts";

/** A namespace URI (absent: no namespace) and a local name. */
export interface ExpandedName {
  readonly namespace: string | undefined;
  readonly local: string;
}

/** A step with its names expanded. */
export interface ResolvedStep {
  /** Absent for `*`. */
  readonly name?: ExpandedName;
  readonly position?: number;
  readonly attribute?: { readonly name: ExpandedName; readonly value: string };
}

/** A selector with its names expanded. */
export interface ResolvedSelector {
  readonly steps: readonly ResolvedStep[];
  readonly terminal?:
    | { readonly kind: "attribute"; readonly name: ExpandedName }
    | { readonly kind: "namespace" };
}

/** The selector as text for messages. */
export function selectorText(selector: NodeSelector): string {
  return formatNodeSelector(selector).unwrapOr("(invalid node selector)");
}

function lookup(ns: NamespaceBindings, prefix: string): string | undefined {
  return Object.hasOwn(ns, prefix) ? ns[prefix] : undefined;
}

/**
 * Expand a name of the selector (RFC 4825 §6.3): a prefix through the URI's `xmlns()` bindings
 * (`xml` is always bound); an unprefixed element name into the application usage's default
 * namespace `ns[""]`; an unprefixed attribute name into no namespace.
 */
function expand(
  name: QualifiedName,
  ns: NamespaceBindings,
  isElement: boolean,
  selector: NodeSelector,
): Result<ExpandedName, NodeOperationError> {
  if (typeof name?.local !== "string" || name.local === "") {
    return err({
      kind: "bad-request",
      message: `Node selector ${selectorText(selector)} has a name without a local part`,
    });
  }
  if (name.prefix === undefined) {
    const uri = isElement ? lookup(ns, "") : undefined;
    return ok({ namespace: uri === "" ? undefined : uri, local: name.local });
  }
  const uri = lookup(ns, name.prefix) ?? (name.prefix === "xml" ? XML_NAMESPACE : undefined);
  if (uri === undefined || uri === "") {
    return err({
      kind: "bad-request",
      message: `Prefix "${name.prefix}" in node selector ${
        selectorText(selector)
      } is not bound; bind it with xmlns(${name.prefix}=...) in the query (RFC 4825 §6.4)`,
    });
  }
  return ok({ namespace: uri, local: name.local });
}

/** Expand every name of the selector; an unbound prefix is a `bad-request`. */
export function resolveSelector(
  selector: NodeSelector,
  ns: NamespaceBindings,
): Result<ResolvedSelector, NodeOperationError> {
  const steps = selector?.steps;
  if (!Array.isArray(steps) || steps.length === 0) {
    return err({ kind: "bad-request", message: "The node selector has no element step" });
  }
  return safeTry(function* () {
    const resolved: ResolvedStep[] = [];
    for (const s of steps) {
      if (typeof s !== "object" || s === null) {
        return err({
          kind: "bad-request",
          message: "The node selector has a step that is not an object",
        });
      }
      const out: {
        name?: ExpandedName;
        position?: number;
        attribute?: { name: ExpandedName; value: string };
      } = {};
      if (s.name !== undefined) {
        out.name = yield* expand(s.name, ns, true, selector);
      }
      if (s.position !== undefined) {
        if (!Number.isSafeInteger(s.position)) {
          return err({
            kind: "bad-request",
            message: `Node selector ${selectorText(selector)} has an invalid position`,
          });
        }
        out.position = s.position;
      }
      if (s.attribute !== undefined) {
        const name = yield* expand(s.attribute.name, ns, false, selector);
        out.attribute = { name, value: s.attribute.value };
      }
      resolved.push(out);
    }
    const terminal = selector.terminal;
    if (terminal === undefined) return ok({ steps: resolved });
    if (terminal.kind === "namespace") {
      return ok({ steps: resolved, terminal: { kind: "namespace" } });
    }
    return expand(terminal.name, ns, false, selector).map((name) => ({
      steps: resolved,
      terminal: { kind: "attribute", name },
    }));
  });
}

/** Whether the element passes the step's name test. */
export function matchesName(element: XmlElement, name: ExpandedName | undefined): boolean {
  return name === undefined ||
    (element.localName === name.local && element.namespace === name.namespace);
}

/** The element's attribute with that expanded name (namespace declarations are not attributes). */
export function findAttributeByName(
  element: XmlElement,
  name: ExpandedName,
): XmlAttribute | undefined {
  return findAttribute(element, name.namespace, name.local);
}

function matchesAttribute(element: XmlElement, test: ResolvedStep["attribute"]): boolean {
  if (test === undefined) return true;
  return findAttributeByName(element, test.name)?.value === test.value;
}

/**
 * The elements one step selects below each of `parents` (`undefined`: the document node, whose
 * only element child is the root). The position counts the siblings that pass the name test,
 * then the attribute test applies to the element at that position, in the order the ABNF of
 * RFC 4825 §6.3 writes them (`name[pos][@a="v"]`), as XPath evaluates predicates.
 */
export function applyStep(
  doc: XmlDocument,
  parents: readonly (XmlElement | undefined)[],
  step: ResolvedStep,
): XmlElement[] {
  const out: XmlElement[] = [];
  for (const parent of parents) {
    const children = parent === undefined ? [doc.root] : parent.children;
    let count = 0;
    for (const child of children) {
      if (child.kind !== "element" || !matchesName(child, step.name)) continue;
      count++;
      if (step.position !== undefined) {
        if (count === step.position) {
          if (matchesAttribute(child, step.attribute)) out.push(child);
          break;
        }
        continue;
      }
      if (matchesAttribute(child, step.attribute)) out.push(child);
    }
  }
  return out;
}

/** Every element the steps select, in document order. */
export function evaluateSteps(
  doc: XmlDocument,
  steps: readonly ResolvedStep[],
): XmlElement[] {
  let current: (XmlElement | undefined)[] = [undefined];
  let result: XmlElement[] = [];
  for (const step of steps) {
    result = applyStep(doc, current, step);
    if (result.length === 0) return result;
    current = result;
  }
  return result;
}
