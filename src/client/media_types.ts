/**
 * Application usages (RFC 4825 §5): what an AUID's documents are called, typed and namespaced.
 *
 * @module
 */

/** The facts about one application usage that requests and servers need. */
export interface ApplicationUsage {
  /** The application unique ID, the first path segment after the XCAP root (§5.1). */
  readonly auid: string;
  /** The MIME type of its documents (§5.4), used as the Content-Type of a document PUT. */
  readonly mimeType: string;
  /**
   * The namespace unprefixed node-selector steps are expanded in (§5.2, §6.3), which is not
   * necessarily the namespace of the document's root element.
   */
  readonly defaultNamespace: string;
  /** The document name a client uses when it names none. */
  readonly defaultDocumentName: string;
  /** Where its documents live: per user, global, or both. */
  readonly scope: "users" | "global" | "both";
}

const USAGES: readonly ApplicationUsage[] = [
  // RFC 4825 §12.1–§12.4
  {
    auid: "xcap-caps",
    mimeType: "application/xcap-caps+xml",
    defaultNamespace: "urn:ietf:params:xml:ns:xcap-caps",
    defaultDocumentName: "index",
    scope: "global",
  },
  // RFC 4826 §3.4
  {
    auid: "resource-lists",
    mimeType: "application/resource-lists+xml",
    defaultNamespace: "urn:ietf:params:xml:ns:resource-lists",
    defaultDocumentName: "index",
    scope: "both",
  },
  // RFC 4826 §4.4
  {
    auid: "rls-services",
    mimeType: "application/rls-services+xml",
    defaultNamespace: "urn:ietf:params:xml:ns:rls-services",
    defaultDocumentName: "index",
    scope: "both",
  },
  // RFC 5025 §9: the documents are common-policy rulesets, but unprefixed selector steps
  // expand into the pres-rules namespace.
  {
    auid: "pres-rules",
    mimeType: "application/auth-policy+xml",
    defaultNamespace: "urn:ietf:params:xml:ns:pres-rules",
    defaultDocumentName: "index",
    scope: "users",
  },
  // OMA Presence SIMPLE XDM: OMA's variant of pres-rules.
  {
    auid: "org.openmobilealliance.pres-rules",
    mimeType: "application/auth-policy+xml",
    defaultNamespace: "urn:ietf:params:xml:ns:common-policy",
    defaultDocumentName: "pres-rules",
    scope: "users",
  },
  // RFC 4827 §4
  {
    auid: "pidf-manipulation",
    mimeType: "application/pidf+xml",
    defaultNamespace: "urn:ietf:params:xml:ns:pidf",
    defaultDocumentName: "index",
    scope: "users",
  },
  // OMA XDM: the list of a user's documents.
  {
    auid: "org.openmobilealliance.xcap-directory",
    mimeType: "application/vnd.oma.xcap-directory+xml",
    defaultNamespace: "urn:oma:xml:xdm:xcap-directory",
    defaultDocumentName: "directory.xml",
    scope: "users",
  },
  // OpenXCAP extensions.
  {
    auid: "org.openxcap.dialog-rules",
    mimeType: "application/auth-policy+xml",
    defaultNamespace: "http://openxcap.org/ns/dialog-rules",
    defaultDocumentName: "index",
    scope: "users",
  },
  {
    auid: "org.openxcap.watchers",
    mimeType: "application/xml",
    defaultNamespace: "http://openxcap.org/ns/watchers",
    defaultDocumentName: "index",
    scope: "users",
  },
];

/**
 * The application usages this module knows out of the box, by AUID.
 *
 * @example Usage
 * ```ts
 * import { KNOWN_APPLICATIONS } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(
 *   KNOWN_APPLICATIONS.get("resource-lists")?.mimeType,
 *   "application/resource-lists+xml",
 * );
 * ```
 */
export const KNOWN_APPLICATIONS: ReadonlyMap<string, ApplicationUsage> = new Map(
  USAGES.map((u) => [u.auid, Object.freeze(u)]),
);

/**
 * The MIME type used for an AUID nobody registered: any XML document.
 *
 * @example Usage
 * ```ts
 * import { GENERIC_XML_MIME_TYPE } from "./media_types.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(GENERIC_XML_MIME_TYPE, "application/xml");
 * ```
 */
export const GENERIC_XML_MIME_TYPE = "application/xml";

/**
 * The MIME type of an application usage's documents, looked up in `registry`.
 *
 * An unknown AUID gets `application/xml`: the request still goes out, and a strict server
 * answers 415 rather than the client guessing.
 *
 * @param auid The application unique ID.
 * @param registry Where to look it up.
 * @default {KNOWN_APPLICATIONS}
 * @returns The MIME type.
 *
 * @example Usage
 * ```ts
 * import { documentMimeType } from "./media_types.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(documentMimeType("pres-rules"), "application/auth-policy+xml");
 * assertEquals(documentMimeType("com.example.unknown"), "application/xml");
 * ```
 */
export function documentMimeType(
  auid: string,
  registry: ReadonlyMap<string, ApplicationUsage> = KNOWN_APPLICATIONS,
): string {
  return registry.get(auid)?.mimeType ?? GENERIC_XML_MIME_TYPE;
}

/**
 * MIME type of an element body (RFC 4825 §15.2.1).
 *
 * @example Usage
 * ```ts
 * import { XCAP_ELEMENT_MIME_TYPE } from "./media_types.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(XCAP_ELEMENT_MIME_TYPE, "application/xcap-el+xml");
 * ```
 */
export const XCAP_ELEMENT_MIME_TYPE = "application/xcap-el+xml";
/**
 * MIME type of an attribute body (RFC 4825 §15.2.2).
 *
 * @example Usage
 * ```ts
 * import { XCAP_ATTRIBUTE_MIME_TYPE } from "./media_types.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(XCAP_ATTRIBUTE_MIME_TYPE, "application/xcap-att+xml");
 * ```
 */
export const XCAP_ATTRIBUTE_MIME_TYPE = "application/xcap-att+xml";
/**
 * MIME type of namespace bindings (RFC 4825 §15.2.3).
 *
 * @example Usage
 * ```ts
 * import { XCAP_NAMESPACE_MIME_TYPE } from "./media_types.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(XCAP_NAMESPACE_MIME_TYPE, "application/xcap-ns+xml");
 * ```
 */
export const XCAP_NAMESPACE_MIME_TYPE = "application/xcap-ns+xml";
/**
 * MIME type of an error document (RFC 4825 §15.2.4).
 *
 * @example Usage
 * ```ts
 * import { XCAP_ERROR_MIME_TYPE } from "./media_types.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(XCAP_ERROR_MIME_TYPE, "application/xcap-error+xml");
 * ```
 */
export const XCAP_ERROR_MIME_TYPE = "application/xcap-error+xml";
