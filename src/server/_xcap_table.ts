/**
 * How a document maps onto a row of Kamailio's `xcap` table (Kamailio 5.6, table version 4), the
 * way Kamailio's `xcap_server` writes rows, so that Kamailio and the presence modules that read
 * the table (`integrated_xcap_server`) see documents the embedded server writes, and the other
 * way round. Observed by letting Kamailio 5.6.3 (db_postgres) write rows, and read in
 * `xcap_server.c` / `xcap_misc.c`:
 *
 * - `doc_uri` is the percent-decoded request path up to the document name, xcap root included:
 *   `/xcap-root/resource-lists/users/sip:alice@example.com/index`. It is `UNIQUE`, and Kamailio
 *   finds a document by `username`, `domain` and `doc_uri`.
 * - `username` and `domain` are the user and host parts of the SIP URI the routing script passes
 *   (for `users/sip:alice@example.com:5060/…`: `alice`, `example.com`). Kamailio's sample script
 *   makes that URI from the XUI when it is `sip:…@…`, and invents one otherwise.
 * - `doc_type` is the AUID's number: pres-rules and OMA pres-rules 2, resource-lists 4,
 *   rls-services 8, pidf-manipulation 16, OMA user-profile 64, OMA pres-content 128, whatever
 *   the document name.
 * - `etag` is the entity-tag without its quotes; `source` and `port` are 0.
 *
 * Documents Kamailio cannot address still get a row: under `users/` with an XUI that is not
 * `sip:user@host`, under an AUID Kamailio does not know, or in `global/` (whose `username` and
 * `domain` only the routing script decides). Their `doc_uri` is the same path when that path
 * names exactly one document, with `username` and `domain` empty and `doc_type` 0, so no
 * Kamailio query by user or type returns them. A path that would not name exactly one document
 * (an XUI with a `/`, a NUL, which PostgreSQL text cannot hold) is written with the AUID, XUI
 * and document path percent-encoded under the tree name `~users` or `~global`, which no
 * Kamailio path has.
 *
 * Private module (not exported from the package). Pure: Web APIs only.
 *
 * @module
 */
import type { DocumentKey } from "./store.ts";

/** Kamailio's `xcap.doc_uri` is `VARCHAR(255)`: characters, in a UTF-8 database. */
export const DOC_URI_MAX_CHARACTERS = 255;
/** Kamailio's `xcap.username` and `xcap.domain` are `VARCHAR(64)`. */
const ACCOUNT_PART_MAX_CHARACTERS = 64;

/**
 * Kamailio's `doc_type` of each AUID it stores (`xcaps_auid_list` in `xcap_misc.c`; the numbers
 * are the presence modules' `PRES_RULES`, `RESOURCE_LIST`, ...). `xcap-caps`, the xcap-directory
 * and search are answered by Kamailio, never stored, and so are not here.
 */
export const KAMAILIO_DOC_TYPES: Readonly<Record<string, number>> = Object.freeze({
  "pres-rules": 2,
  "org.openmobilealliance.pres-rules": 2,
  "resource-lists": 4,
  "rls-services": 8,
  "pidf-manipulation": 16,
  "org.openmobilealliance.user-profile": 64,
  "org.openmobilealliance.pres-content": 128,
});

/** The columns that say which document a row is. */
export interface XcapRowIdentity {
  /** `doc_uri`: unique per document. */
  readonly docUri: string;
  /** `username`: the SIP user part, or `""` when Kamailio cannot address the document. */
  readonly username: string;
  /** `domain`: the SIP host, or `""`. */
  readonly domain: string;
  /** `doc_type`: Kamailio's number for the AUID, or 0. */
  readonly docType: number;
}

/** Why a key has no row. */
export type XcapRowProblem =
  | { readonly kind: "too-long"; readonly docUri: string; readonly characters: number }
  | { readonly kind: "malformed"; readonly message: string };

/** `sip:user@host[:port]` with a plain user part and host, as Kamailio's `parse_uri` reads it. */
const SIP_XUI =
  /^sip:([A-Za-z0-9\-_.!~*'()&=+$,]+)@([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** Code points, as PostgreSQL counts `VARCHAR(n)` in a UTF-8 database. */
function characters(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Percent-encode a name so that it has no `/` (UTF-8 bytes, RFC 3986 unreserved kept). */
function encode(name: string): string {
  return encodeURIComponent(name).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
}

/**
 * Normalise an XCAP root path the way `doc_uri` holds it: starting with `/`, no trailing `/`
 * (`"/xcap-root"`); `""` for the origin itself.
 *
 * @param path The root path, e.g. `"/xcap-root/"`.
 * @returns The normalised path, or `undefined` when it has a query, fragment or NUL.
 */
export function normalizeDocUriRoot(path: string): string | undefined {
  if (/[?#\0]/.test(path)) return undefined;
  const trimmed = path.replace(/^\/+|\/+$/g, "");
  return trimmed === "" ? "" : `/${trimmed}`;
}

/**
 * The identity columns of a document's row.
 *
 * @param key The document.
 * @param root The normalised XCAP root path (see {@linkcode normalizeDocUriRoot}).
 * @returns The columns, or why the document has no row: its `doc_uri` is longer than the
 * column, or the key is not well-formed Unicode.
 */
export function xcapRowIdentity(
  key: DocumentKey,
  root: string,
): XcapRowIdentity | XcapRowProblem {
  const xui = key.xui ?? "";
  for (const part of [key.auid, xui, key.documentPath]) {
    if (!part.isWellFormed()) {
      return { kind: "malformed", message: "the name has a lone UTF-16 surrogate" };
    }
  }
  const names = key.tree === "users" ? [key.auid, xui] : [key.auid];
  // The plain path names exactly one document when the AUID and the XUI hold no "/" (the
  // document path comes last, so its "/" are folders) and nothing holds a NUL.
  const plain = names.every((n) => n !== "" && !n.includes("/")) && key.documentPath !== "" &&
    !`${key.auid}${xui}${key.documentPath}`.includes("\0");
  const docUri = plain
    ? `${root}/${names[0]}/${key.tree}${key.tree === "users" ? `/${xui}` : ""}/${key.documentPath}`
    : `${root}/${encode(key.auid)}/~${key.tree}${key.tree === "users" ? `/${encode(xui)}` : ""}/${
      key.documentPath.split("/").map(encode).join("/")
    }`;
  const length = characters(docUri);
  if (length > DOC_URI_MAX_CHARACTERS) return { kind: "too-long", docUri, characters: length };

  const docType = KAMAILIO_DOC_TYPES[key.auid];
  const account = plain && key.tree === "users" && docType !== undefined &&
      // Kamailio splits the node selector off at the first "~~" anywhere in the path.
      !xui.includes("~~") && !key.documentPath.includes("~~")
    ? SIP_XUI.exec(xui)
    : null;
  if (
    account === null || characters(account[1]!) > ACCOUNT_PART_MAX_CHARACTERS ||
    characters(account[2]!) > ACCOUNT_PART_MAX_CHARACTERS
  ) {
    return { docUri, username: "", domain: "", docType: 0 };
  }
  return { docUri, username: account[1]!, domain: account[2]!, docType: docType! };
}
