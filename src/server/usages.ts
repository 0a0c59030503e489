/**
 * Server-side application usage rules (RFC 4825 §5.3–§5.5, §8.2.5): what a stored document must
 * look like after every write. A usage names the root elements its documents may have and can
 * add a validator; the known usages come with the structural and uniqueness constraints of their
 * RFCs (resource-lists and rls-services from RFC 4826, common-policy rulesets from RFC 4745,
 * PIDF from RFC 3863).
 *
 * This is not a full XML Schema validator: it checks the document element, the structure the
 * usages' semantics rely on (required attributes, which of the usage's own elements may appear
 * where) and the uniqueness constraints, and reports `schema-validation-error` or
 * `uniqueness-failure` conditions.
 *
 * Pure: Web APIs only.
 *
 * @module
 */
import { err, ok, type Result } from "npm:neverthrow@^8.2.0";
import { type ApplicationUsage, KNOWN_APPLICATIONS } from "../application.ts";
import type { UniquenessExists, XcapErrorCondition } from "../errors.ts";
import type { XmlDocument, XmlElement } from "../xml/document.ts";
import { findUniquenessViolations, type UniquenessConstraint } from "../uniqueness.ts";
import { PIDF_MANIPULATION } from "../usages/pidf.ts";
import { PRES_RULES } from "../usages/pres_rules.ts";
import { RESOURCE_LISTS } from "../usages/resource_lists.ts";
import { RLS_SERVICES } from "../usages/rls_services.ts";

/** An element name with its namespace. */
export interface ElementName {
  /** The namespace URI. */
  readonly namespace: string;
  /** The local name. */
  readonly localName: string;
}

/**
 * Checks a whole document after a write; returns the condition that rejects it, or `undefined`
 * when it is acceptable.
 */
export type DocumentValidator = (document: XmlDocument) => XcapErrorCondition | undefined;

/** An application usage as the server serves it: the facts of §5 plus its validation rules. */
export interface ServerApplicationUsage extends ApplicationUsage {
  /**
   * The document elements its documents may have; any other is a `schema-validation-error`.
   * Absent: any document element is accepted.
   */
  readonly rootElements?: readonly ElementName[];
  /** Further checks after the document element passed (structure, uniqueness). */
  readonly validate?: DocumentValidator;
}

const RL = "urn:ietf:params:xml:ns:resource-lists";
const RLS = "urn:ietf:params:xml:ns:rls-services";
const CP = "urn:ietf:params:xml:ns:common-policy";
const PIDF = "urn:ietf:params:xml:ns:pidf";
const CAPS = "urn:ietf:params:xml:ns:xcap-caps";
const WATCHERS = "http://openxcap.org/ns/watchers";
const DIRECTORY = "urn:oma:xml:xdm:xcap-directory";

function isElement(node: { readonly kind: string }): node is XmlElement {
  return node.kind === "element";
}

function childElements(element: XmlElement): XmlElement[] {
  return element.children.filter(isElement);
}

function hasName(element: XmlElement, name: ElementName): boolean {
  return element.namespace === name.namespace && element.localName === name.localName;
}

function attributeValue(element: XmlElement, local: string): string | undefined {
  return element.attributes.find((a) => a.namespace === undefined && a.localName === local)
    ?.value;
}

function describe(element: { readonly namespace?: string; readonly localName: string }): string {
  return element.namespace === undefined
    ? `<${element.localName}> in no namespace`
    : `<${element.localName}> in namespace ${element.namespace}`;
}

/**
 * A node selector for an element, as written in the document, with positions among same-named
 * siblings: `resource-lists/list[2]/entry[1]` (relative, like the `field` example of RFC 4825
 * §11.2).
 */
function elementPath(element: XmlElement): string {
  const steps: string[] = [];
  for (let e: XmlElement | undefined = element; e !== undefined; e = e.parent) {
    const parent: XmlElement | undefined = e.parent;
    let step = e.name;
    if (parent !== undefined) {
      const same = childElements(parent).filter((s) =>
        s.namespace === e!.namespace && s.localName === e!.localName
      );
      if (same.length > 1) step += `[${same.indexOf(e) + 1}]`;
    }
    steps.unshift(step);
  }
  return steps.join("/");
}

function schemaError(phrase: string): XcapErrorCondition {
  return { tag: "schema-validation-error", phrase };
}

/** The element and every element below it, in document order (no recursion, no generators). */
function descendants(element: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  const stack: XmlElement[] = [element];
  while (stack.length > 0) {
    const next = stack.pop()!;
    out.push(next);
    const children = next.children;
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i]!;
      if (child.kind === "element") stack.push(child);
    }
  }
  return out;
}

function alternatives(value: string, taken: ReadonlySet<string>): string[] {
  const result: string[] = [];
  for (let n = 2; result.length < 3 && n < 10_000; n++) {
    const candidate = `${value}-${n}`;
    if (!taken.has(candidate)) result.push(candidate);
  }
  return result;
}

