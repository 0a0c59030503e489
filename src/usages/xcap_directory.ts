/**
 * OMA's `org.openmobilealliance.xcap-directory` application usage (OMA XDM): the list of a
 * user's documents per AUID, with their ETags. The server generates it; clients read it to find
 * out which documents changed. Typed data that parses from and builds to XML without losing what
 * the model does not know.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { ok, Result, safeTry } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { KNOWN_APPLICATIONS } from "../client/media_types.ts";
import type { InvalidArgumentError } from "../client/errors.ts";
import type { XmlDocument, XmlElement } from "../xml/document.ts";
import {
  attributeValue,
  checkRoot,
  childElements,
  childOf,
  childrenNamed,
  firstChild,
  originOf,
  readModelDocument,
  renderDocument,
  requiredAttribute,
  textContent,
} from "./_model.ts";
import type { DocumentCodec, TypedApplicationUsage, XmlOrigin } from "./codec.ts";

/**
 * The xcap-directory namespace.
 *
 * @example Usage
 * ```ts
 * import { XCAP_DIRECTORY_NAMESPACE } from "@xcap/xcap/usages";
 * import { parseXmlDocument } from "@xcap/xcap/xml";
 * import { assertEquals } from "@std/assert";
 *
 * // A document is told by the namespace of its root element, whatever prefix it uses.
 * const doc = parseXmlDocument(`<p:xcap-directory xmlns:p="${XCAP_DIRECTORY_NAMESPACE}"/>`);
 * assertEquals(doc.isOk() && doc.value.root.namespace === XCAP_DIRECTORY_NAMESPACE, true);
 * assertEquals(doc.isOk() && doc.value.root.localName, "xcap-directory");
 * ```
 */
export const XCAP_DIRECTORY_NAMESPACE = "urn:oma:xml:xdm:xcap-directory";

const XD = XCAP_DIRECTORY_NAMESPACE;
const WHAT = "xcap-directory";

/** One document of a folder. */
export interface DirectoryEntry {
  /** The document's XCAP URI. */
  readonly uri: string;
  /** Its current ETag. */
  readonly etag: string;
  /** `last-modified`, as `xs:dateTime` text. */
  readonly lastModified?: string | undefined;
  /** `size` in bytes. */
  readonly size?: number | undefined;
  /** Where it was parsed from. */
  readonly origin?: XmlOrigin | undefined;
}

/** The documents of one AUID, or the error that kept the server from listing them. */
export interface DirectoryFolder {
  /** The AUID. */
  readonly auid: string;
  /** The documents. */
  readonly entries: readonly DirectoryEntry[];
  /** `<error-code>`, when the server could not list the folder. */
  readonly errorCode?: string | undefined;
  /** Where it was parsed from. */
  readonly origin?: XmlOrigin | undefined;
}

/** An xcap-directory document. */
export interface XcapDirectory {
  /** The folders. */
  readonly folders: readonly DirectoryFolder[];
  /** Where it was parsed from. */
  readonly origin?: XmlOrigin | undefined;
}

function parseFolder(e: XmlElement, text: string): Result<DirectoryFolder, InvalidArgumentError> {
  return safeTry(function* () {
    const auid = yield* requiredAttribute(e, "auid", WHAT);
    const entries: DirectoryEntry[] = [];
    for (const c of childElements(e)) {
      if (c.namespace !== XD || c.localName !== "entry") continue;
      const uri = yield* requiredAttribute(c, "uri", WHAT);
      const lastModified = attributeValue(c, "last-modified");
      const size = attributeValue(c, "size");
      entries.push({
        uri,
        etag: attributeValue(c, "etag") ?? "",
        ...(lastModified === undefined ? {} : { lastModified }),
        ...(size === undefined || !/^\d+$/.test(size.trim()) ? {} : { size: Number(size) }),
        origin: originOf(c, text),
      });
    }
    const error = firstChild(e, XD, "error-code");
    return ok({
      auid,
      entries,
      ...(error === undefined ? {} : { errorCode: textContent(error).trim() }),
      origin: originOf(e, text),
    });
  });
}

/**
 * Read an xcap-directory document.
 *
 * @param input The document text, or a parsed document.
 * @returns The directory, or `InvalidArgument` (argument `document`).
 *
 * @example Usage
 * ```ts
 * import { parseXcapDirectory } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = parseXcapDirectory(
 *   '<xcap-directory xmlns="urn:oma:xml:xdm:xcap-directory"><folder auid="resource-lists">' +
 *     '<entry uri="http://x/resource-lists/users/sip:a@x/index" etag="e1" size="120"/>' +
 *     "</folder></xcap-directory>",
 * )._unsafeUnwrap();
 * assertEquals(dir.folders[0]?.entries.map((e) => [e.etag, e.size]), [["e1", 120]]);
 * ```
 */
