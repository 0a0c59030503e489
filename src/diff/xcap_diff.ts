/**
 * XCAP diff documents (RFC 5874, `application/xcap-diff+xml`): parse them, build them, and apply
 * one to cached copies of documents so a client keeps in sync from change notifications (RFC
 * 5875) without fetching every document again.
 *
 * A `<document>` entry reports a new ETag for a document and, optionally, the change as RFC
 * 5261 XML patch operations; `<element>` and `<attribute>` entries report the current content
 * (or absence) of one node. {@linkcode applyXcapDiff} applies what it safely can and lists
 * everything else as documents to fetch again: when the cached ETag is not the one a patch
 * starts from, when no patch is given, or when a patch uses a selector this implementation
 * does not support. It never leaves a cache entry whose text and ETag disagree.
 *
 * Pure: Web APIs only.
 *
 * @module
 */
import { attributeValue } from "../xml/_tree.ts";
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { type ApplicationUsage, KNOWN_APPLICATIONS } from "../client/media_types.ts";
import {
  invalidArgument,
  type InvalidArgumentError,
  malformedResponse,
  type MalformedResponseError,
} from "../client/errors.ts";
import {
  formatNodeSelector,
  type NamespaceBindings,
  type NodeSelector,
  parseNodeSelector,
} from "../client/selector.ts";
import { parseXcapUri } from "../client/uri.ts";
import { parseXmlDocument, type XmlDocument, type XmlElement } from "../xml/document.ts";
import { deleteNode, putNode } from "../xml/edit.ts";
import { selectElements, selectNode } from "../xml/select.ts";
import {
  applyXmlPatch,
  relocateElement,
  type XmlPatchError,
  type XmlPatchOperation,
} from "../xml/patch.ts";
import { escapeAttributeValue as escapeAttribute, escapeText } from "../xml/_names.ts";

/**
 * The namespace of xcap-diff documents (RFC 5874 §4).
 *
 * @example Usage
 * ```ts
 * import { parseXcapDiff, XCAP_DIFF_NAMESPACE } from "@xcap/xcap/diff";
 * import { assertEquals } from "@std/assert";
 *
 * const diff = parseXcapDiff(
 *   `<xcap-diff xmlns="${XCAP_DIFF_NAMESPACE}" xcap-root="http://127.0.0.1/xcap-root">` +
 *     `<document sel="resource-lists/users/sip:a@b/index" new-etag="e2"/></xcap-diff>`,
 * );
 * assertEquals(diff.map((d) => d.entries.length).unwrapOr(0), 1);
 * ```
 */
export const XCAP_DIFF_NAMESPACE = "urn:ietf:params:xml:ns:xcap-diff";

/**
 * The MIME type of xcap-diff documents (RFC 5874 §6).
 *
 * @example Usage
 * ```ts
 * import { buildXcapDiff, XCAP_DIFF_MIME_TYPE } from "@xcap/xcap/diff";
 * import { assertEquals } from "@std/assert";
 *
 * // The body of a SIP NOTIFY for the xcap-diff event package carries this Content-Type.
 * const body = buildXcapDiff({ xcapRoot: "http://127.0.0.1/xcap-root", entries: [] });
 * const notify = new Headers({ "content-type": XCAP_DIFF_MIME_TYPE });
 * assertEquals(body.isOk() && notify.get("content-type"), "application/xcap-diff+xml");
 * ```
 */
export const XCAP_DIFF_MIME_TYPE = "application/xcap-diff+xml";

/**
 * A `<document>` entry (RFC 5874 §3): a document changed, was created or was removed.
 *
 * | previous-etag | new-etag | content | meaning |
 * |---|---|---|---|
 * | yes | yes | patch | changed; the patch turns the previous version into the new one |
 * | yes | yes | none | changed; fetch it |
 * | yes | yes | `<body-not-changed/>` | only the ETag changed |
 * | no | yes | none | created, or exists (initial state); fetch it unless the ETag is known |
 * | yes | no | none | removed |
 */
export interface XcapDiffDocument {
  /** Discriminant. */
  readonly kind: "document";
  /** The document selector relative to the XCAP root, e.g. `resource-lists/users/sip:joe@example.com/index`. */
  readonly sel: string;
  /** The ETag of the version the change starts from. */
  readonly previousEtag?: string;
  /** The ETag of the new version; absent when the document was removed. */
  readonly newEtag?: string;
  /** `<body-not-changed/>`: only the ETag changed. @default false */
  readonly bodyNotChanged?: boolean;
  /** The patch from the previous to the new version, in order; empty when none is given. */
  readonly patch: readonly XmlPatchOperation[];
  /**
   * Names of child elements this implementation does not understand (set by
   * {@linkcode parseXcapDiff}; ignored by {@linkcode buildXcapDiff}). Applying such an entry
   * asks for the document to be fetched again rather than guessing.
   */
  readonly unsupported?: readonly string[];
}

/** An `<element>` entry (RFC 5874 §3): the current content of an element, or its absence. */
export interface XcapDiffElement {
  /** Discriminant. */
  readonly kind: "element";
  /**
   * The element's XCAP URI relative to the XCAP root: document selector, `/~~`, and the node
   * selector (percent-encoded as in a URI).
   */
  readonly sel: string;
  /** Whether the element exists (`exists` attribute). @default true */
  readonly exists: boolean;
  /** The element as written (one element), when the server sent it. */
  readonly content?: string;
  /** Bindings in scope at the entry: node selector prefixes and content prefixes resolve here. */
  readonly namespaces?: NamespaceBindings;
}

