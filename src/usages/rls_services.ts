/**
 * The `rls-services` application usage (RFC 4826 §4): resource list server services, each a URI
 * with either a reference to a resource list or a list of its own, and the event packages it
 * serves. Typed data that parses from and builds to XML without losing what the model does not
 * know.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { ok, Result, safeTry } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { KNOWN_APPLICATIONS } from "../client/media_types.ts";
import type { InvalidArgumentError } from "../client/errors.ts";
import type { XmlDocument, XmlElement } from "../xml/document.ts";
import {
  checkRoot,
  childOf,
  type ChildPlan,
  childrenNamed,
  firstChild,
  originOf,
  readModelDocument,
  renderDocument,
  requiredAttribute,
  textContent,
} from "./_model.ts";
import type { DocumentCodec, TypedApplicationUsage, XmlOrigin } from "./codec.ts";
import { RESOURCE_LISTS_NAMESPACE, type ResourceList } from "./resource_lists.ts";
import { listPlan, parseList } from "./_lists.ts";

/**
 * The rls-services namespace (RFC 4826 §4.2).
 *
 * @example Usage
 * ```ts
 * import { parseRlsServices, RLS_SERVICES_NAMESPACE } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const services = parseRlsServices(
 *   `<rls-services xmlns="${RLS_SERVICES_NAMESPACE}"><service uri="sip:friends@example.com">` +
 *     `<resource-list>http://x/resource-lists/users/sip:a@b/index/~~/resource-lists/list</resource-list>` +
 *     `</service></rls-services>`,
 * );
 * assertEquals(services.map((s) => s.services.map((x) => x.uri)).unwrapOr([]), ["sip:friends@example.com"]);
 * ```
 */
export const RLS_SERVICES_NAMESPACE = "urn:ietf:params:xml:ns:rls-services";

const RLS = RLS_SERVICES_NAMESPACE;
const WHAT = "rls-services";

/** A `<service>`: a URI served from a resource list (by reference or inline). */
export interface RlsService {
  /** The service URI (unique, RFC 4826 §4.4.5). */
  readonly uri: string;
  /** `<resource-list>`: the HTTP URI of a resource list; exclusive with `list`. */
  readonly resourceList?: string | undefined;
  /** `<list>`: the service's own list; exclusive with `resourceList`. */
  readonly list?: ResourceList | undefined;
  /** `<packages>`: the event packages served; absent when the element is absent. */
  readonly packages?: readonly string[] | undefined;
  /** Where it was parsed from; absent for a new service. */
  readonly origin?: XmlOrigin | undefined;
}

/** An rls-services document. */
export interface RlsServices {
  /** The services, in document order. */
  readonly services: readonly RlsService[];
  /** Where it was parsed from; absent for a new document. */
  readonly origin?: XmlOrigin | undefined;
}

function parseService(element: XmlElement, text: string): Result<RlsService, InvalidArgumentError> {
  return safeTry(function* () {
    const uri = yield* requiredAttribute(element, "uri", WHAT);
    const resourceList = firstChild(element, RLS, "resource-list");
    const listElement = firstChild(element, RLS, "list");
    const packagesElement = firstChild(element, RLS, "packages");
    const list = listElement === undefined ? undefined : yield* parseList(listElement, text);
    const packages = packagesElement === undefined
      ? undefined
      : childrenNamed(packagesElement, RLS, "package")
        .map((p) => textContent(p).trim());
    return ok({
      uri,
      ...(resourceList === undefined ? {} : { resourceList: textContent(resourceList).trim() }),
      ...(list === undefined ? {} : { list }),
      ...(packages === undefined ? {} : { packages }),
      origin: originOf(element, text),
    });
  });
}

/**
 * Read an rls-services document into typed data.
 *
 * @param input The document text, or a parsed document.
 * @returns The services, or `InvalidArgument` (argument `document`).
 *
 * @example Usage
 * ```ts
 * import { parseRlsServices } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const rls = parseRlsServices(
 *   '<rls-services xmlns="urn:ietf:params:xml:ns:rls-services">' +
 *     '<service uri="sip:friends@example.com">' +
 *     "<resource-list>http://xcap.example.com/resource-lists/users/sip:a@example.com/index" +
 *     "</resource-list><packages><package>presence</package></packages></service>" +
 *     "</rls-services>",
 * )._unsafeUnwrap();
 * assertEquals(rls.services[0]?.uri, "sip:friends@example.com");
 * assertEquals(rls.services[0]?.packages, ["presence"]);
 * ```
 */
export function parseRlsServices(
  input: string | XmlDocument,
): Result<RlsServices, InvalidArgumentError> {
  const doc = readModelDocument(input, WHAT);
  return doc.andThen((d) =>
    checkRoot(d, RLS, "rls-services", WHAT).andThen((root) =>
      Result.combine(
        childrenNamed(root, RLS, "service")
          .map((child) => parseService(child, d.text)),
      ).map((services) => ({ services, origin: originOf(root, d.text) }))
    )
  );
}