/**
 * Build a validator that enforces uniqueness constraints (the same
 * {@linkcode UniquenessConstraint}s the client checks before it writes) and reports every
 * violation in one `uniqueness-failure` condition (RFC 4825 §11.2): one `<exists>` per duplicate,
 * its `field` the path to the second occurrence, with suggested free values where the constraint
 * asks for them.
 *
 * @param constraints The constraints, e.g. `RESOURCE_LISTS.uniqueness`.
 * @returns The validator.
 *
 * @example Entry URIs unique within their list
 * ```ts
 * import { uniquenessValidator } from "@xcap/xcap/server";
 * import { parseXmlDocument } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const rl = "urn:ietf:params:xml:ns:resource-lists";
 * const validate = uniquenessValidator([
 *   { namespace: rl, localName: "entry", attribute: "uri", scope: "siblings" },
 * ]);
 * const doc = parseXmlDocument(
 *   `<resource-lists xmlns="${rl}"><list><entry uri="sip:a@x"/><entry uri="sip:a@x"/></list>` +
 *     `</resource-lists>`,
 * )._unsafeUnwrap();
 * assertEquals(validate(doc), {
 *   tag: "uniqueness-failure",
 *   phrase: 'The uri "sip:a@x" of <entry> is not unique',
 *   exists: [{ field: "resource-lists/list/entry[2]/@uri", altValues: [] }],
 * });
 * ```
 */
export function uniquenessValidator(
  constraints: readonly UniquenessConstraint[],
): DocumentValidator {
  return (document) => {
    const violations = findUniquenessViolations({ uniqueness: constraints }, document);
    if (violations.length === 0) return undefined;
    const exists: UniquenessExists[] = violations.map(({ constraint, value, element, taken }) => ({
      field: `${elementPath(element)}/@${constraint.attribute}`,
      altValues: constraint.suggestAlternatives ? alternatives(value, taken) : [],
    }));
    const phrase = violations.map(({ constraint, value }) =>
      `The ${constraint.attribute} ${
        JSON.stringify(value)
      } of <${constraint.localName}> is not unique`
    ).join("; ");
    return { tag: "uniqueness-failure", phrase, exists };
  };
}

/** Run validators in order; the first condition wins. */
function allOf(...validators: readonly DocumentValidator[]): DocumentValidator {
  return (document) => {
    for (const validate of validators) {
      const condition = validate(document);
      if (condition !== undefined) return condition;
    }
    return undefined;
  };
}

/** Required attributes and allowed children of the usage's own namespace. */
interface StructureRule {
  readonly required?: readonly string[];
  /** Local names allowed as children in `namespace`; `undefined`: anything. */
  readonly children?: readonly string[];
  /** Whether children in other namespaces are allowed (`xs:any namespace="##other"`). */
  readonly foreignChildren?: boolean;
}

/**
 * A validator for the element structure of one namespace: for each element of that namespace
 * named in `rules`, its required attributes and which children it may have. Elements without a
 * rule are not checked themselves (their parent's rule decides whether they may appear).
 */
function structureValidator(
  namespace: string,
  rules: Readonly<Record<string, StructureRule>>,
): DocumentValidator {
  return (document) => {
    for (const element of descendants(document.root)) {
      if (element.namespace !== namespace) continue;
      const rule = Object.hasOwn(rules, element.localName) ? rules[element.localName] : undefined;
      if (rule === undefined) continue;
      for (const attribute of rule.required ?? []) {
        if (attributeValue(element, attribute) === undefined) {
          return schemaError(
            `<${element.localName}> at ${
              elementPath(element)
            } lacks the required attribute "${attribute}"`,
          );
        }
      }
      if (rule.children === undefined) continue;
      for (const child of childElements(element)) {
        const own = child.namespace === namespace;
        if (own ? rule.children.includes(child.localName) : rule.foreignChildren === true) {
          continue;
        }
        return schemaError(
          `${describe(child)} is not allowed inside <${element.localName}> at ${
            elementPath(element)
          }`,
        );
      }
    }
    return undefined;
  };
}

// RFC 4826 §3.2 (schema) and §3.4.5 (uniqueness of list names, entry URIs, entry-ref refs and
// external anchors among their siblings).
const LIST_CHILDREN = ["display-name", "list", "external", "entry", "entry-ref"];
const resourceListsValidator = allOf(
  structureValidator(RL, {
    "resource-lists": { children: ["list"], foreignChildren: false },
    "list": { children: LIST_CHILDREN, foreignChildren: true },
    "entry": { required: ["uri"], children: ["display-name"], foreignChildren: true },
    "entry-ref": { required: ["ref"], children: ["display-name"], foreignChildren: true },
    "external": { children: ["display-name"], foreignChildren: true },
    "display-name": { children: [] },
  }),
  uniquenessValidator(RESOURCE_LISTS.uniqueness),
);