/** An `<attribute>` entry (RFC 5874 §3): the current value of an attribute, or its absence. */
export interface XcapDiffAttribute {
  /** Discriminant. */
  readonly kind: "attribute";
  /** The attribute's XCAP URI relative to the XCAP root, ending with `/@name`. */
  readonly sel: string;
  /** Whether the attribute exists. @default true */
  readonly exists: boolean;
  /** The attribute value (decoded), when it exists. */
  readonly value?: string;
  /** Bindings in scope at the entry: node selector prefixes resolve here. */
  readonly namespaces?: NamespaceBindings;
}

/** Any entry of an xcap-diff document. */
export type XcapDiffEntry = XcapDiffDocument | XcapDiffElement | XcapDiffAttribute;

/** A parsed xcap-diff document. */
export interface XcapDiff {
  /** The `xcap-root` attribute; absent when the server left it out. */
  readonly xcapRoot?: string;
  /** The entries in document order. */
  readonly entries: readonly XcapDiffEntry[];
}

/** Options of {@linkcode buildXcapDiff}. */
export interface BuildXcapDiffOptions {
  /**
   * Write the xcap-diff elements with this prefix (`<d:xcap-diff xmlns:d=...>`) instead of in
   * the default namespace. Needed when an operation binds the default namespace `""` to
   * another namespace, since the operation element would otherwise leave the xcap-diff
   * namespace. @default none: the xcap-diff namespace is the default namespace
   */
  readonly prefix?: string;
}

/** A cached document: its text and the ETag of that text. */
export interface CachedXcapDocument {
  /** The document text. */
  readonly text: string;
  /**
   * The ETag the server gave this text, as the server sent it (quoted or not). Absent when the
   * text no longer matches any ETag the client knows (after an `<element>` entry changed it).
   */
  readonly etag?: string;
}

/** Cached documents by document selector (the path below the XCAP root). */
export type XcapDocumentCache =
  | ReadonlyMap<string, CachedXcapDocument>
  | Readonly<Record<string, CachedXcapDocument>>;

/** Why a document has to be fetched again. */
export type XcapDiffRefetchReason =
  /** The cached ETag is not the one the change starts from (or the cache has none). */
  | "etag-mismatch"
  /** The entry says the resource changed but carries no patch or content. */
  | "no-content"
  /** The document is not in the cache. */
  | "not-cached"
  /** The entry uses what this implementation does not support (selector syntax, extensions). */
  | "unsupported"
  /** The patch or node content does not apply to the cached text. */
  | "patch-failed"
  /** The entry itself is malformed (selector, attributes). */
  | "invalid-entry";

/** A document the client must fetch again. */
export interface XcapDiffRefetch {
  /** The cache key when the document is cached, else the document selector from the diff. */
  readonly document: string;
  /** For an `<element>` or `<attribute>` entry, its `sel`: the node that could not be updated. */
  readonly node?: string;
  /** Why. */
  readonly reason: XcapDiffRefetchReason;
  /** A readable explanation. */
  readonly message: string;
  /** The patch error, for `unsupported` and `patch-failed` patches. */
  readonly error?: XmlPatchError;
}

/** What happened to one document. */
export type XcapDiffDocumentStatus =
  /** Its text changed (patch, element or attribute entries). */
  | "patched"
  /** Only its ETag changed (`<body-not-changed/>`). */
  | "etag-updated"
  /** The cache already had this version, or nothing had to change. */
  | "up-to-date"
  /** The document was removed; it is no longer in the cache. */
  | "removed"
  /** It must be fetched again; see `refetch`. */
  | "refetch";

/** What {@linkcode applyXcapDiff} returns. */
export interface XcapDiffResult {
  /** The new cache (the input is not modified): patched entries updated, removed ones gone. */
  readonly cache: ReadonlyMap<string, CachedXcapDocument>;
  /** Every document the diff mentions, by cache key (or diff selector), with its final status. */
  readonly documents: ReadonlyMap<string, XcapDiffDocumentStatus>;
  /** The documents to fetch again, one entry each, in order of first mention. */
  readonly refetch: readonly XcapDiffRefetch[];
}

/** Options of {@linkcode applyXcapDiff}. */
export interface ApplyXcapDiffOptions {
  /**
   * Application usages by AUID: their default namespaces resolve unprefixed steps of
   * `<element>` and `<attribute>` node selectors (RFC 4825 §6.3). @default KNOWN_APPLICATIONS
   */
  readonly applications?: ReadonlyMap<string, ApplicationUsage>;
}

// -------------------------------------------------------------------------------------------
// Parsing
// -------------------------------------------------------------------------------------------

class DiffSyntaxError {
  constructor(readonly reason: string) {}
}

function bindingsOf(element: XmlElement): NamespaceBindings {
  const out: Record<string, string> = {};
  for (const [prefix, uri] of element.namespaces) if (prefix !== "xml") out[prefix] = uri;
  return Object.freeze(out);
}

/** Whether an element is the xcap-diff element `local` (any one when `local` is absent). */
function isDiffElement(element: XmlElement, local?: string): boolean {
  return element.namespace === XCAP_DIFF_NAMESPACE &&
    (local === undefined || element.localName === local);
}

function requiredSel(element: XmlElement, index: number): string {
  const sel = attributeValue(element, "sel");
  if (sel === undefined || sel === "") {
    throw new DiffSyntaxError(`entry ${index + 1} <${element.localName}> has no sel attribute`);
  }
  return sel;
}

