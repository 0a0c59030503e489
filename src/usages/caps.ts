/**
 * Capability discovery (RFC 4825 §12): read a server's `xcap-caps` document and tell which
 * application usages, extensions and namespaces it supports.
 *
 * Servers differ in what they put around the three lists: Kamailio serves a fixed document
 * with an empty `<extensions/>`, OpenXCAP generates one from its application usages (some
 * releases wrote `<auid>x<auid>` without the slash), and the schema lets any server add
 * elements of other namespaces. {@linkcode parseXcapCaps} reads the three lists and skips
 * everything else, noting what it skipped in `warnings`.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result, type ResultAsync } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import type { XcapResourceClient } from "../client/client.ts";
import {
  malformedResponse,
  type MalformedResponseError,
  type XcapError,
} from "../client/errors.ts";
import { parseXmlDocument, type XmlElement } from "../xml/document.ts";
import { looseItemTexts } from "../xml/_lenient.ts";
import { childElements, textContent } from "../xml/_tree.ts";

/**
 * The namespace of `xcap-caps` documents (RFC 4825 §12.3, "Default Document Namespace").
 *
 * @example Usage
 * ```ts
 * import { parseXcapCaps, XCAP_CAPS_NAMESPACE } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const caps = parseXcapCaps(
 *   `<xcap-caps xmlns="${XCAP_CAPS_NAMESPACE}"><auids><auid>resource-lists</auid></auids>` +
 *     `<namespaces/></xcap-caps>`,
 * );
 * assertEquals(caps.map((c) => c.auids).unwrapOr([]), ["resource-lists"]);
 * ```
 */
export const XCAP_CAPS_NAMESPACE = "urn:ietf:params:xml:ns:xcap-caps";

/** What a server says it supports. */
export interface XcapCapabilities {
  /** The application usages (AUIDs) it serves, in document order, each once. */
  readonly auids: readonly string[];
  /** The XCAP extensions it implements (often none). */
  readonly extensions: readonly string[];
  /** The namespaces its documents may use. */
  readonly namespaces: readonly string[];
  /**
   * What the parser skipped or repaired: unknown elements, empty entries, a document that was
   * not well-formed and was read leniently. Empty for a clean document.
   */
  readonly warnings: readonly string[];
}

/** Options of {@linkcode discoverCapabilities}. */
export interface DiscoverCapabilitiesOptions {
  /** Aborts the request. */
  readonly signal?: AbortSignal;
  /** The document name of the capabilities document. @default "index" */
  readonly filename?: string;
}

const LISTS = {
  auids: "auid",
  extensions: "extension",
  namespaces: "namespace",
} as const;

type ListName = keyof typeof LISTS;

function describe(element: XmlElement): string {
  return element.namespace === undefined || element.namespace === XCAP_CAPS_NAMESPACE
    ? `<${element.localName}>`
    : `<${element.localName}> of ${element.namespace}`;
}

function freeze(lists: Record<ListName, string[]>, warnings: string[]): XcapCapabilities {
  return Object.freeze({
    auids: Object.freeze(lists.auids),
    extensions: Object.freeze(lists.extensions),
    namespaces: Object.freeze(lists.namespaces),
    warnings: Object.freeze(warnings),
  });
}

function addOnce(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}

/**
 * Not well-formed: pick the list items out of the text. Only for documents that look like
 * `xcap-caps` (they mention its namespace), so anything else stays an error.
 */
function readLeniently(text: string): Record<ListName, string[]> {
  return {
    auids: looseItemTexts(text, LISTS.auids),
    extensions: looseItemTexts(text, LISTS.extensions),
    namespaces: looseItemTexts(text, LISTS.namespaces),
  };
}

/**
 * Parse an `xcap-caps` document (RFC 4825 §12.2) into its three lists.
 *
 * The document element must be `xcap-caps` in its namespace. Inside it, `auids`, `extensions`
 * and `namespaces` (in that namespace, in any order, each possibly absent) hold `auid`,
 * `extension` and `namespace` items; values are trimmed and listed once. Elements the schema
 * does not define (another namespace, or an unknown name) are skipped and reported in
 * `warnings`. A document that is not well-formed but names the `xcap-caps` namespace is read
 * leniently (its `<auid>`, `<extension>` and `<namespace>` items), with a warning saying so.
 *
 * @param text The document.
 * @returns The capabilities, or `MalformedResponse` saying why the text is no `xcap-caps`.
 *
 * @example Kamailio's document, with an empty extension list
 * ```ts
 * import { parseXcapCaps } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const caps = parseXcapCaps(
 *   "<?xml version='1.0' encoding='UTF-8'?>\n" +
 *     "<xcap-caps xmlns='urn:ietf:params:xml:ns:xcap-caps'>\n" +
 *     "  <auids><auid>xcap-caps</auid><auid>resource-lists</auid></auids>\n" +
 *     "  <extensions/>\n" +
 *     "  <namespaces><namespace>urn:ietf:params:xml:ns:resource-lists</namespace></namespaces>\n" +
 *     "</xcap-caps>",
 * );
 * caps.match(
 *   ({ auids, extensions, namespaces, warnings }) => {
 *     assertEquals(auids, ["xcap-caps", "resource-lists"]);
 *     assertEquals(extensions, []);
 *     assertEquals(namespaces, ["urn:ietf:params:xml:ns:resource-lists"]);
 *     assertEquals(warnings, []);
 *   },
 *   (error) => {
 *     throw new Error(error.message);
 *   },
 * );
 * ```
 */
