/**
 * Server-side application usage rules (RFC 4825 §5.3–§5.4, §8.2.5): what a stored document must
 * look like after every write. A usage names the root elements its documents may have and can
 * add a validator; the known usages come with their XML schemas (RFC 4826 resource-lists and
 * rls-services, RFC 4745 common-policy with RFC 5025 pres-rules, RFC 3863 PIDF with the RFC
 * 4479 data model, OMA xcap-directory, RFC 4825 xcap-caps), their uniqueness constraints and
 * the data constraints the schemas cannot express, reported as `schema-validation-error`,
 * `uniqueness-failure` and `constraint-failure` conditions whose phrase says what is wrong and
 * where.
 *
 * The schemas are compiled from the texts in `./schemas/` at the first write that needs them,
 * by an XSD compiler of our own (`_xsd.ts`) that validates our parsed tree directly: no second
 * XML parser, no serialization, and no WebAssembly in the server's module graph. OpenXCAP's
 * `org.openxcap.watchers` usage has no public schema: only its document element is checked.
 *
 * Pure: Web APIs only.
 *
 * @module
 */
import { attributeValue } from "../xml/_tree.ts";
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { type ApplicationUsage, KNOWN_APPLICATIONS } from "../client/media_types.ts";
import type { ConflictCondition, NonUniqueField } from "../client/errors.ts";
import type { XmlDocument, XmlElement } from "../xml/document.ts";
import { findUniquenessViolations, type UniquenessConstraint } from "../usages/uniqueness.ts";
import { describePath } from "../usages/_model.ts";
import { PIDF_MANIPULATION } from "../usages/pidf.ts";
import { PRES_RULES } from "../usages/pres_rules.ts";
import { RESOURCE_LISTS } from "../usages/resource_lists.ts";
import { RLS_SERVICES } from "../usages/rls_services.ts";
import { type CompiledSchema, compileSchemas } from "./_xsd.ts";
import { validateAgainstSchema } from "./_xsd_validate.ts";
import { SCHEMA_FILES } from "./schemas/mod.ts";

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
export type DocumentValidator = (document: XmlDocument) => ConflictCondition | undefined;

/** An application usage as the server serves it: the facts of §5 plus its validation rules. */
export interface ServerApplicationUsage extends ApplicationUsage {
  /**
   * The document elements its documents may have; any other is a `schema-validation-error`.
   * Absent: any document element is accepted.
   */
  readonly rootElements?: readonly ElementName[];
  /**
   * Further checks after the document element passed: for the known usages, their XML schema,
   * uniqueness and data constraints (RFC 4825 §8.2.5).
   */
  readonly validate?: DocumentValidator;
}

const RL = "urn:ietf:params:xml:ns:resource-lists";
const RLS = "urn:ietf:params:xml:ns:rls-services";
const CP = "urn:ietf:params:xml:ns:common-policy";
const PIDF = "urn:ietf:params:xml:ns:pidf";
const CAPS = "urn:ietf:params:xml:ns:xcap-caps";
const WATCHERS = "http://openxcap.org/ns/watchers";
const DIRECTORY = "urn:oma:xml:xdm:xcap-directory";

function hasName(element: XmlElement, name: ElementName): boolean {
  return element.namespace === name.namespace && element.localName === name.localName;
}

function describe(element: { readonly namespace?: string; readonly localName: string }): string {
  return element.namespace === undefined
    ? `<${element.localName}> in no namespace`
    : `<${element.localName}> in namespace ${element.namespace}`;
}

