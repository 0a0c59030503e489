/**
 * Validate a parsed document against a compiled schema set (`_xsd.ts`): XSD Part 1's element
 * and attribute validation rules for the subset the compiler supports, over our own tree, in one
 * pass without recursion. The first problem is reported as a sentence that names the element
 * by its path (`resource-lists/list[2]/entry[3]`) and says what rule it breaks.
 *
 * Wildcards follow XSD Part 1 §3.10.1: `skip` checks nothing below the element, `lax` checks it
 * against a global declaration when the schema set has one (and otherwise as `xs:anyType`,
 * whose children are again checked laxly), `strict` requires a declaration. This is what lets
 * elements and attributes of other namespaces through where a schema says `##other` (RFC 4825
 * §8.2.5).
 *
 * `xs:ID` values are collected rather than reported: a repeated ID that a usage's uniqueness
 * constraint also covers is reported as `uniqueness-failure`, with the fields RFC 4825 §11.2
 * asks for (see `usages.ts`).
 *
 * Pure: Web APIs only. Not exported from the package.
 *
 * @module
 */
import type { XmlElement } from "../xml/document.ts";
import { describePath } from "../usages/_model.ts";
import {
  type AttributeDeclaration,
  type CompiledSchema,
  type ComplexType,
  nameKey,
  type Term,
  type TypeDefinition,
  type Wildcard,
} from "./_xsd.ts";
import { checkSimpleValue, normalizeWhiteSpace, type SimpleType } from "./_xsd_simple.ts";

const XSI = "http://www.w3.org/2001/XMLSchema-instance";

/** One `xs:ID` value that occurs a second time. */
export interface RepeatedId {
  /** The value. */
  readonly value: string;
  /** The element that carries it the second time. */
  readonly element: XmlElement;
  /** The element that carries it first. */
  readonly first: XmlElement;
}

/** The outcome of a validation. */
export interface SchemaValidation {
  /** The first rule the document breaks, as a sentence; absent when it breaks none. */
  readonly problem?: string;
  /** Every repeated `xs:ID` value (only complete when there is no `problem`). */
  readonly repeatedIds: readonly RepeatedId[];
}

/** How an element is validated: by its type, laxly (no declaration) or not at all. */
type Assessment = TypeDefinition | "lax" | "skip";

/** Elements still to check, with how. */
interface Pending {
  readonly elements: XmlElement[];
  readonly how: Assessment[];
}