function parseExists(element: XmlElement, index: number): boolean {
  const raw = attributeValue(element, "exists");
  if (raw === undefined) return true;
  switch (raw.trim()) {
    case "1":
    case "true":
      return true;
    case "0":
    case "false":
      return false;
  }
  throw new DiffSyntaxError(
    `entry ${index + 1} <${element.localName}> has exists=${JSON.stringify(raw)}; ` +
      `an XML Schema boolean (0, 1, false, true) is expected`,
  );
}

function parseDocumentEntry(doc: XmlDocument, element: XmlElement, index: number) {
  const sel = requiredSel(element, index);
  const patch: XmlPatchOperation[] = [];
  const unsupported: string[] = [];
  let bodyNotChanged = false;
  for (const child of element.children) {
    if (child.kind === "text" && child.value.trim() === "") continue;
    if (child.kind === "comment" || child.kind === "processing-instruction") continue;
    if (child.kind !== "element") {
      unsupported.push(`text ${JSON.stringify(child.value.trim().slice(0, 20))}`);
      continue;
    }
    if (!isDiffElement(child)) {
      unsupported.push(`{${child.namespace ?? ""}}${child.localName}`);
      continue;
    }
    if (child.localName === "body-not-changed") {
      bodyNotChanged = true;
      continue;
    }
    const opName = child.localName;
    if (opName !== "add" && opName !== "replace" && opName !== "remove") {
      unsupported.push(child.localName);
      continue;
    }
    const opSel = attributeValue(child, "sel");
    if (opSel === undefined) {
      throw new DiffSyntaxError(`entry ${index + 1}: <${child.name}> has no sel attribute`);
    }
    const namespaces = bindingsOf(child);
    const content = doc.text.slice(child.contentStart, child.contentEnd);
    if (opName === "remove") {
      const ws = attributeValue(child, "ws");
      if (ws !== undefined && ws !== "before" && ws !== "after" && ws !== "both") {
        throw new DiffSyntaxError(
          `entry ${index + 1}: <${child.name}> has ws=${JSON.stringify(ws)}`,
        );
      }
      patch.push(Object.freeze({
        op: "remove",
        sel: opSel,
        ...(ws === undefined ? {} : { ws }),
        namespaces,
      }));
    } else if (opName === "replace") {
      patch.push(Object.freeze({ op: "replace", sel: opSel, content, namespaces }));
    } else {
      const pos = attributeValue(child, "pos");
      if (pos !== undefined && pos !== "before" && pos !== "after" && pos !== "prepend") {
        throw new DiffSyntaxError(
          `entry ${index + 1}: <${child.name}> has pos=${JSON.stringify(pos)}`,
        );
      }
      const type = attributeValue(child, "type");
      patch.push(Object.freeze({
        op: "add",
        sel: opSel,
        content,
        ...(pos === undefined ? {} : { pos }),
        ...(type === undefined ? {} : { type }),
        namespaces,
      }));
    }
  }
  const previousEtag = attributeValue(element, "previous-etag");
  const newEtag = attributeValue(element, "new-etag");
  const entry: XcapDiffDocument = {
    kind: "document",
    sel,
    ...(previousEtag === undefined ? {} : { previousEtag }),
    ...(newEtag === undefined ? {} : { newEtag }),
    ...(bodyNotChanged ? { bodyNotChanged } : {}),
    patch: Object.freeze(patch),
    ...(unsupported.length === 0 ? {} : { unsupported: Object.freeze(unsupported) }),
  };
  return Object.freeze(entry);
}

function parseElementEntry(doc: XmlDocument, element: XmlElement, index: number) {
  const sel = requiredSel(element, index);
  const exists = parseExists(element, index);
  const elements = element.children.filter((c) => c.kind === "element");
  const text = element.children.some((c) =>
    (c.kind === "text" && c.value.trim() !== "") || c.kind === "cdata"
  );
  if (elements.length > 1 || text) {
    throw new DiffSyntaxError(
      `entry ${index + 1} <${element.name}> must contain one element or nothing`,
    );
  }
  const content = elements[0];
  return Object.freeze<XcapDiffElement>({
    kind: "element",
    sel,
    exists,
    ...(content === undefined ? {} : { content: doc.text.slice(content.start, content.end) }),
    namespaces: bindingsOf(element),
  });
}

function parseAttributeEntry(element: XmlElement, index: number) {
  const sel = requiredSel(element, index);
  const exists = parseExists(element, index);
  let value = "";
  for (const child of element.children) {
    if (child.kind === "text" || child.kind === "cdata") value += child.value;
    else if (child.kind === "element") {
      throw new DiffSyntaxError(`entry ${index + 1} <${element.name}> must contain text only`);
    }
  }
  return Object.freeze<XcapDiffAttribute>({
    kind: "attribute",
    sel,
    exists,
    ...(exists ? { value } : {}),
    namespaces: bindingsOf(element),
  });
}

/**
 * Parse an `application/xcap-diff+xml` document (RFC 5874).
 *
 * Entries are `<document>`, `<element>` and `<attribute>` in the xcap-diff namespace, in any
 * order; elements of other namespaces (the schema's extension point) are skipped. Patch
 * operations keep their content exactly as written and the namespace bindings in scope at
 * them. A `<document>` child this parser does not understand is listed in `unsupported`, so
 * {@linkcode applyXcapDiff} asks for a fetch instead of applying half a change.
 *
 * @param text The document.
 * @returns The parsed diff, or `MalformedResponse` saying what is wrong and where.
 *
 * @example RFC 5874's chained patches
 * ```ts
 * import { parseXcapDiff } from "@xcap/xcap/diff";
 * import { assertEquals } from "@std/assert";
 *
 * const diff = parseXcapDiff(
 *   '<d:xcap-diff xmlns:d="urn:ietf:params:xml:ns:xcap-diff" xcap-root="http://xcap.example.com/">' +
 *     '<d:document sel="tests/users/sip:joe@example.com/index" previous-etag="7ahggs" new-etag="fgherhryt3">' +
 *     '<d:add sel="*"><foo>a new element</foo></d:add></d:document></d:xcap-diff>',
 * )._unsafeUnwrap();
 * const entry = diff.entries[0];
 * assertEquals(entry?.kind === "document" && entry.newEtag, "fgherhryt3");
 * assertEquals(entry?.kind === "document" && entry.patch[0]?.op, "add");
 * assertEquals(entry?.kind === "document" && entry.patch[0]?.sel, "*");
 * ```
 */