// RFC 4826 §4.2 (schema) and §4.4.5: a service URI is unique (the RFC asks for uniqueness across
// all documents of the server; this checks the document being written).
const rlsServicesValidator = allOf(
  structureValidator(RLS, {
    "rls-services": { children: ["service"], foreignChildren: false },
    "service": {
      required: ["uri"],
      children: ["resource-list", "list", "packages"],
      foreignChildren: true,
    },
    "resource-list": { children: [] },
    "packages": { children: ["package"], foreignChildren: true },
    "package": { children: [] },
  }),
  uniquenessValidator(RLS_SERVICES.uniqueness),
);

// RFC 4745 §7 (schema): a ruleset holds rules, and a rule's `id` is an xs:ID, unique in the
// document.
const commonPolicyValidator = allOf(
  structureValidator(CP, {
    "ruleset": { children: ["rule"], foreignChildren: false },
    "rule": { required: ["id"] },
  }),
  uniquenessValidator(PRES_RULES.uniqueness),
);

// RFC 3863 §4.1: a tuple's `id` is an xs:ID, unique in the document; `entity` is required.
const pidfValidator = allOf(
  structureValidator(PIDF, {
    "presence": { required: ["entity"] },
    "tuple": { required: ["id"] },
  }),
  uniquenessValidator(PIDF_MANIPULATION.uniqueness),
);

const RULES: Readonly<Record<string, Omit<ServerApplicationUsage, keyof ApplicationUsage>>> = {
  "xcap-caps": { rootElements: [{ namespace: CAPS, localName: "xcap-caps" }] },
  "resource-lists": {
    rootElements: [{ namespace: RL, localName: "resource-lists" }],
    validate: resourceListsValidator,
  },
  "rls-services": {
    rootElements: [{ namespace: RLS, localName: "rls-services" }],
    validate: rlsServicesValidator,
  },
  "pres-rules": {
    rootElements: [{ namespace: CP, localName: "ruleset" }],
    validate: commonPolicyValidator,
  },
  "org.openmobilealliance.pres-rules": {
    rootElements: [{ namespace: CP, localName: "ruleset" }],
    validate: commonPolicyValidator,
  },
  "org.openxcap.dialog-rules": {
    rootElements: [{ namespace: CP, localName: "ruleset" }],
    validate: commonPolicyValidator,
  },
  "pidf-manipulation": {
    rootElements: [{ namespace: PIDF, localName: "presence" }],
    validate: pidfValidator,
  },
  "org.openxcap.watchers": { rootElements: [{ namespace: WATCHERS, localName: "watchers" }] },
  "org.openmobilealliance.xcap-directory": {
    rootElements: [{ namespace: DIRECTORY, localName: "xcap-directory" }],
  },
};

/**
 * The application usages the server serves by default: every known usage (see
 * `KNOWN_APPLICATIONS`) with its validation rules, except `xcap-caps`, which the server always
 * generates, and `org.openmobilealliance.xcap-directory`, whose documents an OMA server generates
 * from the stored ones (not implemented here).
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_SERVER_APPLICATIONS } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const rl = DEFAULT_SERVER_APPLICATIONS.find((u) => u.auid === "resource-lists");
 * assertEquals(rl?.rootElements, [
 *   { namespace: "urn:ietf:params:xml:ns:resource-lists", localName: "resource-lists" },
 * ]);
 * ```
 */
export const DEFAULT_SERVER_APPLICATIONS: readonly ServerApplicationUsage[] = Object.freeze(
  [...KNOWN_APPLICATIONS.values()]
    .filter((u) => u.auid !== "xcap-caps" && u.auid !== "org.openmobilealliance.xcap-directory")
    .map((u) => Object.freeze({ ...u, ...(RULES[u.auid] ?? {}) })),
);

/**
 * Validate a document against an application usage (RFC 4825 §8.2.5): the document element must
 * be one of `rootElements` (when given), then `validate` runs.
 *
 * @param usage The application usage.
 * @param document The parsed document.
 * @returns Nothing, or the condition for the 409 response.
 *
 * @example A document of the wrong usage
 * ```ts
 * import { DEFAULT_SERVER_APPLICATIONS, validateDocument } from "@xcap/xcap/server";
 * import { parseXmlDocument } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const rl = DEFAULT_SERVER_APPLICATIONS.find((u) => u.auid === "resource-lists")!;
 * const doc = parseXmlDocument('<ruleset xmlns="urn:ietf:params:xml:ns:common-policy"/>')
 *   ._unsafeUnwrap();
 * assertEquals(validateDocument(rl, doc)._unsafeUnwrapErr().tag, "schema-validation-error");
 * ```
 */
export function validateDocument(
  usage: ServerApplicationUsage,
  document: XmlDocument,
): Result<void, XcapErrorCondition> {
  const roots = usage.rootElements;
  if (roots !== undefined && roots.length > 0 && !roots.some((r) => hasName(document.root, r))) {
    const expected = roots.map((r) => `<${r.localName}> in namespace ${r.namespace}`).join(" or ");
    return err(schemaError(
      `The document element is ${describe(document.root)}; application usage ` +
        `${usage.auid} expects ${expected}`,
    ));
  }
  const condition = usage.validate?.(document);
  return condition === undefined ? ok(undefined) : err(condition);
}