export function parseXcapDirectory(
  input: string | XmlDocument,
): Result<XcapDirectory, InvalidArgumentError> {
  const doc = readModelDocument(input, WHAT);
  return doc.andThen((d) =>
    checkRoot(d, XD, "xcap-directory", WHAT).andThen((root) =>
      Result.combine(
        childrenNamed(root, XD, "folder")
          .map((c) => parseFolder(c, d.text)),
      ).map((folders) => ({ folders, origin: originOf(root, d.text) }))
    )
  );
}

/**
 * Write an xcap-directory document, keeping what the model does not know.
 *
 * @param value The directory.
 * @returns The document text, or `InvalidArgument`.
 *
 * @example Usage
 * ```ts
 * import { buildXcapDirectory, parseXcapDirectory } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const text = buildXcapDirectory({
 *   folders: [{ auid: "pres-rules", entries: [], errorCode: "500" }],
 * })._unsafeUnwrap();
 * assertEquals(parseXcapDirectory(text)._unsafeUnwrap().folders[0]?.errorCode, "500");
 * ```
 */
export function buildXcapDirectory(value: XcapDirectory): Result<string, InvalidArgumentError> {
  return renderDocument({
    origin: value.origin,
    namespace: XD,
    localName: "xcap-directory",
    preferredPrefix: "",
    isKnown: (e) => e.namespace === XD && e.localName === "folder",
    children: (value.folders ?? []).map((f) => {
      const error = f.origin === undefined
        ? undefined
        : firstChild(f.origin.element, XD, "error-code");
      return childOf({
        origin: f.origin,
        namespace: XD,
        localName: "folder",
        preferredPrefix: "xd",
        attributes: [{ localName: "auid", value: f.auid }],
        isKnown: (e) =>
          e.namespace === XD &&
          (e.localName === "entry" || (e.localName === "error-code" && e === error)),
        children: [
          ...f.entries.map((entry) =>
            childOf({
              origin: entry.origin,
              namespace: XD,
              localName: "entry",
              preferredPrefix: "xd",
              attributes: [
                { localName: "uri", value: entry.uri },
                {
                  localName: "etag",
                  value: entry.etag === "" && entry.origin !== undefined &&
                      attributeValue(entry.origin.element, "etag") === undefined
                    ? undefined
                    : entry.etag,
                },
                { localName: "last-modified", value: entry.lastModified },
                {
                  localName: "size",
                  value: entry.size === undefined ? undefined : entry.origin !== undefined &&
                      Number(attributeValue(entry.origin.element, "size")) === entry.size
                    ? attributeValue(entry.origin.element, "size")
                    : String(entry.size),
                },
              ],
            })
          ),
          ...(f.errorCode === undefined ? [] : [childOf({
            origin: error === undefined ? undefined : originOf(error, f.origin!.text),
            namespace: XD,
            localName: "error-code",
            preferredPrefix: "xd",
            text: error !== undefined && textContent(error).trim() === f.errorCode
              ? textContent(error)
              : f.errorCode,
          })]),
        ],
      });
    }),
  });
}

/**
 * The codec of xcap-directory documents.
 *
 * @example Usage
 * ```ts
 * import { XCAP_DIRECTORY_CODEC } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(XCAP_DIRECTORY_CODEC.empty({}), { folders: [] });
 * ```
 */
export const XCAP_DIRECTORY_CODEC: DocumentCodec<XcapDirectory> = Object.freeze({
  parse: (document: XmlDocument) => parseXcapDirectory(document),
  build: (value: XcapDirectory) => buildXcapDirectory(value),
  empty: (): XcapDirectory => ({ folders: [] }),
});

/**
 * The `org.openmobilealliance.xcap-directory` application usage; its default document is
 * `directory.xml`.
 *
 * @example Usage
 * ```ts
 * import { XCAP_DIRECTORY } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(XCAP_DIRECTORY.defaultDocumentName, "directory.xml");
 * ```
 */
export const XCAP_DIRECTORY: TypedApplicationUsage<XcapDirectory> = Object.freeze({
  ...KNOWN_APPLICATIONS.get("org.openmobilealliance.xcap-directory")!,
  codec: XCAP_DIRECTORY_CODEC,
  uniqueness: [
    { namespace: XD, localName: "folder", attribute: "auid", scope: "siblings" as const },
    { namespace: XD, localName: "entry", attribute: "uri", scope: "siblings" as const },
  ],
  prefixes: { xd: XD },
});