export function parseXcapCaps(text: string): Result<XcapCapabilities, MalformedResponseError> {
  if (typeof text !== "string") {
    return err(malformedResponse("Cannot parse the xcap-caps document: it is not a string"));
  }
  const parsed = parseXmlDocument(text);
  if (parsed.isErr()) {
    const phrase = parsed.error.phrase ?? parsed.error.tag;
    if (!text.includes(XCAP_CAPS_NAMESPACE)) {
      return err(malformedResponse(`Cannot parse the xcap-caps document: ${phrase}`));
    }
    const lists = readLeniently(text);
    return ok(freeze(lists, [`The document is not well-formed (${phrase}); read leniently`]));
  }
  const root = parsed.value.root;
  if (root.localName !== "xcap-caps" || root.namespace !== XCAP_CAPS_NAMESPACE) {
    return err(malformedResponse(
      `Cannot parse the xcap-caps document: the document element is {${
        root.namespace ?? ""
      }}${root.localName}, not {${XCAP_CAPS_NAMESPACE}}xcap-caps`,
    ));
  }
  const lists: Record<ListName, string[]> = { auids: [], extensions: [], namespaces: [] };
  const warnings: string[] = [];
  for (const child of root.children) {
    if (child.kind !== "element") continue;
    const list = child.localName as ListName;
    if (child.namespace !== XCAP_CAPS_NAMESPACE || !Object.hasOwn(LISTS, list)) {
      warnings.push(`Skipped unknown element ${describe(child)}`);
      continue;
    }
    for (const item of child.children) {
      if (item.kind !== "element") continue;
      if (item.namespace !== XCAP_CAPS_NAMESPACE || item.localName !== LISTS[list]) {
        warnings.push(`Skipped unknown element ${describe(item)} in <${list}>`);
        continue;
      }
      const value = textContent(item).trim();
      if (childElements(item).length > 0) {
        warnings.push(`Ignored child elements of <${item.localName}>`);
      }
      if (value === "") {
        warnings.push(`Skipped an empty <${item.localName}>`);
        continue;
      }
      addOnce(lists[list], value);
    }
  }
  return ok(freeze(lists, warnings));
}

/**
 * Read a server's capabilities: GET `xcap-caps/global/index` below the client's XCAP root
 * (RFC 4825 §12.2) and parse it with {@linkcode parseXcapCaps}.
 *
 * @param client The client (its XCAP root, credentials and executor are used; not its XUI).
 * @param options `signal`; `filename` of the document.
 * @returns The capabilities, or the request's error (`NotFound` for a server without
 * `xcap-caps`, `MalformedResponse` for a body that is no `xcap-caps` document).
 *
 * @example Against any fetch-compatible server
 * ```ts
 * import { XCAPClient } from "@xcap/xcap";
 * import { discoverCapabilities, supportsApplication } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const client = new XCAPClient("http://127.0.0.1:8080/xcap-root", "sip:alice@example.com", {
 *   fetch: async (input) => {
 *     assertEquals(new URL(String(input)).pathname, "/xcap-root/xcap-caps/global/index");
 *     return new Response(
 *       '<xcap-caps xmlns="urn:ietf:params:xml:ns:xcap-caps"><auids><auid>resource-lists</auid>' +
 *         "</auids><namespaces/></xcap-caps>",
 *       { headers: { "content-type": "application/xcap-caps+xml" } },
 *     );
 *   },
 * });
 * const caps = await discoverCapabilities(client);
 * assertEquals(caps.map((c) => supportsApplication(c, "resource-lists")).unwrapOr(false), true);
 * assertEquals(caps.map((c) => supportsApplication(c, "pres-rules")).unwrapOr(true), false);
 * ```
 */
export function discoverCapabilities(
  client: XcapResourceClient,
  options: DiscoverCapabilitiesOptions = {},
): ResultAsync<XcapCapabilities, XcapError> {
  return client.get("xcap-caps", undefined, {
    global: true,
    filename: options.filename ?? "index",
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  }).andThen((resource) => parseXcapCaps(resource.body));
}

/**
 * Whether the server lists an application usage (AUIDs compare exactly, RFC 4825 §5.1).
 *
 * @param caps The capabilities.
 * @param auid The AUID, e.g. `resource-lists`.
 * @returns `true` when it is listed.
 *
 * @example Usage
 * ```ts
 * import { supportsApplication } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const caps = { auids: ["resource-lists"], extensions: [], namespaces: [], warnings: [] };
 * assertEquals(supportsApplication(caps, "resource-lists"), true);
 * assertEquals(supportsApplication(caps, "Resource-Lists"), false);
 * ```
 */
export function supportsApplication(caps: XcapCapabilities, auid: string): boolean {
  return caps?.auids?.includes(auid) ?? false;
}

/**
 * Whether the server lists a namespace. Namespace names compare as strings, character for
 * character (Namespaces in XML 1.0 §2.3).
 *
 * @param caps The capabilities.
 * @param uri The namespace URI, e.g. `urn:ietf:params:xml:ns:pidf`.
 * @returns `true` when it is listed.
 *
 * @example Usage
 * ```ts
 * import { supportsNamespace } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const caps = {
 *   auids: [],
 *   extensions: [],
 *   namespaces: ["urn:ietf:params:xml:ns:pidf"],
 *   warnings: [],
 * };
 * assertEquals(supportsNamespace(caps, "urn:ietf:params:xml:ns:pidf"), true);
 * assertEquals(supportsNamespace(caps, "urn:ietf:params:xml:ns:rpid"), false);
 * ```
 */
export function supportsNamespace(caps: XcapCapabilities, uri: string): boolean {
  return caps?.namespaces?.includes(uri) ?? false;
}