export function parseXcapDiff(text: string): Result<XcapDiff, MalformedResponseError> {
  const parsed = parseXmlDocument(text);
  if (parsed.isErr()) {
    return err(malformedResponse(
      `Cannot parse the xcap-diff document: ${parsed.error.phrase ?? parsed.error.tag}`,
    ));
  }
  const doc = parsed.value;
  const root = doc.root;
  if (!isDiffElement(root, "xcap-diff")) {
    return err(malformedResponse(
      `Cannot parse the xcap-diff document: the document element is {${
        root.namespace ?? ""
      }}${root.localName}, not {${XCAP_DIFF_NAMESPACE}}xcap-diff`,
    ));
  }
  try {
    const entries: XcapDiffEntry[] = [];
    for (const child of root.children) {
      if (child.kind !== "element" || !isDiffElement(child)) continue;
      const index = entries.length;
      if (child.localName === "document") entries.push(parseDocumentEntry(doc, child, index));
      else if (child.localName === "element") entries.push(parseElementEntry(doc, child, index));
      else if (child.localName === "attribute") entries.push(parseAttributeEntry(child, index));
    }
    const xcapRoot = attributeValue(root, "xcap-root");
    return ok(Object.freeze({
      ...(xcapRoot === undefined ? {} : { xcapRoot }),
      entries: Object.freeze(entries),
    }));
  } catch (e) {
    const reason = e instanceof DiffSyntaxError ? e.reason : `internal error: ${String(e)}`;
    return err(malformedResponse(`Cannot parse the xcap-diff document: ${reason}`));
  }
}

// -------------------------------------------------------------------------------------------
// Building
// -------------------------------------------------------------------------------------------

class BuildError {
  constructor(readonly argument: string, readonly reason: string) {}
}

/**
 * Build an `application/xcap-diff+xml` document (RFC 5874).
 *
 * Operation and element content is written exactly as given. Each operation and entry
 * declares the namespace bindings of its `namespaces` on its own element. Without
 * `options.prefix` the xcap-diff elements are in the default namespace, which is then also the
 * default namespace in scope at every operation (as {@linkcode parseXcapDiff} reports it); an
 * operation that binds `""` to another namespace needs `options.prefix`.
 *
 * @param diff The document to write; `xcapRoot` is required.
 * @param options Prefix for the xcap-diff elements.
 * @returns The document text (ending with a newline), or `InvalidArgument` naming the problem.
 *
 * @example A document entry with a patch
 * ```ts
 * import { buildXcapDiff } from "@xcap/xcap/diff";
 * import { assertEquals } from "@std/assert";
 *
 * const text = buildXcapDiff({
 *   xcapRoot: "http://xcap.example.com/",
 *   entries: [{
 *     kind: "document",
 *     sel: "resource-lists/users/sip:joe@example.com/index",
 *     previousEtag: "7ahggs",
 *     newEtag: "fgherhryt3",
 *     patch: [{
 *       op: "remove",
 *       sel: "rl:resource-lists/rl:list[@name='old']",
 *       namespaces: { rl: "urn:ietf:params:xml:ns:resource-lists" },
 *     }],
 *   }],
 * })._unsafeUnwrap();
 * assertEquals(
 *   text,
 *   '<?xml version="1.0" encoding="UTF-8"?>\n' +
 *     '<xcap-diff xmlns="urn:ietf:params:xml:ns:xcap-diff" xcap-root="http://xcap.example.com/">\n' +
 *     '  <document sel="resource-lists/users/sip:joe@example.com/index" previous-etag="7ahggs" new-etag="fgherhryt3">\n' +
 *     "    <remove sel=\"rl:resource-lists/rl:list[@name='old']\" xmlns:rl=\"urn:ietf:params:xml:ns:resource-lists\"/>\n" +
 *     "  </document>\n" +
 *     "</xcap-diff>\n",
 * );
 * ```
 */
