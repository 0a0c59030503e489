/**
 * Presence authorization rules: the `pres-rules` application usage (RFC 5025) and OMA's
 * `org.openmobilealliance.pres-rules`, both common-policy rulesets (RFC 4745), as typed data
 * that parses from and builds to XML without losing what the model does not know.
 *
 * A ruleset holds rules; a rule has conditions (who it applies to: identities, a sphere,
 * validity periods, and OMA's external lists, other-identity and anonymous-request), actions
 * (`<pr:sub-handling>`: block, confirm, polite-block or allow, RFC 5025 §3.2.1) and
 * transformations (what a watcher gets to see, RFC 5025 §3.3).
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, Result, safeTry } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { KNOWN_APPLICATIONS } from "../client/media_types.ts";
import { invalidArgument, type InvalidArgumentError } from "../client/errors.ts";
import type { XmlDocument, XmlElement } from "../xml/document.ts";
import {
  attributeValue,
  checkRoot,
  childElements,
  childOf,
  type ChildPlan,
  childrenNamed,
  describePath,
  firstChild,
  modelError,
  originOf,
  readModelDocument,
  renderDocument,
  requiredAttribute,
  textContent,
} from "./_model.ts";
import type { DocumentCodec, TypedApplicationUsage, XmlOrigin } from "./codec.ts";

/**
 * The common-policy namespace (RFC 4745 §13.2).
 *
 * @example Usage
 * ```ts
 * import { COMMON_POLICY_NAMESPACE, parseRuleset } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * // A ruleset's rules are common-policy elements, whatever prefix the document binds to it.
 * const rules = parseRuleset(
 *   `<ruleset xmlns="${COMMON_POLICY_NAMESPACE}"><rule id="a"/></ruleset>`,
 * );
 * assertEquals(rules.map((r) => r.rules.map((rule) => rule.id)).unwrapOr([]), ["a"]);
 * ```
 */
export const COMMON_POLICY_NAMESPACE = "urn:ietf:params:xml:ns:common-policy";
/**
 * The pres-rules namespace (RFC 5025 §10.2).
 *
 * @example Usage
 * ```ts
 * import { COMMON_POLICY_NAMESPACE, parseRuleset, PRES_RULES_NAMESPACE } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * // <sub-handling> is a pres-rules element inside a common-policy rule (RFC 5025 §3.2.1).
 * const rules = parseRuleset(
 *   `<cr:ruleset xmlns:cr="${COMMON_POLICY_NAMESPACE}" xmlns="${PRES_RULES_NAMESPACE}">` +
 *     `<cr:rule id="a"><cr:actions><sub-handling>allow</sub-handling></cr:actions></cr:rule>` +
 *     `</cr:ruleset>`,
 * );
 * assertEquals(rules.isOk() && rules.value.rules[0]?.actions?.subHandling, "allow");
 * ```
 */
export const PRES_RULES_NAMESPACE = "urn:ietf:params:xml:ns:pres-rules";
/**
 * OMA's common-policy extensions (external lists, other-identity, anonymous-request).
 *
 * @example Usage
 * ```ts
 * import { OMA_COMMON_POLICY_NAMESPACE } from "@xcap/xcap/usages";
 * import { parseXmlDocument } from "@xcap/xcap/xml";
 * import { assertEquals } from "@std/assert";
 *
 * // A document is told by the namespace of its root element, whatever prefix it uses.
 * const doc = parseXmlDocument(`<p:external-list xmlns:p="${OMA_COMMON_POLICY_NAMESPACE}"/>`);
 * assertEquals(doc.isOk() && doc.value.root.namespace === OMA_COMMON_POLICY_NAMESPACE, true);
 * assertEquals(doc.isOk() && doc.value.root.localName, "external-list");
 * ```
 */
export const OMA_COMMON_POLICY_NAMESPACE = "urn:oma:xml:xdm:common-policy";

const CP = COMMON_POLICY_NAMESPACE;
const OCP = OMA_COMMON_POLICY_NAMESPACE;

/** What `<sub-handling>` decides for a subscription (RFC 5025 §3.2.1), weakest first. */
export type SubHandling = "block" | "confirm" | "polite-block" | "allow";

const SUB_HANDLING: readonly SubHandling[] = ["block", "confirm", "polite-block", "allow"];

/** `<one id>`: one identity, by URI. */
export interface PolicyIdentityOne {
  /** The identity's URI. */
  readonly id: string;
  /** Where it was parsed from. */
  readonly origin?: XmlOrigin | undefined;
}