function leaf(
  parent: XmlOrigin | undefined,
  localName: string,
  value: string | undefined,
): ChildPlan[] {
  if (value === undefined) return [];
  const existing = parent === undefined ? undefined : firstChild(parent.element, RLS, localName);
  return [childOf({
    origin: existing === undefined ? undefined : originOf(existing, parent!.text),
    namespace: RLS,
    localName,
    preferredPrefix: "rls",
    text: value,
  })];
}

function packagesPlan(service: RlsService): ChildPlan[] {
  const packages = service.packages;
  if (packages === undefined) return [];
  const origin = service.origin;
  const existing = origin === undefined ? undefined : firstChild(origin.element, RLS, "packages");
  const olds = existing === undefined ? [] : childrenNamed(existing, RLS, "package");
  // Package names carry no identity of their own: match them by value to keep their text.
  const used = new Set<XmlElement>();
  const children = packages.map((name) => {
    const old = olds.find((p) => !used.has(p) && textContent(p).trim() === name);
    if (old !== undefined) used.add(old);
    return childOf({
      origin: old === undefined ? undefined : originOf(old, origin!.text),
      namespace: RLS,
      localName: "package",
      preferredPrefix: "rls",
      text: old === undefined ? name : textContent(old),
    });
  });
  return [childOf({
    origin: existing === undefined ? undefined : originOf(existing, origin!.text),
    namespace: RLS,
    localName: "packages",
    preferredPrefix: "rls",
    isKnown: (e) => e.namespace === RLS && e.localName === "package",
    children,
  })];
}

function servicePlan(service: RlsService): ChildPlan {
  const origin = service.origin;
  const resourceListText = (() => {
    if (service.resourceList === undefined) return undefined;
    const existing = origin === undefined
      ? undefined
      : firstChild(origin.element, RLS, "resource-list");
    // Keep surrounding whitespace of an unchanged URI.
    return existing !== undefined && textContent(existing).trim() === service.resourceList
      ? textContent(existing)
      : service.resourceList;
  })();
  return childOf({
    origin,
    namespace: RLS,
    localName: "service",
    preferredPrefix: "rls",
    attributes: [{ localName: "uri", value: service.uri }],
    isKnown: (e) =>
      e.namespace === RLS && e.parent !== undefined &&
      firstChild(e.parent, RLS, e.localName) === e &&
      (e.localName === "resource-list" || e.localName === "list" || e.localName === "packages"),
    children: [
      ...leaf(origin, "resource-list", resourceListText),
      ...(service.list === undefined ? [] : [childOf(listPlan(service.list, RLS))]),
      ...packagesPlan(service),
    ],
  });
}

/**
 * Write rls-services as a document, keeping what the model does not know.
 *
 * @param value The services.
 * @returns The document text, or `InvalidArgument`.
 *
 * @example A new document
 * ```ts
 * import { buildRlsServices, parseRlsServices } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const text = buildRlsServices({
 *   services: [{
 *     uri: "sip:marketing@example.com",
 *     list: { kind: "list", items: [{ kind: "entry", uri: "sip:joe@example.com" }] },
 *     packages: ["presence"],
 *   }],
 * })._unsafeUnwrap();
 * const back = parseRlsServices(text)._unsafeUnwrap();
 * assertEquals(back.services[0]?.list?.items.map((i) => i.kind === "entry" && i.uri), [
 *   "sip:joe@example.com",
 * ]);
 * ```
 */
export function buildRlsServices(value: RlsServices): Result<string, InvalidArgumentError> {
  return renderDocument({
    origin: value.origin,
    namespace: RLS,
    localName: "rls-services",
    preferredPrefix: "",
    isKnown: (e) => e.namespace === RLS && e.localName === "service",
    children: (value.services ?? []).map(servicePlan),
  }, { declarations: [["rl", RESOURCE_LISTS_NAMESPACE]] });
}

/**
 * The codec of rls-services documents.
 *
 * @example Usage
 * ```ts
 * import { RLS_SERVICES_CODEC } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(RLS_SERVICES_CODEC.empty({}), { services: [] });
 * ```
 */
export const RLS_SERVICES_CODEC: DocumentCodec<RlsServices> = Object.freeze({
  parse: (document: XmlDocument) => parseRlsServices(document),
  build: (value: RlsServices) => buildRlsServices(value),
  empty: (): RlsServices => ({ services: [] }),
});

/**
 * The `rls-services` application usage (RFC 4826 §4.4): service URIs are unique (§4.4.5; this
 * client checks the document it writes), and so are the entry URIs of a service's list.
 *
 * @example Usage
 * ```ts
 * import { RLS_SERVICES } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(RLS_SERVICES.mimeType, "application/rls-services+xml");
 * ```
 */
export const RLS_SERVICES: TypedApplicationUsage<RlsServices> = Object.freeze({
  ...KNOWN_APPLICATIONS.get("rls-services")!,
  codec: RLS_SERVICES_CODEC,
  uniqueness: [
    { namespace: RLS, localName: "service", attribute: "uri", scope: "document" as const },
    {
      namespace: RESOURCE_LISTS_NAMESPACE,
      localName: "entry",
      attribute: "uri",
      scope: "siblings" as const,
    },
  ],
  prefixes: { rls: RLS, rl: RESOURCE_LISTS_NAMESPACE },
});