export function buildXcapDiff(
  diff: XcapDiff,
  options: BuildXcapDiffOptions = {},
): Result<string, InvalidArgumentError> {
  const prefix = options?.prefix;
  try {
    if (prefix !== undefined && !/^[A-Za-z_][A-Za-z0-9._-]*$/.test(prefix)) {
      throw new BuildError("options.prefix", `prefix ${JSON.stringify(prefix)} is not an NCName`);
    }
    if (typeof diff?.xcapRoot !== "string" || diff.xcapRoot === "") {
      throw new BuildError("diff.xcapRoot", "xcapRoot is required (RFC 5874 §3)");
    }
    const q = (local: string) => (prefix === undefined ? local : `${prefix}:${local}`);
    const declarations = (bindings: NamespaceBindings | undefined, where: string): string => {
      let out = "";
      for (const [p, uri] of Object.entries(bindings ?? {})) {
        if (p === "xml") continue;
        if (typeof uri !== "string") throw new BuildError(where, `binding "${p}" is not a string`);
        if (p === "") {
          if (prefix === undefined) {
            if (uri !== XCAP_DIFF_NAMESPACE) {
              throw new BuildError(
                "options.prefix",
                `${where} binds the default namespace to ${uri}; the xcap-diff elements then ` +
                  "need a prefix (options.prefix)",
              );
            }
            continue;
          }
          out += ` xmlns="${escapeAttribute(uri)}"`;
          continue;
        }
        if (p === prefix) {
          if (uri !== XCAP_DIFF_NAMESPACE) {
            throw new BuildError(
              "options.prefix",
              `${where} binds the prefix "${p}", which the xcap-diff elements use, to ${uri}`,
            );
          }
          continue;
        }
        if (!/^[A-Za-z_][A-Za-z0-9._-]*$/.test(p) || uri === "") {
          throw new BuildError(where, `invalid namespace binding ${JSON.stringify(p)}="${uri}"`);
        }
        out += ` xmlns:${p}="${escapeAttribute(uri)}"`;
      }
      return out;
    };
    const sel = (value: unknown, where: string): string => {
      if (typeof value !== "string" || value === "") {
        throw new BuildError(where, "sel must be a non-empty string");
      }
      return escapeAttribute(value);
    };
    const lines = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<${q("xcap-diff")} ${
        prefix === undefined ? "xmlns" : `xmlns:${prefix}`
      }="${XCAP_DIFF_NAMESPACE}" xcap-root="${escapeAttribute(diff.xcapRoot)}">`,
    ];
    for (const [i, entry] of (diff.entries ?? []).entries()) {
      const where = `diff.entries[${i}]`;
      switch (entry?.kind) {
        case "document": {
          let open = `  <${q("document")} sel="${sel(entry.sel, where)}"`;
          for (
            const [attr, value] of [
              ["previous-etag", entry.previousEtag],
              ["new-etag", entry.newEtag],
            ] as const
          ) {
            if (value === undefined) continue;
            if (typeof value !== "string" || [...value].some((ch) => ch < " ")) {
              throw new BuildError(where, `${attr} must be a string without control characters`);
            }
            open += ` ${attr}="${escapeAttribute(value)}"`;
          }
          const patch = entry.patch ?? [];
          if (entry.bodyNotChanged && patch.length > 0) {
            throw new BuildError(where, "bodyNotChanged and a patch exclude each other");
          }
          if (!entry.bodyNotChanged && patch.length === 0) {
            lines.push(open + "/>");
            break;
          }
          lines.push(open + ">");
          if (entry.bodyNotChanged) lines.push(`    <${q("body-not-changed")}/>`);
          for (const [k, op] of patch.entries()) {
            const opWhere = `${where}.patch[${k}]`;
            let tag = `<${q(op.op)} sel="${sel(op.sel, opWhere)}"`;
            if (op.op === "add") {
              if (op.pos !== undefined) tag += ` pos="${escapeAttribute(op.pos)}"`;
              if (op.type !== undefined) tag += ` type="${escapeAttribute(op.type)}"`;
            }
            if (op.op === "remove" && op.ws !== undefined) {
              tag += ` ws="${escapeAttribute(op.ws)}"`;
            }
            tag += declarations(op.namespaces, opWhere);
            if (op.op === "remove") {
              lines.push(`    ${tag}/>`);
            } else if (op.op === "add" || op.op === "replace") {
              if (typeof op.content !== "string") {
                throw new BuildError(opWhere, "content must be a string");
              }
              lines.push(`    ${tag}>${op.content}</${q(op.op)}>`);
            } else {
              throw new BuildError(opWhere, `unknown operation ${JSON.stringify(String(op))}`);
            }
          }
          lines.push(`  </${q("document")}>`);
          break;
        }
        case "element":
        case "attribute": {
          let open = `  <${q(entry.kind)} sel="${sel(entry.sel, where)}"`;
          if (entry.exists === false) open += ' exists="0"';
          open += declarations(entry.namespaces, where);
          const body = entry.kind === "element"
            ? (entry.exists === false ? undefined : entry.content)
            : (entry.exists === false ? undefined : entry.value);
          if (body === undefined || body === "") {
            lines.push(open + "/>");
          } else if (typeof body !== "string") {
            throw new BuildError(where, "content must be a string");
          } else {
            const text = entry.kind === "element" ? body : escapeText(body);
            lines.push(`${open}>${text}</${q(entry.kind)}>`);
          }
          break;
        }
        default:
          throw new BuildError(where, "an entry must have kind document, element or attribute");
      }
    }
    lines.push(`</${q("xcap-diff")}>`, "");
    const text = lines.join("\n");
    const check = parseXmlDocument(text);
    if (check.isErr()) {
      throw new BuildError(
        "diff",
        `the result is not well-formed XML (check the content strings): ${
          check.error.phrase ?? check.error.tag
        }`,
      );
    }
    return ok(text);
  } catch (e) {
    if (e instanceof BuildError) {
      return err(invalidArgument(e.argument, `Cannot build the xcap-diff document: ${e.reason}`));
    }
    return err(invalidArgument("diff", `Cannot build the xcap-diff document: ${String(e)}`));
  }
}

// -------------------------------------------------------------------------------------------
// Applying an xcap-diff document to a cache
// -------------------------------------------------------------------------------------------

/** The opaque part of an entity-tag: quotes and a weakness marker do not make tags differ. */
function opaqueTag(tag: string): string {
  let t = tag.trim();
  if (t.startsWith("W/")) t = t.slice(2);
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) t = t.slice(1, -1);
  return t;
}

function sameEtag(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && opaqueTag(a) === opaqueTag(b);
}

/** The new ETag written the way the cache wrote the old one (quoted or not). */
function styledEtag(newEtag: string, old: string | undefined): string {
  const quotedOld = old !== undefined && /^(W\/)?"/.test(old.trim());
  const quotedNew = /^(W\/)?"/.test(newEtag.trim());
  return quotedOld && !quotedNew ? `"${newEtag}"` : newEtag;
}

/** Strip the XCAP root or leading slashes from an entry's `sel`. */
function relativeSel(sel: string, xcapRoot: string | undefined): string {
  let s = sel;
  if (xcapRoot !== undefined && xcapRoot !== "" && s.startsWith(xcapRoot)) {
    s = s.slice(xcapRoot.length);
  }
  return s.replace(/^\/+/, "");
}

/** A document selector as a comparable key: decoded parts, so encodings do not matter. */
function canonicalDocument(docSel: string): string | undefined {
  const parsed = parseXcapUri("/" + docSel.replace(/^\/+/, ""), "");
  if (parsed.isErr() || parsed.value.node !== undefined) return undefined;
  const v = parsed.value;
  return JSON.stringify([v.auid, v.tree, v.xui ?? "", v.documentPath]);
}

interface NodeSel {
  readonly document: string;
  readonly auid: string;
  readonly node: NodeSelector;
  readonly queryBindings: Readonly<Record<string, string>>;
}

/** Split `<doc>/~~/<node>[?xmlns(...)]` and parse the node selector (RFC 4825 §6). */
function splitNodeSel(sel: string): Result<NodeSel, string> {
  const q = sel.indexOf("?");
  const path = q < 0 ? sel : sel.slice(0, q);
  const query = q < 0 ? "" : sel.slice(q + 1);
  const sep = path.indexOf("/~~/");
  if (sep < 0) return err(`sel ${JSON.stringify(sel)} has no node selector ("/~~/")`);
  const document = path.slice(0, sep);
  let nodeText: string;
  let decodedQuery: string;
  try {
    nodeText = decodeURIComponent(path.slice(sep + 3));
    decodedQuery = decodeURIComponent(query);
  } catch {
    return err(`sel ${JSON.stringify(sel)} has a malformed percent-encoding`);
  }
  const node = parseNodeSelector(nodeText);
  if (node.isErr()) return err(node.error.message);
  const queryBindings: Record<string, string> = {};
  for (const m of decodedQuery.matchAll(/xmlns\(\s*([^=()\s]+)\s*=\s*([^)]*?)\s*\)/g)) {
    queryBindings[m[1]!] = m[2]!;
  }
  const auid = document.split("/")[0] ?? "";
  return ok({ document, auid, node: node.value, queryBindings });
}

class DiffApplier {
  readonly cache: Map<string, CachedXcapDocument>;
  readonly documents = new Map<string, XcapDiffDocumentStatus>();
  readonly refetch: XcapDiffRefetch[] = [];
  readonly #index = new Map<string, string>();
  readonly #applications: ReadonlyMap<string, ApplicationUsage>;

  constructor(
    cache: XcapDocumentCache,
    readonly xcapRoot: string | undefined,
    options: ApplyXcapDiffOptions,
  ) {
    const entries: [string, CachedXcapDocument][] = cache instanceof Map
      ? [...(cache as ReadonlyMap<string, CachedXcapDocument>)]
      : Object.entries(cache ?? {});
    this.cache = new Map(entries);
    for (const key of this.cache.keys()) {
      const canonical = canonicalDocument(key);
      if (canonical !== undefined && !this.#index.has(canonical)) this.#index.set(canonical, key);
    }
    this.#applications = options.applications ?? KNOWN_APPLICATIONS;
  }

  /** The cache key for a document selector from the diff (itself when not cached). */
  key(docSel: string): string {
    const rel = relativeSel(docSel, this.xcapRoot);
    if (this.cache.has(rel)) return rel;
    const canonical = canonicalDocument(rel);
    return (canonical === undefined ? undefined : this.#index.get(canonical)) ?? rel;
  }

  needsRefetch(key: string): boolean {
    return this.documents.get(key) === "refetch";
  }

  setStatus(key: string, status: XcapDiffDocumentStatus): void {
    const previous = this.documents.get(key);
    // "patched" sticks over "up-to-date": a later no-op entry does not hide an earlier change.
    if (previous === "patched" && status === "up-to-date") return;
    if (previous === "removed" && status === "up-to-date") return;
    this.documents.set(key, status);
  }

  fail(
    key: string,
    reason: XcapDiffRefetchReason,
    message: string,
    extra: { node?: string; error?: XmlPatchError } = {},
  ): void {
    if (this.needsRefetch(key)) return;
    this.documents.set(key, "refetch");
    this.refetch.push(Object.freeze({ document: key, ...extra, reason, message }));
  }

  document(entry: XcapDiffDocument): void {
    if (typeof entry.sel !== "string" || entry.sel === "") {
      this.fail(String(entry.sel), "invalid-entry", "A <document> entry has no sel");
      return;
    }
    const key = this.key(entry.sel);
    if (this.needsRefetch(key)) return;
    const cached = this.cache.get(key);
    const { previousEtag, newEtag } = entry;
    const patch = entry.patch ?? [];
    const name = JSON.stringify(key);
    if (newEtag === undefined && previousEtag !== undefined) {
      // RFC 5874 §3: a previous-etag without a new-etag means the document was removed.
      this.cache.delete(key);
      this.setStatus(key, "removed");
      return;
    }
    if (newEtag === undefined) {
      this.fail(key, "no-content", `The entry for ${name} gives neither ETag`);
      return;
    }
    if (cached === undefined) {
      this.fail(key, "not-cached", `Document ${name} changed (ETag ${newEtag}) and is not cached`);
      return;
    }
    if (sameEtag(cached.etag, newEtag)) {
      // Already this version (e.g. the initial notification of a subscription).
      this.setStatus(key, "up-to-date");
      return;
    }
    if (entry.bodyNotChanged && patch.length > 0) {
      this.fail(
        key,
        "invalid-entry",
        `The entry for ${name} has both <body-not-changed/> and a patch`,
      );
      return;
    }
    if (previousEtag === undefined) {
      this.fail(
        key,
        patch.length > 0 ? "invalid-entry" : "no-content",
        `Document ${name} now has ETag ${newEtag}, and the diff says nothing about the cached ` +
          `version${cached.etag === undefined ? "" : ` (ETag ${cached.etag})`}`,
      );
      return;
    }
    if (!sameEtag(cached.etag, previousEtag)) {
      this.fail(
        key,
        "etag-mismatch",
        `The change to ${name} starts from ETag ${previousEtag}, but the cached copy has ` +
          (cached.etag === undefined ? "no known ETag" : `ETag ${cached.etag}`),
      );
      return;
    }
    if (entry.unsupported !== undefined && entry.unsupported.length > 0) {
      this.fail(
        key,
        "unsupported",
        `The entry for ${name} contains what this client does not understand: ${
          entry.unsupported.join(", ")
        }`,
      );
      return;
    }
    if (entry.bodyNotChanged) {
      this.cache.set(
        key,
        Object.freeze({ text: cached.text, etag: styledEtag(newEtag, cached.etag) }),
      );
      this.setStatus(key, "etag-updated");
      return;
    }
    if (patch.length === 0) {
      this.fail(
        key,
        "no-content",
        `Document ${name} changed from ETag ${previousEtag} to ${newEtag}; the diff carries no patch`,
      );
      return;
    }
    const patched = applyXmlPatch(cached.text, patch);
    if (patched.isErr()) {
      this.fail(
        key,
        patched.error.unsupported ? "unsupported" : "patch-failed",
        `Cannot patch ${name}: operation ${patched.error.index + 1}: ${patched.error.message}`,
        { error: patched.error },
      );
      return;
    }
    this.cache.set(
      key,
      Object.freeze({ text: patched.value, etag: styledEtag(newEtag, cached.etag) }),
    );
    this.setStatus(key, "patched");
  }

  node(entry: XcapDiffElement | XcapDiffAttribute): void {
    if (typeof entry.sel !== "string" || entry.sel === "") {
      this.fail(String(entry.sel), "invalid-entry", `An <${entry.kind}> entry has no sel`);
      return;
    }
    const rel = relativeSel(entry.sel, this.xcapRoot);
    const split = splitNodeSel(rel);
    if (split.isErr()) {
      const sep = rel.indexOf("/~~/");
      this.fail(this.key(sep < 0 ? rel : rel.slice(0, sep)), "invalid-entry", split.error, {
        node: entry.sel,
      });
      return;
    }
    const { document, auid, node, queryBindings } = split.value;
    const key = this.key(document);
    if (this.needsRefetch(key)) return;
    const name = JSON.stringify(key);
    const cached = this.cache.get(key);
    const what = `${entry.kind === "element" ? "Element" : "Attribute"} ${
      formatNodeSelector(node).unwrapOr(entry.sel)
    } of ${name}`;
    if (cached === undefined) {
      this.fail(key, "not-cached", `${what} changed, and the document is not cached`, {
        node: entry.sel,
      });
      return;
    }
    const isAttribute = node.terminal?.kind === "attribute";
    if (node.terminal?.kind === "namespace" || isAttribute !== (entry.kind === "attribute")) {
      this.fail(
        key,
        "invalid-entry",
        `The <${entry.kind}> entry's sel ${JSON.stringify(entry.sel)} does not select ${
          entry.kind === "attribute" ? "an attribute" : "an element"
        }`,
        { node: entry.sel },
      );
      return;
    }
    const usage = this.#applications.get(auid);
    if (usage === undefined) {
      this.fail(
        key,
        "unsupported",
        `${what}: the application usage "${auid}" is unknown, so the default namespace of ` +
          "its node selector is unknown (pass it in options.applications)",
        { node: entry.sel },
      );
      return;
    }
    // RFC 4825 §6.3: unprefixed steps are in the application usage's default namespace; RFC
    // 5874 §3: prefixes resolve with the namespace declarations in scope at the entry.
    const ns: Record<string, string> = {};
    for (const [p, uri] of Object.entries(entry.namespaces ?? {})) if (p !== "") ns[p] = uri;
    Object.assign(ns, queryBindings, { "": usage.defaultNamespace });
    const parsed = parseXmlDocument(cached.text);
    if (parsed.isErr()) {
      this.fail(key, "patch-failed", `The cached copy of ${name} is not well-formed XML`, {
        node: entry.sel,
      });
      return;
    }
    const doc = parsed.value;
    let newText: string | undefined;
    if (!entry.exists) {
      if (selectNode(doc, node, ns).isErr()) {
        newText = doc.text; // already absent
      } else {
        const deleted = deleteNode(doc, node, ns);
        if (deleted.isErr()) {
          this.fail(key, "patch-failed", `${what}: ${deleted.error.message}`, {
            node: entry.sel,
          });
          return;
        }
        newText = deleted.value.text;
      }
    } else if (entry.kind === "attribute") {
      if (entry.value === undefined) {
        this.fail(key, "no-content", `${what} changed; the diff does not give its value`, {
          node: entry.sel,
        });
        return;
      }
      const put = putNode(doc, node, ns, escapeAttribute(entry.value));
      if (put.isErr()) {
        this.fail(key, "patch-failed", `${what}: ${put.error.message}`, { node: entry.sel });
        return;
      }
      newText = put.value.text;
    } else {
      if (entry.content === undefined) {
        this.fail(key, "no-content", `${what} changed; the diff does not give its content`, {
          node: entry.sel,
        });
        return;
      }
      let scope: ReadonlyMap<string, string> = new Map();
      if (node.steps.length > 1) {
        const parents = selectElements(doc, { steps: node.steps.slice(0, -1) }, ns);
        if (parents.isErr() || parents.value.length !== 1) {
          this.fail(
            key,
            "patch-failed",
            `${what}: its parent ${
              parents.isErr()
                ? `cannot be selected (${parents.error.message})`
                : "is not in the cached copy"
            }`,
            { node: entry.sel },
          );
          return;
        }
        scope = parents.value[0]!.namespaces;
      }
      const body = relocateElement(entry.content, entry.namespaces ?? {}, scope);
      if (body.isErr()) {
        this.fail(key, "patch-failed", `${what}: ${body.error.message}`, { node: entry.sel });
        return;
      }
      const put = putNode(doc, node, ns, body.value);
      if (put.isErr()) {
        this.fail(key, "patch-failed", `${what}: ${put.error.message}`, { node: entry.sel });
        return;
      }
      newText = put.value.text;
    }
    if (newText === cached.text) {
      this.setStatus(key, "up-to-date");
      return;
    }
    // An element or attribute entry carries no ETag: the new text matches no known version, so
    // the ETag is dropped and a later document entry cannot be applied on top of a guess.
    this.cache.set(key, Object.freeze({ text: newText }));
    this.setStatus(key, "patched");
  }
}

/**
 * Apply an xcap-diff document to cached copies of documents (RFC 5874 §3 semantics).
 *
 * For each `<document>` entry, in order: a document whose cached ETag already is `new-etag` is
 * up to date; one without `new-etag` was removed and leaves the cache; one whose cached ETag is
 * `previous-etag` gets its patch applied (all operations or none) or, with
 * `<body-not-changed/>`, just the new ETag. Everything else is listed in `refetch` with the
 * reason, and its cache entry is left exactly as it was (text and ETag still agree): an ETag
 * that does not match, no patch, a document not in the cache, a patch that does not apply or
 * uses a selector this implementation does not support.
 *
 * `<element>` and `<attribute>` entries replace (or, with `exists="0"`, remove) that node in the
 * cached text, by the XCAP rules of RFC 4825 §8.2 and §8.4. They carry no ETag, so a changed
 * document keeps no ETag (`etag` absent) until it is fetched again.
 *
 * Cache keys are document selectors relative to the XCAP root
 * (`resource-lists/users/sip:alice@example.com/index`); the diff's selectors match them in any
 * percent-encoding. ETags compare by their opaque part (quoted or not); a new ETag is stored
 * quoted when the old one was.
 *
 * @param cache The cached documents (not modified).
 * @param diff The xcap-diff document, as text or parsed.
 * @param options Application usages for node selector namespaces.
 * @returns The new cache, each document's status and what to fetch again; `MalformedResponse`
 * only when `diff` is text that does not parse.
 *
 * @example A patch that applies, and one that starts from another version
 * ```ts
 * import { applyXcapDiff } from "@xcap/xcap/diff";
 * import { assertEquals } from "@std/assert";
 *
 * const sel = "resource-lists/users/sip:alice@example.com/index";
 * const cache = new Map([[sel, { text: "<doc><a/></doc>", etag: '"e1"' }]]);
 * const diff = '<d:xcap-diff xmlns:d="urn:ietf:params:xml:ns:xcap-diff" xcap-root="http://x/">' +
 *   `<d:document sel="${sel}" previous-etag="e1" new-etag="e2">` +
 *   '<d:add sel="*"><b/></d:add></d:document></d:xcap-diff>';
 * const result = applyXcapDiff(cache, diff)._unsafeUnwrap();
 * assertEquals(result.cache.get(sel), { text: "<doc><a/><b/></doc>", etag: '"e2"' });
 * assertEquals(result.documents.get(sel), "patched");
 *
 * const again = applyXcapDiff(result.cache, diff)._unsafeUnwrap();
 * assertEquals(again.documents.get(sel), "up-to-date");
 * const other = applyXcapDiff(cache, diff.replace('previous-etag="e1"', 'previous-etag="e0"'));
 * assertEquals(other.map((r) => r.refetch.map((f) => [f.document, f.reason])).unwrapOr(undefined), [[sel, "etag-mismatch"]]);
 * ```
 */
export function applyXcapDiff(
  cache: XcapDocumentCache,
  diff: XcapDiff | string,
  options: ApplyXcapDiffOptions = {},
): Result<XcapDiffResult, MalformedResponseError> {
  const parsed = typeof diff === "string" ? parseXcapDiff(diff) : ok(diff);
  return parsed.map((parsed) => {
    const applier = new DiffApplier(cache, parsed?.xcapRoot, options ?? {});
    for (const entry of parsed?.entries ?? []) {
      if (entry?.kind === "document") applier.document(entry);
      else if (entry?.kind === "element" || entry?.kind === "attribute") applier.node(entry);
    }
    return Object.freeze({
      cache: applier.cache,
      documents: applier.documents,
      refetch: Object.freeze(applier.refetch),
    });
  });
}