/** `<except>` inside `<many>`: a domain or an identity the `<many>` does not cover. */
export interface PolicyIdentityExcept {
  /** An excluded domain. */
  readonly domain?: string | undefined;
  /** An excluded identity. */
  readonly id?: string | undefined;
  /** Where it was parsed from. */
  readonly origin?: XmlOrigin | undefined;
}

/** `<many>`: every authenticated identity (of a domain, when given), with exceptions. */
export interface PolicyIdentityMany {
  /** The domain; absent: any domain. */
  readonly domain?: string | undefined;
  /** Exceptions. */
  readonly except?: readonly PolicyIdentityExcept[] | undefined;
  /** Where it was parsed from. */
  readonly origin?: XmlOrigin | undefined;
}

/** `<identity>`: the rule applies to these identities (RFC 4745 §7.1). */
export interface PolicyIdentity {
  /** Single identities. */
  readonly one?: readonly PolicyIdentityOne[] | undefined;
  /** Groups of identities. */
  readonly many?: readonly PolicyIdentityMany[] | undefined;
  /** Where it was parsed from. */
  readonly origin?: XmlOrigin | undefined;
}

/** One `<from>`/`<until>` pair of `<validity>` (RFC 4745 §7.3), as `xs:dateTime` text. */
export interface ValidityPeriod {
  /** Start of the period. */
  readonly from: string;
  /** End of the period. */
  readonly until: string;
}

/** `<conditions>`: when the rule applies. */
export interface PolicyConditions {
  /** `<identity>`. */
  readonly identity?: PolicyIdentity | undefined;
  /** `<sphere value>`. */
  readonly sphere?: string | undefined;
  /** `<validity>` periods. */
  readonly validity?: readonly ValidityPeriod[] | undefined;
  /** OMA `<ocp:external-list>`: the `anc` URIs of resource lists whose members match. */
  readonly externalLists?: readonly string[] | undefined;
  /** OMA `<ocp:other-identity/>`: matches whoever no other rule matches. */
  readonly otherIdentity?: boolean | undefined;
  /** OMA `<ocp:anonymous-request/>`: matches anonymous requests. */
  readonly anonymousRequest?: boolean | undefined;
  /** Where it was parsed from. */
  readonly origin?: XmlOrigin | undefined;
}

/** `<actions>`. */
export interface PolicyActions {
  /** `<sub-handling>`. */
  readonly subHandling?: SubHandling | undefined;
  /** Where it was parsed from. */
  readonly origin?: XmlOrigin | undefined;
}

/** One member of a provide set: its element's local name and text, e.g. `service-uri-scheme`. */
export interface ProvidePermissionItem {
  /** Local name, e.g. `service-uri`, `occurrence-id`, `class`, `deviceID`. */
  readonly kind: string;
  /** The element's text. */
  readonly value: string;
}

/** A `<provide-services>`/`-persons`/`-devices` permission: all of them, or the listed ones. */
export type ProvidePermission = "all" | readonly ProvidePermissionItem[];

/** `<transformations>`: what a watcher that is allowed gets to see (RFC 5025 §3.3). */
export interface PolicyTransformations {
  /** `<provide-services>`. */
  readonly provideServices?: ProvidePermission | undefined;
  /** `<provide-persons>`. */
  readonly providePersons?: ProvidePermission | undefined;
  /** `<provide-devices>`. */
  readonly provideDevices?: ProvidePermission | undefined;
  /** `<provide-all-attributes/>`. */
  readonly provideAllAttributes?: boolean | undefined;
  /**
   * The other `<provide-…>` permissions with text content, by local name: `provide-activities`
   * to `"true"`, `provide-user-input` to `"bare"`, …
   */
  readonly provide?: Readonly<Record<string, string>> | undefined;
  /** Where it was parsed from. */
  readonly origin?: XmlOrigin | undefined;
}

/** A `<rule>`. */
export interface PolicyRule {
  /** The rule's `id` (an `xs:ID`, unique in the document). */
  readonly id: string;
  /** `<conditions>`; absent when the element is. */
  readonly conditions?: PolicyConditions | undefined;
  /** `<actions>`; absent when the element is. */
  readonly actions?: PolicyActions | undefined;
  /** `<transformations>`; absent when the element is. */
  readonly transformations?: PolicyTransformations | undefined;
  /** Where it was parsed from. */
  readonly origin?: XmlOrigin | undefined;
}

/** A `<ruleset>` document. */
export interface Ruleset {
  /** The rules, in document order. */
  readonly rules: readonly PolicyRule[];
  /** Where it was parsed from. */
  readonly origin?: XmlOrigin | undefined;
}

/** Options of {@linkcode parseRuleset} and {@linkcode buildRuleset}. */
export interface RulesetOptions {
  /**
   * The namespace of `<sub-handling>` and the `<provide-…>` transformations.
   * @default {PRES_RULES_NAMESPACE}
   */
  readonly extensionNamespace?: string;
  /** The prefix declared for it in a new document. @default "pr" */
  readonly extensionPrefix?: string;
}