function reverseFrom<T>(items: T[], from: number): void {
  for (let i = from, j = items.length - 1; i < j; i++, j--) {
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
}

const WHITE_SPACE_ONLY = /^[ \t\r\n]*$/;

function where(element: XmlElement): string {
  return `<${element.name}> at ${describePath(element)}`;
}

function termLabel(term: Term, context: XmlElement): string {
  if (term.kind === "wildcard") return term.wildcard.description;
  const { localName, namespace } = term.declaration;
  return namespace === context.namespace || namespace === undefined
    ? `<${localName}>`
    : `<${localName}> in ${namespace}`;
}

function expectedList(labels: readonly string[]): string {
  if (labels.length <= 1) return labels[0] ?? "nothing";
  return `${labels.slice(0, -1).join(", ")} or ${labels.at(-1)}`;
}

function quote(text: string): string {
  const short = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return JSON.stringify(short);
}

/**
 * Validate `root` (a document element) against `schema`.
 *
 * @param schema The compiled schema set.
 * @param root The document element.
 * @returns The first problem, if any, and the repeated IDs.
 */
export function validateAgainstSchema(schema: CompiledSchema, root: XmlElement): SchemaValidation {
  const declaration = schema.elements.get(nameKey(root.namespace, root.localName));
  const repeatedIds: RepeatedId[] = [];
  if (declaration === undefined) {
    return {
      problem: `The document element <${root.name}> ` +
        `${root.namespace === undefined ? "in no namespace" : `in ${root.namespace}`}` +
        " is not declared by the schema",
      repeatedIds,
    };
  }
  const ids = new Map<string, XmlElement>();
  const recordId = (value: string, element: XmlElement) => {
    const first = ids.get(value);
    if (first === undefined) ids.set(value, element);
    else repeatedIds.push({ value, element, first });
  };
  // Two parallel stacks (no object per element): what to check, and how.
  const stack: Pending = { elements: [root], how: [declaration.type()] };
  while (stack.elements.length > 0) {
    const element = stack.elements.pop()!;
    const how = stack.how.pop()!;
    if (how === "skip") continue;
    const type = how === "lax" ? schema.anyType : how;
    const attributeProblem = checkAttributes(schema, element, type, recordId);
    if (attributeProblem !== undefined) return { problem: attributeProblem, repeatedIds };
    // Children go onto the stack in document order, then the pushed stretch is reversed, so
    // that the first child is checked next (problems are found in document order).
    const base = stack.elements.length;
    const contentProblem = type.kind === "simple"
      ? checkSimpleContent(element, type, recordId)
      : checkComplexContent(schema, element, type, stack, recordId);
    if (contentProblem !== undefined) return { problem: contentProblem, repeatedIds };
    reverseFrom(stack.elements, base);
    reverseFrom(stack.how, base);
  }
  return { repeatedIds };
}

/** `attribute`: the attribute's name; absent for the element's own text. */
function checkValue(
  type: SimpleType,
  raw: string,
  attribute: string | undefined,
  element: XmlElement,
  recordId: (value: string, element: XmlElement) => void,
): string | undefined {
  const problem = checkSimpleValue(type, raw);
  if (problem !== undefined) {
    const what = attribute === undefined
      ? where(element)
      : `the attribute ${attribute} of ${where(element)}`;
    return `The value ${quote(raw)} of ${what} is not valid (${type.name}): ${problem}`;
  }
  if (type.isId) recordId(normalizeWhiteSpace(raw, "collapse"), element);
  return undefined;
}

function checkAttributes(
  schema: CompiledSchema,
  element: XmlElement,
  type: TypeDefinition,
  recordId: (value: string, element: XmlElement) => void,
): string | undefined {
  const uses = type.kind === "complex" ? type.attributes : undefined;
  const wildcard: Wildcard | undefined = type.kind === "complex" ? type.anyAttribute : undefined;
  let seenRequired = 0;
  for (const attribute of element.attributes) {
    const ns = attribute.namespace;
    if (ns === XSI) {
      // XSD Part 1 §3.2.7: xsi:schemaLocation and xsi:noNamespaceSchemaLocation are hints;
      // xsi:type and xsi:nil would change the rules and no usage needs them.
      if (attribute.localName === "schemaLocation") continue;
      if (attribute.localName === "noNamespaceSchemaLocation") continue;
      return `The attribute ${attribute.name} on ${where(element)} is not supported by this ` +
        "server's schema validation";
    }
    const key = ns === undefined ? attribute.localName : nameKey(ns, attribute.localName);
    const use = uses?.get(key);
    let declaration: AttributeDeclaration | undefined = use?.declaration;
    if (use !== undefined && use.required) seenRequired++;
    if (declaration === undefined) {
      if (wildcard === undefined || !wildcard.allows(ns)) {
        return `The attribute ${attribute.name} is not allowed on ${where(element)}`;
      }
      if (wildcard.process === "skip") continue;
      declaration = schema.attributes.get(key);
      if (declaration === undefined) {
        if (wildcard.process === "strict") {
          return `The attribute ${attribute.name} on ${where(element)} is not declared`;
        }
        continue;
      }
    }
    const problem = checkValue(
      declaration.type(),
      attribute.value,
      attribute.name,
      element,
      recordId,
    );
    if (problem !== undefined) return problem;
    if (declaration.fixed !== undefined && attribute.value !== declaration.fixed) {
      return `The value ${quote(attribute.value)} of the attribute ${attribute.name} of ` +
        `${where(element)} must be ` +
        JSON.stringify(declaration.fixed);
    }
  }
  if (uses === undefined || type.kind !== "complex" || seenRequired === type.requiredAttributes) {
    return undefined;
  }
  for (const use of uses.values()) {
    if (!use.required) continue;
    const { localName, namespace } = use.declaration;
    const present = element.attributes.some((a) =>
      a.localName === localName && a.namespace === namespace
    );
    if (!present) {
      return `${where(element)} lacks the required attribute "${
        namespace === undefined ? localName : nameKey(namespace, localName)
      }"`;
    }
  }
  return undefined;
}

function textOf(element: XmlElement): string {
  let text = "";
  for (const child of element.children) {
    if (child.kind === "text" || child.kind === "cdata") text += child.value;
  }
  return text;
}

function checkSimpleContent(
  element: XmlElement,
  type: SimpleType,
  recordId: (value: string, element: XmlElement) => void,
): string | undefined {
  for (const child of element.children) {
    if (child.kind === "element") {
      return `${where(element)} may hold only text (${type.name}), not the element <${child.name}>`;
    }
  }
  return checkValue(type, textOf(element), undefined, element, recordId);
}

function checkComplexContent(
  schema: CompiledSchema,
  element: XmlElement,
  type: ComplexType,
  children: Pending,
  recordId: (value: string, element: XmlElement) => void,
): string | undefined {
  const content = type.content;
  switch (content.kind) {
    case "simple":
      return checkSimpleContent(element, content.type, recordId);
    case "empty": {
      for (const child of element.children) {
        if (child.kind === "element") {
          return `${where(element)} must be empty, but holds the element <${child.name}>`;
        }
        if ((child.kind === "text" || child.kind === "cdata") && child.value !== "") {
          // XSD Part 1 §3.4.4 (cvc-complex-type 2.1): no character children at all.
          return `${where(element)} must be empty, but holds the text ${quote(child.value)}`;
        }
      }
      return undefined;
    }
    case "elements": {
      let state = content.start();
      for (const child of element.children) {
        if (child.kind === "text" || child.kind === "cdata") {
          if (!content.mixed && !WHITE_SPACE_ONLY.test(child.value)) {
            return `${where(element)} may not hold text, but holds ${quote(child.value.trim())}`;
          }
          continue;
        }
        if (child.kind !== "element") continue;
        const step = state.step(child.namespace, child.localName);
        if (step === undefined) {
          const expected = state.expected.map((t) => termLabel(t, element));
          if (state.accepting) expected.push(`the end of <${element.name}>`);
          return `The element <${child.name}>` +
            `${
              child.namespace === element.namespace
                ? ""
                : ` in ${child.namespace ?? "no namespace"}`
            }` +
            ` at ${describePath(child)} is not allowed here: <${element.name}> expects ` +
            expectedList(expected);
        }
        state = step.next;
        const how = assessment(schema, step.term, child);
        if (how === "strict") {
          return `The element <${child.name}> at ${describePath(child)} is not declared`;
        }
        children.elements.push(child);
        children.how.push(how);
      }
      if (!state.accepting) {
        return `${where(element)} is incomplete: it needs ${
          expectedList(state.expected.map((t) => termLabel(t, element)))
        }`;
      }
      return undefined;
    }
  }
}

function assessment(
  schema: CompiledSchema,
  term: Term,
  child: XmlElement,
): Assessment | "strict" {
  if (term.kind === "element") return term.declaration.type();
  const process = term.wildcard.process;
  if (process === "skip") return "skip";
  const declaration = schema.elements.get(nameKey(child.namespace, child.localName));
  if (declaration !== undefined) return declaration.type();
  return process === "strict" ? "strict" : "lax";
}