function schemaError(phrase: string): ConflictCondition {
  return { tag: "schema-validation-error", phrase };
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
 * import { parseXmlDocument } from "@xcap/xcap/xml";
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
    const exists: NonUniqueField[] = violations.map(({ constraint, value, element, taken }) => ({
      field: `${describePath(element)}/@${constraint.attribute}`,
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

/** Compiled schema sets by their root files, compiled at the first write that needs one. */
const compiledSchemas = new Map<string, CompiledSchema | string>();

function compiledSchema(roots: readonly string[]): CompiledSchema | string {
  const id = roots.join(" ");
  let compiled = compiledSchemas.get(id);
  if (compiled === undefined) {
    try {
      compiled = compileSchemas(SCHEMA_FILES, roots);
    } catch (e) {
      // Never for the schemas we ship: tests/server_schema_test.ts compiles each of them.
      compiled = e instanceof Error ? e.message : String(e);
    }
    compiledSchemas.set(id, compiled);
  }
  return compiled;
}

/**
 * The checks of RFC 4825 §8.2.5, in its order: the document must be valid for the usage's XML
 * schema (`schema-validation-error`), then meet its uniqueness constraints
 * (`uniqueness-failure`), then its other data constraints (`constraint-failure`).
 *
 * One exception to the order: an `xs:ID` repeated where the usage also declares the attribute
 * unique (a rule's or a tuple's `id`) is reported as `uniqueness-failure`, whose `<exists>`
 * fields and suggested values tell the client more than a schema error would. A repeated ID
 * that no uniqueness constraint covers (a `<dm:person>` and a `<tuple>` sharing an id) stays a
 * `schema-validation-error`.
 */
function usageValidator(
  schemaRoots: readonly string[],
  uniqueness: readonly UniquenessConstraint[],
  ...constraints: readonly DocumentValidator[]
): DocumentValidator {
  const unique = uniquenessValidator(uniqueness);
  return (document) => {
    const schema = compiledSchema(schemaRoots);
    if (typeof schema === "string") {
      return schemaError(`The server cannot use its schema ${schemaRoots.join(", ")}: ${schema}`);
    }
    const { problem, repeatedIds } = validateAgainstSchema(schema, document.root);
    if (problem !== undefined) return schemaError(problem);
    const notUnique = unique(document);
    if (notUnique !== undefined) return notUnique;
    const repeated = repeatedIds[0];
    if (repeated !== undefined) {
      return schemaError(
        `The id ${JSON.stringify(repeated.value)} of <${repeated.element.name}> at ` +
          `${describePath(repeated.element)} is already the id of <${repeated.first.name}> at ` +
          `${describePath(repeated.first)} (an xs:ID is unique in its document)`,
      );
    }
    for (const check of constraints) {
      const condition = check(document);
      if (condition !== undefined) return condition;
    }
    return undefined;
  };
}

/**
 * RFC 4826 §3.4.5: the `anchor` of an `<external>` element is an absolute HTTP URI (of an XCAP
 * element resource). HTTPS is accepted too: an XCAP root may be an `https:` URI (RFC 4825 §6).
 * The schema only says `xs:anyURI`. Checked wherever a resource-lists `<list>` appears, so in
 * rls-services documents too.
 */
function externalAnchorsAreHttpUris(document: XmlDocument): ConflictCondition | undefined {
  const stack: XmlElement[] = [document.root];
  while (stack.length > 0) {
    const element = stack.pop()!;
    const children = element.children;
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i]!;
      if (child.kind === "element") stack.push(child);
    }
    if (element.namespace !== RL || element.localName !== "external") continue;
    const anchor = attributeValue(element, "anchor");
    if (anchor === undefined || isAbsoluteHttpUri(anchor.trim())) continue;
    return {
      tag: "constraint-failure",
      phrase: `The anchor ${JSON.stringify(anchor)} of <${element.name}> at ` +
        `${describePath(element)} is not an absolute HTTP URI (RFC 4826 §3.4.5)`,
    };
  }
  return undefined;
}

function isAbsoluteHttpUri(value: string): boolean {
  return /^https?:\/\/[^/?#\s]+/i.test(value) && !/\s/.test(value) && URL.canParse(value);
}

// RFC 4826 §3.2 (schema) and §3.4.5 (uniqueness of list names, entry URIs, entry-ref refs and
// external anchors among their siblings; external anchors are absolute HTTP URIs).
const resourceListsValidator = usageValidator(
  ["resource-lists.xsd"],
  RESOURCE_LISTS.uniqueness,
  externalAnchorsAreHttpUris,
);

// RFC 4826 §4.2 (schema) and §4.4.5: a service URI is unique (the RFC asks for uniqueness across
// all documents of the server; this checks the document being written).
const rlsServicesValidator = usageValidator(
  ["rls-services.xsd"],
  RLS_SERVICES.uniqueness,
  externalAnchorsAreHttpUris,
);

// RFC 4745 (common-policy) with RFC 5025's pres-rules schema for the elements pres-rules puts
// into conditions, actions and transformations; a rule's `id` is unique in the document. OMA's
// pres-rules extensions and OpenXCAP's dialog-rules actions have no public schema: they pass
// where common-policy allows elements of other namespaces (lax, RFC 4825 §8.2.5).
const commonPolicyValidator = usageValidator(["presence-rules.xsd"], PRES_RULES.uniqueness);

// RFC 3863 (PIDF) and RFC 4479 (its data model: <dm:person>, <dm:device>); a tuple's `id` is
// unique in the document. Other PIDF extensions (RPID, ...) pass laxly.
const pidfValidator = usageValidator(
  ["pidf.xsd", "pidf-data-model.xsd"],
  PIDF_MANIPULATION.uniqueness,
);

const RULES: Readonly<Record<string, Omit<ServerApplicationUsage, keyof ApplicationUsage>>> = {
  "xcap-caps": {
    rootElements: [{ namespace: CAPS, localName: "xcap-caps" }],
    validate: usageValidator(["xcap-caps.xsd"], []),
  },
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
  // OpenXCAP's watchers document has no public schema (OpenXCAP generates it from its presence
  // database and never validates a write): only the document element is checked.
  "org.openxcap.watchers": { rootElements: [{ namespace: WATCHERS, localName: "watchers" }] },
  "org.openmobilealliance.xcap-directory": {
    rootElements: [{ namespace: DIRECTORY, localName: "xcap-directory" }],
    validate: usageValidator(["xcap-directory.xsd"], []),
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
 * be one of `rootElements` (when given), then `validate` runs. For the known usages that is
 * their XML schema (`schema-validation-error`, with a phrase that says what is wrong and where),
 * their uniqueness constraints (`uniqueness-failure`) and their data constraints
 * (`constraint-failure`). The schemas are compiled at the first call that needs them.
 *
 * @param usage The application usage.
 * @param document The parsed document.
 * @returns Nothing, or the condition for the 409 response.
 *
 * @example A document of the wrong usage
 * ```ts
 * import { DEFAULT_SERVER_APPLICATIONS } from "@xcap/xcap/server";
 * import { validateDocument } from "./usages.ts";
 * import { parseXmlDocument } from "@xcap/xcap/xml";
 * import { assertEquals } from "@std/assert";
 *
 * const rl = DEFAULT_SERVER_APPLICATIONS.find((u) => u.auid === "resource-lists")!;
 * const doc = parseXmlDocument('<ruleset xmlns="urn:ietf:params:xml:ns:common-policy"/>')
 *   ._unsafeUnwrap();
 * assertEquals(validateDocument(rl, doc)._unsafeUnwrapErr().tag, "schema-validation-error");
 * ```
 *
 * @example What the schema does not allow, and where
 * ```ts
 * import { DEFAULT_SERVER_APPLICATIONS } from "@xcap/xcap/server";
 * import { validateDocument } from "./usages.ts";
 * import { parseXmlDocument } from "@xcap/xcap/xml";
 * import { assertEquals } from "@std/assert";
 *
 * const rl = DEFAULT_SERVER_APPLICATIONS.find((u) => u.auid === "resource-lists")!;
 * const doc = parseXmlDocument(
 *   '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">' +
 *     '<list name="friends" some-attribute="x"/></resource-lists>',
 * )._unsafeUnwrap();
 * assertEquals(validateDocument(rl, doc)._unsafeUnwrapErr(), {
 *   tag: "schema-validation-error",
 *   phrase: "The attribute some-attribute is not allowed on <list> at resource-lists/list",
 * });
 * ```
 */
export function validateDocument(
  usage: ServerApplicationUsage,
  document: XmlDocument,
): Result<void, ConflictCondition> {
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