const WHAT = "common-policy";
const PROVISIONS = [
  ["provideServices", "provide-services", "all-services"],
  ["providePersons", "provide-persons", "all-persons"],
  ["provideDevices", "provide-devices", "all-devices"],
] as const;
const STRUCTURED = new Set([
  "provide-services",
  "provide-persons",
  "provide-devices",
  "provide-all-attributes",
  "provide-unknown-attribute",
]);

function isFirst(e: XmlElement): boolean {
  return e.parent !== undefined && e.namespace !== undefined &&
    firstChild(e.parent, e.namespace, e.localName) === e;
}

function childOrigin(
  parent: XmlOrigin | undefined,
  namespace: string,
  localName: string,
): XmlOrigin | undefined {
  if (parent === undefined) return undefined;
  const e = firstChild(parent.element, namespace, localName);
  return e === undefined ? undefined : originOf(e, parent.text);
}

function named(e: XmlElement, namespace: string, ...names: string[]): boolean {
  return e.namespace === namespace && names.includes(e.localName);
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

function parseIdentity(e: XmlElement, text: string): Result<PolicyIdentity, InvalidArgumentError> {
  return safeTry(function* () {
    const one: PolicyIdentityOne[] = [];
    const many: PolicyIdentityMany[] = [];
    for (const c of childElements(e)) {
      if (named(c, CP, "one")) {
        const id = yield* requiredAttribute(c, "id", WHAT);
        one.push({ id, origin: originOf(c, text) });
      } else if (named(c, CP, "many")) {
        const except = childrenNamed(c, CP, "except").map((x) => ({
          ...optional("domain", attributeValue(x, "domain")),
          ...optional("id", attributeValue(x, "id")),
          origin: originOf(x, text),
        }));
        many.push({
          ...optional("domain", attributeValue(c, "domain")),
          except,
          origin: originOf(c, text),
        });
      }
    }
    return ok({ one, many, origin: originOf(e, text) });
  });
}

function parseConditions(
  e: XmlElement,
  text: string,
): Result<PolicyConditions, InvalidArgumentError> {
  const identityElement = firstChild(e, CP, "identity");
  const identity = identityElement === undefined
    ? ok(undefined)
    : parseIdentity(identityElement, text);
  return identity.map((identity) => conditionsOf(e, text, identity));
}

function conditionsOf(
  e: XmlElement,
  text: string,
  identity: PolicyIdentity | undefined,
): PolicyConditions {
  const sphere = firstChild(e, CP, "sphere");
  const validityElement = firstChild(e, CP, "validity");
  let validity: ValidityPeriod[] | undefined;
  if (validityElement !== undefined) {
    const froms = childrenNamed(validityElement, CP, "from");
    const untils = childrenNamed(validityElement, CP, "until");
    validity = froms.map((f, i) => ({
      from: textContent(f).trim(),
      until: untils[i] === undefined ? "" : textContent(untils[i]!).trim(),
    }));
  }
  const external = firstChild(e, OCP, "external-list");
  return {
    ...optional("identity", identity),
    ...optional("sphere", sphere === undefined ? undefined : attributeValue(sphere, "value") ?? ""),
    ...optional("validity", validity),
    ...optional(
      "externalLists",
      external === undefined ? undefined : childElements(external)
        .filter((x) => named(x, OCP, "entry"))
        .map((x) => attributeValue(x, "anc") ?? ""),
    ),
    ...optional("otherIdentity", firstChild(e, OCP, "other-identity") ? true : undefined),
    ...optional("anonymousRequest", firstChild(e, OCP, "anonymous-request") ? true : undefined),
    origin: originOf(e, text),
  };
}

function parseActions(
  e: XmlElement,
  text: string,
  ext: string,
): Result<PolicyActions, InvalidArgumentError> {
  const sub = firstChild(e, ext, "sub-handling");
  if (sub === undefined) return ok({ origin: originOf(e, text) });
  const value = textContent(sub).trim();
  if (!(SUB_HANDLING as readonly string[]).includes(value)) {
    return err(modelError(
      WHAT,
      `<sub-handling> at ${describePath(sub)} is ${JSON.stringify(value)}, not one of ${
        SUB_HANDLING.join(", ")
      } (RFC 5025 §3.2.1)`,
    ));
  }
  return ok({ subHandling: value as SubHandling, origin: originOf(e, text) });
}

function parseProvision(e: XmlElement, allName: string, ext: string): ProvidePermission {
  if (firstChild(e, ext, allName) !== undefined) return "all";
  return childElements(e)
    .filter((c) => c.namespace === ext)
    .map((c) => ({ kind: c.localName, value: textContent(c).trim() }));
}

function parseTransformations(e: XmlElement, text: string, ext: string): PolicyTransformations {
  const out: Record<string, unknown> = {};
  for (const [key, local, all] of PROVISIONS) {
    const p = firstChild(e, ext, local);
    if (p !== undefined) out[key] = parseProvision(p, all, ext);
  }
  if (firstChild(e, ext, "provide-all-attributes") !== undefined) out.provideAllAttributes = true;
  const provide: Record<string, string> = {};
  for (const c of childElements(e)) {
    if (
      c.namespace === ext && c.localName.startsWith("provide-") && !STRUCTURED.has(c.localName) &&
      !Object.hasOwn(provide, c.localName)
    ) {
      provide[c.localName] = textContent(c).trim();
    }
  }
  if (Object.keys(provide).length > 0) out.provide = provide;
  out.origin = originOf(e, text);
  return out as PolicyTransformations;
}

function parseRule(
  e: XmlElement,
  text: string,
  ext: string,
): Result<PolicyRule, InvalidArgumentError> {
  return safeTry(function* () {
    const id = yield* requiredAttribute(e, "id", WHAT);
    const c = firstChild(e, CP, "conditions");
    const a = firstChild(e, CP, "actions");
    const t = firstChild(e, CP, "transformations");
    const conditions = c === undefined ? undefined : yield* parseConditions(c, text);
    const actions = a === undefined ? undefined : yield* parseActions(a, text, ext);
    return ok({
      id,
      ...optional("conditions", conditions),
      ...optional("actions", actions),
      ...optional(
        "transformations",
        t === undefined ? undefined : parseTransformations(t, text, ext),
      ),
      origin: originOf(e, text),
    });
  });
}

/**
 * Read a common-policy ruleset (pres-rules, OMA pres-rules, dialog-rules) into typed data.
 *
 * @param input The document text, or a parsed document.
 * @param options `extensionNamespace`: where `<sub-handling>` and the `<provide-…>` elements
 * live (pres-rules by default).
 * @returns The ruleset, or `InvalidArgument` (argument `document`).
 *
 * @example The example of RFC 5025 §8
 * ```ts
 * import { parseRuleset } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const ruleset = parseRuleset(`<cr:ruleset xmlns="urn:ietf:params:xml:ns:pres-rules"
 *     xmlns:pr="urn:ietf:params:xml:ns:pres-rules"
 *     xmlns:cr="urn:ietf:params:xml:ns:common-policy">
 *   <cr:rule id="a">
 *     <cr:conditions><cr:identity><cr:one id="sip:user@example.com"/></cr:identity></cr:conditions>
 *     <cr:actions><pr:sub-handling>allow</pr:sub-handling></cr:actions>
 *     <cr:transformations>
 *       <pr:provide-services><pr:service-uri-scheme>sip</pr:service-uri-scheme></pr:provide-services>
 *       <pr:provide-persons><pr:all-persons/></pr:provide-persons>
 *       <pr:provide-activities>true</pr:provide-activities>
 *     </cr:transformations>
 *   </cr:rule>
 * </cr:ruleset>`)._unsafeUnwrap();
 * const rule = ruleset.rules[0]!;
 * assertEquals(rule.conditions?.identity?.one?.map((o) => o.id), ["sip:user@example.com"]);
 * assertEquals(rule.actions?.subHandling, "allow");
 * assertEquals(rule.transformations?.providePersons, "all");
 * assertEquals(rule.transformations?.provide, { "provide-activities": "true" });
 * ```
 */
export function parseRuleset(
  input: string | XmlDocument,
  options: RulesetOptions = {},
): Result<Ruleset, InvalidArgumentError> {
  const ext = options.extensionNamespace ?? PRES_RULES_NAMESPACE;
  const doc = readModelDocument(input, WHAT);
  return doc.andThen((d) =>
    checkRoot(d, CP, "ruleset", WHAT).andThen((root) =>
      Result.combine(
        childrenNamed(root, CP, "rule").map((c) => parseRule(c, d.text, ext)),
      ).map((rules) => ({ rules, origin: originOf(root, d.text) }))
    )
  );
}

// ---------------------------------------------------------------------------------------------
// Building
// ---------------------------------------------------------------------------------------------

/** Plans of children with origins in their old order first, new ones after. */
function inSourceOrder(plans: ChildPlan[]): ChildPlan[] {
  const old = plans.filter((p) => p.origin !== undefined)
    .sort((a, b) => a.origin!.element.start - b.origin!.element.start);
  return [...old, ...plans.filter((p) => p.origin === undefined)];
}

function emptyElement(
  parent: XmlOrigin | undefined,
  namespace: string,
  localName: string,
  prefix: string,
  present: boolean | undefined,
): ChildPlan[] {
  if (!present) return [];
  return [childOf({
    origin: childOrigin(parent, namespace, localName),
    namespace,
    localName,
    preferredPrefix: prefix,
  })];
}

function identityPlan(identity: PolicyIdentity): ChildPlan {
  const one = (identity.one ?? []).map((o) =>
    childOf({
      origin: o.origin,
      namespace: CP,
      localName: "one",
      preferredPrefix: "cr",
      attributes: [{ localName: "id", value: o.id }],
    })
  );
  const many = (identity.many ?? []).map((m) =>
    childOf({
      origin: m.origin,
      namespace: CP,
      localName: "many",
      preferredPrefix: "cr",
      attributes: [{ localName: "domain", value: m.domain }],
      isKnown: (e) => named(e, CP, "except"),
      children: (m.except ?? []).map((x) =>
        childOf({
          origin: x.origin,
          namespace: CP,
          localName: "except",
          preferredPrefix: "cr",
          attributes: [{ localName: "domain", value: x.domain }, { localName: "id", value: x.id }],
        })
      ),
    })
  );
  return childOf({
    origin: identity.origin,
    namespace: CP,
    localName: "identity",
    preferredPrefix: "cr",
    isKnown: (e) => named(e, CP, "one", "many"),
    children: inSourceOrder([...one, ...many]),
  });
}

function validityPlan(
  parent: XmlOrigin | undefined,
  periods: readonly ValidityPeriod[],
): ChildPlan {
  const origin = childOrigin(parent, CP, "validity");
  const olds = origin === undefined ? [] : childElements(origin.element);
  const froms = olds.filter((x) => named(x, CP, "from"));
  const untils = olds.filter((x) => named(x, CP, "until"));
  const leaf = (local: string, old: XmlElement | undefined, value: string) =>
    childOf({
      origin: old === undefined ? undefined : originOf(old, origin!.text),
      namespace: CP,
      localName: local,
      preferredPrefix: "cr",
      text: old !== undefined && textContent(old).trim() === value ? textContent(old) : value,
    });
  return childOf({
    origin,
    namespace: CP,
    localName: "validity",
    preferredPrefix: "cr",
    isKnown: (e) => named(e, CP, "from", "until"),
    children: periods.flatMap((p, i) => [
      leaf("from", froms[i], p.from),
      leaf("until", untils[i], p.until),
    ]),
  });
}

function conditionsPlan(c: PolicyConditions): ChildPlan {
  const origin = c.origin;
  const external = childOrigin(origin, OCP, "external-list");
  const oldEntries = external === undefined ? [] : childrenNamed(external.element, OCP, "entry");
  const used = new Set<XmlElement>();
  const children: ChildPlan[] = [
    ...(c.identity === undefined ? [] : [identityPlan(c.identity)]),
    ...(c.sphere === undefined ? [] : [childOf({
      origin: childOrigin(origin, CP, "sphere"),
      namespace: CP,
      localName: "sphere",
      preferredPrefix: "cr",
      attributes: [{ localName: "value", value: c.sphere }],
    })]),
    ...(c.validity === undefined ? [] : [validityPlan(origin, c.validity)]),
    ...(c.externalLists === undefined ? [] : [childOf({
      origin: external,
      namespace: OCP,
      localName: "external-list",
      preferredPrefix: "ocp",
      isKnown: (e) => named(e, OCP, "entry"),
      children: c.externalLists.map((anc) => {
        const old = oldEntries.find((x) => !used.has(x) && attributeValue(x, "anc") === anc);
        if (old !== undefined) used.add(old);
        return childOf({
          origin: old === undefined ? undefined : originOf(old, external!.text),
          namespace: OCP,
          localName: "entry",
          preferredPrefix: "ocp",
          attributes: [{ localName: "anc", value: anc }],
        });
      }),
    })]),
    ...emptyElement(origin, OCP, "other-identity", "ocp", c.otherIdentity),
    ...emptyElement(origin, OCP, "anonymous-request", "ocp", c.anonymousRequest),
  ];
  return childOf({
    origin,
    namespace: CP,
    localName: "conditions",
    preferredPrefix: "cr",
    isKnown: (e) =>
      isFirst(e) && (named(e, CP, "identity", "sphere", "validity") ||
        named(e, OCP, "external-list", "other-identity", "anonymous-request")),
    children: inSourceOrder(children),
  });
}

function actionsPlan(a: PolicyActions, ext: string, prefix: string): ChildPlan {
  const sub = childOrigin(a.origin, ext, "sub-handling");
  return childOf({
    origin: a.origin,
    namespace: CP,
    localName: "actions",
    preferredPrefix: "cr",
    isKnown: (e) => e.namespace === ext && e.localName === "sub-handling" && isFirst(e),
    children: a.subHandling === undefined ? [] : [childOf({
      origin: sub,
      namespace: ext,
      localName: "sub-handling",
      preferredPrefix: prefix,
      text: sub !== undefined && textContent(sub.element).trim() === a.subHandling
        ? textContent(sub.element)
        : a.subHandling,
    })],
  });
}

function provisionPlan(
  parent: XmlOrigin | undefined,
  local: string,
  allName: string,
  value: ProvidePermission,
  ext: string,
  prefix: string,
): ChildPlan {
  const origin = childOrigin(parent, ext, local);
  const olds = origin === undefined
    ? []
    : childElements(origin.element).filter((e) => e.namespace === ext);
  const used = new Set<XmlElement>();
  const items: readonly ProvidePermissionItem[] = value === "all"
    ? [{ kind: allName, value: "" }]
    : value;
  return childOf({
    origin,
    namespace: ext,
    localName: local,
    preferredPrefix: prefix,
    isKnown: (e) => e.namespace === ext,
    children: items.map((item) => {
      const old = olds.find((e) =>
        !used.has(e) && e.localName === item.kind && textContent(e).trim() === item.value
      );
      if (old !== undefined) used.add(old);
      return childOf({
        origin: old === undefined ? undefined : originOf(old, origin!.text),
        namespace: ext,
        localName: item.kind,
        preferredPrefix: prefix,
        text: old === undefined ? item.value : textContent(old),
      });
    }),
  });
}

function transformationsPlan(t: PolicyTransformations, ext: string, prefix: string): ChildPlan {
  const origin = t.origin;
  const children: ChildPlan[] = [];
  for (const [key, local, all] of PROVISIONS) {
    const value = t[key];
    if (value !== undefined) children.push(provisionPlan(origin, local, all, value, ext, prefix));
  }
  for (const [local, value] of Object.entries(t.provide ?? {})) {
    const old = childOrigin(origin, ext, local);
    children.push(childOf({
      origin: old,
      namespace: ext,
      localName: local,
      preferredPrefix: prefix,
      text: old !== undefined && textContent(old.element).trim() === value
        ? textContent(old.element)
        : value,
    }));
  }
  children.push(
    ...emptyElement(origin, ext, "provide-all-attributes", prefix, t.provideAllAttributes),
  );
  return childOf({
    origin,
    namespace: CP,
    localName: "transformations",
    preferredPrefix: "cr",
    isKnown: (e) =>
      e.namespace === ext && isFirst(e) && e.localName.startsWith("provide-") &&
      e.localName !== "provide-unknown-attribute",
    children: inSourceOrder(children),
  });
}

function rulePlan(rule: PolicyRule, ext: string, prefix: string): ChildPlan {
  return childOf({
    origin: rule.origin,
    namespace: CP,
    localName: "rule",
    preferredPrefix: "cr",
    attributes: [{ localName: "id", value: rule.id }],
    isKnown: (e) => isFirst(e) && named(e, CP, "conditions", "actions", "transformations"),
    children: [
      ...(rule.conditions === undefined ? [] : [conditionsPlan(rule.conditions)]),
      ...(rule.actions === undefined ? [] : [actionsPlan(rule.actions, ext, prefix)]),
      ...(rule.transformations === undefined
        ? []
        : [transformationsPlan(rule.transformations, ext, prefix)]),
    ],
  });
}

/**
 * Write a ruleset as a document, keeping what the model does not know.
 *
 * @param value The ruleset.
 * @param options `extensionNamespace` and its `extensionPrefix` for new elements.
 * @returns The document text, or `InvalidArgument`.
 *
 * @example A new ruleset
 * ```ts
 * import { buildRuleset, parseRuleset } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const text = buildRuleset({
 *   rules: [{
 *     id: "block-spam",
 *     conditions: { identity: { one: [{ id: "sip:spam@example.com" }] } },
 *     actions: { subHandling: "block" },
 *     transformations: {},
 *   }],
 * })._unsafeUnwrap();
 * assertEquals(parseRuleset(text)._unsafeUnwrap().rules[0]?.actions?.subHandling, "block");
 * ```
 */
export function buildRuleset(
  value: Ruleset,
  options: RulesetOptions = {},
): Result<string, InvalidArgumentError> {
  const ext = options.extensionNamespace ?? PRES_RULES_NAMESPACE;
  const prefix = options.extensionPrefix ?? "pr";
  return renderDocument({
    origin: value.origin,
    namespace: CP,
    localName: "ruleset",
    preferredPrefix: "cr",
    isKnown: (e) => named(e, CP, "rule"),
    children: (value.rules ?? []).map((r) => rulePlan(r, ext, prefix)),
  }, { declarations: [[prefix, ext]] });
}

// ---------------------------------------------------------------------------------------------
// Pure changes
// ---------------------------------------------------------------------------------------------

/** Options of {@linkcode withWatcherHandling}. */
export interface WithWatcherHandlingOptions {
  /**
   * The id of the rule new watchers with this handling are added to, when no rule with that
   * handling exists yet. @default `"xcap-" + handling`, e.g. "xcap-allow"
   */
  readonly ruleId?: string;
}

/** A rule that decides by identity alone: conditions with an identity and nothing else. */
function isIdentityRule(rule: PolicyRule): boolean {
  const c = rule.conditions;
  if (c === undefined || c.identity === undefined) return false;
  if (c.sphere !== undefined || c.validity !== undefined || c.externalLists !== undefined) {
    return false;
  }
  if (c.otherIdentity || c.anonymousRequest) return false;
  // Unknown conditions (extensions) make the rule more than an identity rule.
  const o = c.origin?.element;
  if (o !== undefined) {
    for (const e of childElements(o)) {
      if (!(e.namespace === CP && e.localName === "identity")) return false;
    }
  }
  return true;
}

function hasOne(rule: PolicyRule, uri: string): boolean {
  return rule.conditions?.identity?.one?.some((o) => o.id === uri) ?? false;
}

function withoutOne(rule: PolicyRule, uri: string): PolicyRule | undefined {
  const identity = rule.conditions!.identity!;
  const one = (identity.one ?? []).filter((o) => o.id !== uri);
  if (one.length === 0 && (identity.many ?? []).length === 0) return undefined;
  return { ...rule, conditions: { ...rule.conditions, identity: { ...identity, one } } };
}

function uniqueId(rules: readonly PolicyRule[], wanted: string): string {
  const ids = new Set(rules.map((r) => r.id));
  if (!ids.has(wanted)) return wanted;
  let n = 2;
  while (ids.has(`${wanted}-${n}`)) n++;
  return `${wanted}-${n}`;
}

/**
 * The ruleset with a watcher's subscriptions handled as `handling`: the watcher's `<one id>` is
 * taken out of every identity-only rule with another `<sub-handling>` (RFC 4745 §10 combines
 * matching rules by taking the most permissive value, so a stale allow would win over a new
 * block) and put into an identity-only rule with this one, which is created when there is none.
 * Identity-only rules left with nobody are removed. Rules with other conditions (sphere,
 * validity, OMA lists, extensions) are left alone. Applying it again changes nothing.
 *
 * @param ruleset The ruleset.
 * @param watcher The watcher's URI, e.g. `sip:bob@example.com`.
 * @param handling `allow`, `block`, `polite-block` or `confirm`.
 * @param options `ruleId` for a new rule.
 * @returns The new ruleset, or `InvalidArgument` for an unknown handling.
 *
 * @example Usage
 * ```ts
 * import { withWatcherHandling } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const allowed = withWatcherHandling({ rules: [] }, "sip:bob@example.com", "allow")
 *   ._unsafeUnwrap();
 * const blocked = withWatcherHandling(allowed, "sip:bob@example.com", "block")._unsafeUnwrap();
 * assertEquals(blocked.rules.map((r) => [r.id, r.actions?.subHandling]), [["xcap-block", "block"]]);
 * ```
 */
export function withWatcherHandling(
  ruleset: Ruleset,
  watcher: string,
  handling: SubHandling,
  options: WithWatcherHandlingOptions = {},
): Result<Ruleset, InvalidArgumentError> {
  if (!SUB_HANDLING.includes(handling)) {
    return err(invalidArgument(
      "handling",
      `Unknown sub-handling ${JSON.stringify(handling)}: use ${SUB_HANDLING.join(", ")}`,
    ));
  }
  if (typeof watcher !== "string" || watcher === "") {
    return err(invalidArgument("watcher", "The watcher URI is empty"));
  }
  let changed = false;
  const rules: PolicyRule[] = [];
  for (const rule of ruleset.rules) {
    if (isIdentityRule(rule) && rule.actions?.subHandling !== handling && hasOne(rule, watcher)) {
      changed = true;
      const kept = withoutOne(rule, watcher);
      if (kept !== undefined) rules.push(kept);
    } else {
      rules.push(rule);
    }
  }
  const matching = rules.filter((r) => isIdentityRule(r) && r.actions?.subHandling === handling);
  if (!matching.some((r) => hasOne(r, watcher))) {
    changed = true;
    const wantedId = options.ruleId ?? `xcap-${handling}`;
    const target = matching.find((r) => r.id === wantedId) ?? matching[0];
    if (target !== undefined) {
      const identity = target.conditions!.identity!;
      const updated: PolicyRule = {
        ...target,
        conditions: {
          ...target.conditions,
          identity: { ...identity, one: [...(identity.one ?? []), { id: watcher }] },
        },
      };
      rules[rules.indexOf(target)] = updated;
    } else {
      rules.push({
        id: uniqueId(rules, wantedId),
        conditions: { identity: { one: [{ id: watcher }] } },
        actions: { subHandling: handling },
        // RFC 5025 §3.3: without transformations an allowed watcher would see nothing.
        transformations: handling === "allow"
          ? {
            provideServices: "all",
            providePersons: "all",
            provideDevices: "all",
            provideAllAttributes: true,
          }
          : {},
      });
    }
  }
  return ok(changed ? { ...ruleset, rules } : ruleset);
}

/**
 * How a ruleset handles a watcher's subscription, from its identity-only rules: the most
 * permissive `<sub-handling>` of the rules that name it in a `<one>` (RFC 4745 §10), or
 * `undefined` when none does.
 *
 * @param ruleset The ruleset.
 * @param watcher The watcher's URI.
 * @returns The handling, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { watcherHandling, withWatcherHandling } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const rules = withWatcherHandling({ rules: [] }, "sip:bob@example.com", "polite-block")
 *   ._unsafeUnwrap();
 * assertEquals(watcherHandling(rules, "sip:bob@example.com"), "polite-block");
 * assertEquals(watcherHandling(rules, "sip:carol@example.com"), undefined);
 * ```
 */
export function watcherHandling(ruleset: Ruleset, watcher: string): SubHandling | undefined {
  let best = -1;
  for (const rule of ruleset.rules) {
    const h = rule.actions?.subHandling;
    if (h === undefined || !hasOne(rule, watcher)) continue;
    best = Math.max(best, SUB_HANDLING.indexOf(h));
  }
  return best < 0 ? undefined : SUB_HANDLING[best];
}

// ---------------------------------------------------------------------------------------------
// Codecs and usages
// ---------------------------------------------------------------------------------------------

/**
 * A codec for common-policy rulesets whose `<sub-handling>` and `<provide-…>` elements are in
 * `options.extensionNamespace`.
 *
 * @param options The extension namespace and prefix.
 * @returns The codec.
 *
 * @example Usage
 * ```ts
 * import { rulesetCodec } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(rulesetCodec().empty({}), { rules: [] });
 * ```
 */
export function rulesetCodec(options: RulesetOptions = {}): DocumentCodec<Ruleset> {
  return Object.freeze({
    parse: (document: XmlDocument) => parseRuleset(document, options),
    build: (value: Ruleset) => buildRuleset(value, options),
    empty: (): Ruleset => ({ rules: [] }),
  });
}

const RULE_ID_UNIQUE = {
  namespace: CP,
  localName: "rule",
  attribute: "id",
  scope: "document" as const,
  suggestAlternatives: true,
};

/**
 * The `pres-rules` application usage (RFC 5025 §9). Its default namespace is the pres-rules
 * one, so selectors address the common-policy elements with a prefix (`cr:rule`).
 *
 * @example Usage
 * ```ts
 * import { PRES_RULES } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(PRES_RULES.prefixes.cr, "urn:ietf:params:xml:ns:common-policy");
 * ```
 */
export const PRES_RULES: TypedApplicationUsage<Ruleset> = Object.freeze({
  ...KNOWN_APPLICATIONS.get("pres-rules")!,
  codec: rulesetCodec(),
  uniqueness: [RULE_ID_UNIQUE],
  prefixes: { cr: CP, pr: PRES_RULES_NAMESPACE },
});

/**
 * OMA's `org.openmobilealliance.pres-rules` application usage (OMA Presence SIMPLE XDM): the
 * same ruleset, default document `pres-rules`, default namespace common-policy.
 *
 * @example Usage
 * ```ts
 * import { OMA_PRES_RULES } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(OMA_PRES_RULES.defaultDocumentName, "pres-rules");
 * ```
 */
export const OMA_PRES_RULES: TypedApplicationUsage<Ruleset> = Object.freeze({
  ...KNOWN_APPLICATIONS.get("org.openmobilealliance.pres-rules")!,
  codec: rulesetCodec(),
  uniqueness: [RULE_ID_UNIQUE],
  prefixes: { cr: CP, pr: PRES_RULES_NAMESPACE, ocp: OCP },
});
