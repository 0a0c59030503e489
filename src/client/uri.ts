/**
 * XCAP URIs (RFC 4825 §6): build them from parts, and parse them back into parts.
 *
 * An XCAP URI is the XCAP root, the document selector
 * (`<auid>/users/<xui>/<folders…>/<document>` or `<auid>/global/<folders…>/<document>`), and
 * optionally `/~~` followed by a node selector, with the node selector's namespace bindings in
 * the query as `xmlns(prefix=uri)` parts (§6.4).
 *
 * Encoding rules used here (each decoded exactly once by {@linkcode parseXcapUri}):
 * - XUI, folder and document names are single path segments: everything outside RFC 3986
 *   `pchar` is percent-encoded as UTF-8, `%` and `/` included, so a name can never add, remove
 *   or escape a segment. Empty names, `.`, `..`, `~~` and control characters are rejected.
 * - The node selector keeps `/` raw only between steps; every `/` inside an attribute value is
 *   written `%2F`, so the raw path splits on `/` without ambiguity and the first raw `~~`
 *   segment is always the separator.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { invalidArgument, type InvalidArgumentError } from "./errors.ts";
import {
  formatNodeSelector,
  type NamespaceBindings,
  type NodeSelector,
  parseNodeSelector,
  parseQualifiedName,
  selectorPrefixes,
} from "./selector.ts";

/**
 * What a request acts on: a document, or one node in it (RFC 4825 §6); what
 * {@linkcode buildXcapUri} turns into a URI.
 */
export interface XcapTarget {
  /**
   * The XCAP root (§6.1): an absolute `http:` or `https:` URL, possibly with a path
   * (`https://xcap.example.com/xcap-root`), with or without a trailing `/`, without query,
   * fragment or credentials.
   */
  readonly xcapRoot: string;
  /**
   * The application unique ID (§5.1), e.g. `resource-lists` or
   * `org.openmobilealliance.pres-rules`: one or more of `A-Z a-z 0-9 - _ ~ . ! $ & ' ( ) * + , ;
   * = : @`, not `.`, `..` or `~~`. Percent-escapes are not accepted.
   */
  readonly auid: string;
  /** The XCAP user identifier (§4), e.g. `sip:alice@example.com`; required unless `global`. */
  readonly xui?: string;
  /** Address the global tree (`<auid>/global/…`) instead of a user's. @default false */
  readonly global?: boolean;
  /**
   * The document's path inside the tree, `/` separating folders: `index`, `dir/doc.xml`. Each
   * name is taken literally (a `%` is sent as `%25`). @default "index"
   */
  readonly filename?: string;
  /** A node selector (§6.3), as unescaped text (`/a/b[@c="d"]`) or as a parsed selector. */
  readonly node?: string | NodeSelector;
  /**
   * Namespace bindings, prefix to namespace URI (§6.4). Only the prefixes the node selector uses
   * are written into the query, in order of first use; each one used must have a binding here
   * (except `xml`, which is predeclared). All entries are validated. @default {}
   */
  readonly namespaces?: NamespaceBindings;
}

/** The parts of an XCAP URI, as {@linkcode parseXcapUri} returns them (all decoded). */
export interface ParsedXcapUri {
  /** The application unique ID. */
  readonly auid: string;
  /** Which tree the document is in. */
  readonly tree: "users" | "global";
  /** The XCAP user identifier; present exactly when `tree` is `"users"`. */
  readonly xui?: string;
  /** Folders and document name, joined with `/`: `index`, `dir/doc.xml`. */
  readonly documentPath: string;
  /** The parsed node selector, when the URI has one. */
  readonly node?: NodeSelector;
  /** The node selector's unescaped text, when the URI has one. */
  readonly nodeText?: string;
  /** The namespace bindings of the query's `xmlns()` parts (empty when there are none). */
  readonly namespaces: NamespaceBindings;
}

/** The namespace name the prefix `xml` is bound to by definition (XML Namespaces §3). */
const XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace";

// ---------------------------------------------------------------------------------------------
// Percent-encoding
// ---------------------------------------------------------------------------------------------

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const SUB_DELIMS = "!$&'()*+,;=";
const UTF8 = new TextEncoder();

/** RFC 3986 `pchar` without `pct-encoded`: what may stay raw inside one path segment. */
function isSegmentChar(ch: string): boolean {
  return UNRESERVED.test(ch) || SUB_DELIMS.includes(ch) || ch === ":" || ch === "@";
}

/**
 * Query characters kept raw: `pchar`, `/` and `?` (RFC 3986 §3.4), except `+`, which form
 * decoders read as a space, `&`, which they read as a separator, and `'`, which the WHATWG URL
 * parser would encode (so built URIs stay unchanged by `new URL(uri).href`).
 */
function isQueryChar(ch: string): boolean {
  return (isSegmentChar(ch) || ch === "/" || ch === "?") && !"+&'".includes(ch);
}

/** Text made only of characters {@linkcode isSegmentChar} keeps: nothing to encode. */
const SEGMENT_CHARS_ONLY = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]*$/;

/** Percent-encode (UTF-8, upper-case hex) every code point for which `keep` is false. */
function percentEncode(text: string, keep: (ch: string) => boolean): string {
  if (keep === isSegmentChar && SEGMENT_CHARS_ONLY.test(text)) return text;
  let out = "";
  for (const ch of text) {
    if (ch.length === 1 && ch < "\x80" && keep(ch)) {
      out += ch;
      continue;
    }
    for (const byte of UTF8.encode(ch)) {
      out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
    }
  }
  return out;
}

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decode `%XX` escapes exactly once, as UTF-8; raw characters are kept. Never throws. */
function percentDecode(raw: string): { value: string } | { problem: string } {
  if (!raw.includes("%")) return { value: raw };
  const bytes: number[] = [];
  for (let i = 0; i < raw.length;) {
    const c = raw.charCodeAt(i);
    if (c === 0x25 /* % */) {
      const pair = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(pair)) {
        return { problem: `malformed percent-escape ${JSON.stringify(raw.slice(i, i + 3))}` };
      }
      bytes.push(parseInt(pair, 16));
      i += 3;
    } else if (c < 0x80) {
      bytes.push(c);
      i++;
    } else {
      const cp = raw.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      for (const b of UTF8.encode(ch)) bytes.push(b);
      i += ch.length;
    }
  }
  try {
    return { value: STRICT_UTF8.decode(new Uint8Array(bytes)) };
  } catch {
    return { problem: `percent-escapes in ${JSON.stringify(raw)} are not valid UTF-8` };
  }
}

/** Whether `text` has a lone UTF-16 surrogate (it could not be encoded as UTF-8). */
function hasLoneSurrogate(text: string): boolean {
  return !text.isWellFormed();
}

/** Whether `text` has a C0 control character or DEL. */
function hasControl(text: string): boolean {
  // deno-lint-ignore no-control-regex
  return /[\x00-\x1f\x7f]/.test(text);
}

/** What is wrong with a decoded XUI, folder or document name, or `undefined`. */
function segmentProblem(name: string): string | undefined {
  if (name === "") return "is empty";
  if (name === "." || name === "..") return "is a dot segment";
  // "~~" is the node selector separator (§6); as a name it would make the URI ambiguous.
  if (name === "~~") return 'is "~~", the node selector separator';
  if (hasLoneSurrogate(name)) return "has a lone UTF-16 surrogate";
  if (hasControl(name)) return "contains a control character";
  return undefined;
}

/** What is wrong with an AUID, or `undefined`. */
function auidProblem(auid: string): string | undefined {
  if (auid === "") return "is empty";
  // RFC 4825 §5.1: auid-char = auid-unreserved / pct-encoded / sub-delims / ":" / "@", with "."
  // separating the labels of a vendor AUID. Percent-escapes are refused: AUIDs are registered
  // names, and a raw-only AUID is the same string in every layer.
  if (!/^[A-Za-z0-9\-_~.!$&'()*+,;=:@]+$/.test(auid)) {
    return "may only contain letters, digits and - _ ~ . ! $ & ' ( ) * + , ; = : @";
  }
  if (auid === "." || auid === "..") return "is a dot segment";
  if (auid === "~~") return 'is "~~", the node selector separator';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Building
// ---------------------------------------------------------------------------------------------

function buildError(argument: string, message: string): Result<never, InvalidArgumentError> {
  return err(invalidArgument(argument, `Cannot build XCAP URI: ${message}`));
}

/** A URL for a message: user name and password are never repeated. */
function withoutCredentials(url: URL): string {
  if (url.username === "" && url.password === "") return url.href;
  const copy = new URL(url.href);
  copy.username = "";
  copy.password = "";
  return copy.href.replace("//", "//…@");
}

/** A string or URL for a message, as given but without credentials. */
function messageUrl(url: string | URL): string {
  if (url instanceof URL) return withoutCredentials(url);
  // Keep the text as sent (dot segments included), only the userinfo is cut out.
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, "$1…@");
}

/** The XCAP root as `origin + path`, without a trailing slash. */
/** The last root accepted, normalized: a client builds every URI from the same root. */
let lastRoot: { readonly xcapRoot: string; readonly result: Result<string, never> } | undefined;

function normalizeRoot(xcapRoot: string): Result<string, InvalidArgumentError> {
  if (typeof xcapRoot !== "string") return buildError("xcapRoot", "xcapRoot is not a string");
  if (lastRoot?.xcapRoot === xcapRoot) return lastRoot.result;
  const result = checkRoot(xcapRoot);
  if (result.isOk()) lastRoot = { xcapRoot, result: ok(result.value) };
  return result;
}

function checkRoot(xcapRoot: string): Result<string, InvalidArgumentError> {
  let url: URL;
  try {
    url = new URL(xcapRoot);
  } catch {
    // Not a URL, but `user:pw@host` may still carry a password: that is never repeated.
    const shown = xcapRoot.includes("@") ? "" : `${JSON.stringify(xcapRoot)} `;
    return buildError("xcapRoot", `xcapRoot ${shown}is not an absolute URL`);
  }
  const show = () => JSON.stringify(withoutCredentials(url));
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return buildError("xcapRoot", `xcapRoot ${show()} must be an http: or https: URL`);
  }
  if (xcapRoot.includes("?") || xcapRoot.includes("#")) {
    return buildError("xcapRoot", `xcapRoot ${show()} must not have a query or fragment`);
  }
  if (url.username !== "" || url.password !== "") {
    return buildError("xcapRoot", `xcapRoot ${show()} must not contain credentials`);
  }
  return ok(url.origin + url.pathname.replace(/\/+$/, ""));
}

/**
 * The node selector for the path: canonical text, percent-encoded (§6.3: characters that may
 * not appear raw in a URI path, such as `"`, `[`, `]`, space, `#`, `?`, `%` and non-ASCII, are
 * percent-encoded), with `/` raw only between steps and `%2F` inside attribute values.
 */
function encodeNodeSelector(canonical: string): string {
  let out = "";
  let quote: string | undefined;
  for (const ch of canonical) {
    if (quote === undefined) {
      // In canonical text a quote outside a value always opens one (names cannot hold quotes).
      if (ch === '"' || ch === "'") quote = ch;
      out += ch === "/" ? "/" : percentEncode(ch, isSegmentChar);
    } else {
      if (ch === quote) quote = undefined;
      // "/" inside a value is written %2F so that a raw "/" only ever separates steps. This is
      // our rule, not RFC 4825's: its grammar (§6.3) applies to the percent-decoded selector,
      // where "/" and "%2F" are the same character, so a conforming server reads both alike.
      out += percentEncode(ch, isSegmentChar);
    }
  }
  return out;
}

/**
 * Escape scheme data for an XPointer `xmlns()` part: `^` → `^^`, `(` → `^(`, `)` → `^)`
 * (the XPointer Framework's escaping of scheme data), so any namespace URI fits in the part.
 */
function escapeSchemeData(text: string): string {
  return text.replace(/[\^()]/g, (ch) => "^" + ch);
}

/** Validate the namespace bindings; returns them as own entries. */
function checkNamespaces(
  namespaces: unknown,
): Result<ReadonlyMap<string, string>, InvalidArgumentError> {
  const bindings = new Map<string, string>();
  if (namespaces === undefined) return ok(bindings);
  if (typeof namespaces !== "object" || namespaces === null || Array.isArray(namespaces)) {
    return buildError("namespaces", "namespaces must be an object of prefix to namespace URI");
  }
  for (const [prefix, uri] of Object.entries(namespaces)) {
    const name = parseQualifiedName(prefix);
    if (name.isErr() || name.value.prefix !== undefined) {
      return buildError(
        "namespaces",
        `namespace prefix ${JSON.stringify(prefix)} is not an NCName`,
      );
    }
    if (prefix === "xmlns") {
      return buildError("namespaces", 'the prefix "xmlns" is reserved and cannot be bound');
    }
    if (typeof uri !== "string" || uri === "") {
      return buildError(
        "namespaces",
        `namespace URI for prefix "${prefix}" must be a non-empty string`,
      );
    }
    if (prefix === "xml" && uri !== XML_NAMESPACE) {
      return buildError("namespaces", `the prefix "xml" can only be bound to ${XML_NAMESPACE}`);
    }
    if (hasLoneSurrogate(uri)) {
      return buildError("namespaces", `namespace URI for prefix "${prefix}" has a lone surrogate`);
    }
    bindings.set(prefix, uri);
  }
  return ok(bindings);
}

/**
 * Build an XCAP URI (RFC 4825 §6) from its parts, percent-encoding each part for its place.
 *
 * The XUI is one path segment: `:` and `@` stay, everything outside `pchar` (including `/`, `?`,
 * `#`, `%`, `[`, `]`, space and non-ASCII) is percent-encoded. `filename` may name folders
 * (`dir/doc.xml`); each name is literal (`%` becomes `%25`), and empty names, `.`, `..` and `~~`
 * are refused. The node selector, given as text or model, is validated and written in canonical
 * form after `/~~`, with `/` inside attribute values as `%2F`. Only the namespace bindings the
 * selector uses go into the query (`?xmlns(p=urn:x)xmlns(q=urn:y)`, §6.4).
 *
 * @param options The parts of the URI.
 * @param options.xcapRoot The XCAP root URL.
 * @param options.auid The application unique ID.
 * @param options.xui The user; required unless `global`. @default absent
 * @param options.global Use the global tree. @default false
 * @param options.filename Folders and document name. @default "index"
 * @param options.node The node selector. @default absent
 * @param options.namespaces Prefix to namespace URI bindings. @default {}
 * @returns The URI, or an `InvalidArgument` error naming the option that is wrong.
 *
 * @example A resource list entry (in the style of RFC 4825 §6's examples)
 * ```ts
 * import { buildXcapUri } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const uri = buildXcapUri({
 *   xcapRoot: "http://xcap.example.com/root/",
 *   auid: "resource-lists",
 *   xui: "sip:joe@example.com",
 *   node: '/resource-lists/list[@name="friends"]/entry[@uri="sip:bob@example.com"]',
 * });
 * assertEquals(
 *   uri.isOk() && uri.value,
 *   "http://xcap.example.com/root/resource-lists/users/sip:joe@example.com/index/~~" +
 *     "/resource-lists/list%5B@name=%22friends%22%5D/entry%5B@uri=%22sip:bob@example.com%22%5D",
 * );
 * ```
 *
 * @example Namespace bindings and a global document
 * ```ts
 * import { buildXcapUri } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const uri = buildXcapUri({
 *   xcapRoot: "https://h:8443",
 *   auid: "xcap-caps",
 *   global: true,
 *   node: "/c:xcap-caps/c:auids",
 *   namespaces: { c: "urn:ietf:params:xml:ns:xcap-caps", unused: "urn:x" },
 * });
 * assertEquals(
 *   uri.isOk() && uri.value,
 *   "https://h:8443/xcap-caps/global/index/~~/c:xcap-caps/c:auids" +
 *     "?xmlns(c=urn:ietf:params:xml:ns:xcap-caps)",
 * );
 * ```
 */
export function buildXcapUri(options: XcapTarget): Result<string, InvalidArgumentError> {
  if (typeof options !== "object" || options === null) {
    return buildError("options", "options must be an object");
  }
  const root = normalizeRoot(options.xcapRoot);
  if (root.isErr()) return err(root.error);

  const { auid, xui, global = false, filename = "index", node, namespaces } = options;
  if (typeof auid !== "string") return buildError("auid", "auid is not a string");
  const badAuid = auidProblem(auid);
  if (badAuid !== undefined) return buildError("auid", `auid ${JSON.stringify(auid)} ${badAuid}`);

  if (typeof global !== "boolean") return buildError("global", "global must be a boolean");
  let tree: string;
  if (global) {
    if (xui !== undefined) {
      return buildError("xui", "xui must not be given for the global tree (global: true)");
    }
    tree = "global";
  } else {
    if (xui === undefined) return buildError("xui", "xui is required unless global is true");
    if (typeof xui !== "string") return buildError("xui", "xui is not a string");
    const badXui = segmentProblem(xui);
    if (badXui !== undefined) return buildError("xui", `xui ${JSON.stringify(xui)} ${badXui}`);
    tree = "users/" + percentEncode(xui, isSegmentChar);
  }

  if (typeof filename !== "string") return buildError("filename", "filename is not a string");
  const names = filename.split("/");
  for (const [i, name] of names.entries()) {
    const problem = segmentProblem(name);
    if (problem !== undefined) {
      return buildError(
        "filename",
        `filename ${JSON.stringify(filename)}: path segment ${i + 1} ${JSON.stringify(name)} ` +
          problem,
      );
    }
  }
  const documentPart = names.map((name) => percentEncode(name, isSegmentChar)).join("/");

  const bindings = checkNamespaces(namespaces);
  if (bindings.isErr()) return err(bindings.error);

  let nodePart = "";
  let query = "";
  if (node !== undefined) {
    const parsed = typeof node === "string" ? parseNodeSelector(node) : ok(node);
    if (parsed.isErr()) return err(invalidArgument("node", parsed.error.message));
    const selector = parsed.value;
    const canonical = formatNodeSelector(selector);
    if (canonical.isErr()) return err(invalidArgument("node", canonical.error.message));
    nodePart = "/~~" + encodeNodeSelector(canonical.value);
    for (const prefix of selectorPrefixes(selector)) {
      if (prefix === "xml") continue; // bound by definition
      const uri = bindings.value.get(prefix);
      if (uri === undefined) {
        return buildError(
          "namespaces",
          `the node selector uses the prefix "${prefix}" but namespaces has no binding for it`,
        );
      }
      query += `xmlns(${percentEncode(prefix, isQueryChar)}=` +
        `${percentEncode(escapeSchemeData(uri), isQueryChar)})`;
    }
  }

  return ok(
    `${root.value}/${auid}/${tree}/${documentPart}${nodePart}${query === "" ? "" : "?" + query}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/** Thrown inside {@linkcode parseXcapUri} only, and always caught there. */
class UriSyntaxError {
  constructor(readonly reason: string) {}
}

/** The raw (still percent-encoded) path and query of a URL string or object. */
function rawPathAndQuery(url: string | URL): { path: string; query: string } | undefined {
  if (url instanceof URL) return { path: url.pathname, query: url.search.slice(1) };
  if (typeof url !== "string") return undefined;
  // An absolute URL with an authority, or an origin-relative path. The path is read as sent:
  // unlike `new URL()`, this never resolves "." / ".." or "%2e" segments, so they are refused.
  const match = /^(?:[A-Za-z][A-Za-z0-9+.\-]*:\/\/[^/?#]*)?(\/[^?#]*)(?:\?([^#]*))?(?:#.*)?$/s
    .exec(url);
  if (match === null) return undefined;
  return { path: match[1]!, query: match[2] ?? "" };
}

function decodeOrFail(raw: string, what: string): string {
  const decoded = percentDecode(raw);
  if ("problem" in decoded) throw new UriSyntaxError(`${what}: ${decoded.problem}`);
  return decoded.value;
}

/** Parse the query: `xmlns(prefix=uri)` parts (§6.4), optional whitespace between them. */
function parseNamespaceQuery(rawQuery: string): Map<string, string> {
  const bindings = new Map<string, string>();
  const query = decodeOrFail(rawQuery, "query");
  let pos = 0;
  const skipSpace = () => {
    while (/^[ \t\r\n]$/.test(query[pos] ?? "")) pos++;
  };
  skipSpace();
  while (pos < query.length) {
    if (!query.startsWith("xmlns(", pos)) {
      throw new UriSyntaxError(
        `query: expected "xmlns(" at offset ${pos} (only xmlns() namespace bindings are allowed)`,
      );
    }
    const partStart = pos;
    pos += "xmlns(".length;
    const eq = query.indexOf("=", pos);
    const prefix = eq < 0 ? "" : query.slice(pos, eq);
    const name = parseQualifiedName(prefix);
    if (eq < 0 || name.isErr() || name.value.prefix !== undefined) {
      throw new UriSyntaxError(
        `query: the xmlns() part at offset ${partStart} needs "prefix=namespace" with an NCName ` +
          "prefix",
      );
    }
    if (prefix === "xmlns") {
      throw new UriSyntaxError('query: the prefix "xmlns" is reserved and cannot be bound');
    }
    pos = eq + 1;
    // Scheme data with XPointer escaping: ^^ ^( ^); unescaped parentheses must balance.
    let uri = "";
    let depth = 0;
    for (;;) {
      const ch = query[pos];
      if (ch === undefined) {
        throw new UriSyntaxError(
          `query: the xmlns() part at offset ${partStart} is not closed with ")"`,
        );
      }
      pos++;
      if (ch === "^") {
        const next = query[pos];
        if (next !== "^" && next !== "(" && next !== ")") {
          throw new UriSyntaxError(
            `query: "^" at offset ${pos - 1} must be followed by ^, ( or ) (XPointer escaping)`,
          );
        }
        uri += next;
        pos++;
      } else if (ch === "(") {
        depth++;
        uri += ch;
      } else if (ch === ")") {
        if (depth === 0) break;
        depth--;
        uri += ch;
      } else {
        uri += ch;
      }
    }
    if (uri === "") {
      throw new UriSyntaxError(`query: the namespace for prefix "${prefix}" is empty`);
    }
    if (bindings.has(prefix)) {
      throw new UriSyntaxError(`query: the prefix "${prefix}" is bound more than once`);
    }
    if (prefix === "xml" && uri !== XML_NAMESPACE) {
      throw new UriSyntaxError(`query: the prefix "xml" can only be bound to ${XML_NAMESPACE}`);
    }
    bindings.set(prefix, uri);
    skipSpace();
  }
  return bindings;
}

/** Normalize the root path: "" or "/…", without trailing slashes. */
function normalizeRootPath(xcapRootPath: string): string | undefined {
  if (typeof xcapRootPath !== "string") return undefined;
  if (xcapRootPath !== "" && !xcapRootPath.startsWith("/")) return undefined;
  if (xcapRootPath.includes("?") || xcapRootPath.includes("#")) return undefined;
  return xcapRootPath.replace(/\/+$/, "");
}

/**
 * Parse an XCAP URI into its parts: the inverse of {@linkcode buildXcapUri}, for servers.
 *
 * The path must lie under `xcapRootPath`. Each part is percent-decoded exactly once; malformed
 * escapes and invalid UTF-8 are errors, never exceptions. The document part must have at least
 * one name and refuses empty names, `.`, `..` (raw or encoded, e.g. `%2e%2e`), `~~`, control
 * characters and encoded slashes (`%2F`), so it cannot change the path structure; the XUI may
 * contain an encoded `/`. The first raw `~~` segment after the document selector starts the node
 * selector, so `%2F` or `~~` inside attribute values are harmless. The node selector is parsed
 * (error offsets refer to its decoded text), and every prefix it uses except `xml` must be bound
 * in the query.
 *
 * A string is read as sent: an absolute URL or an origin-relative path (`/xcap-root/…`). A `URL`
 * object has already been normalized by the WHATWG URL parser (it resolves `..` segments).
 *
 * @param url The request URL.
 * @param xcapRootPath The XCAP root's path as it appears in URLs: `/xcap-root`, `/` or `""`;
 * a trailing `/` is ignored.
 * @returns The parts, or an `InvalidArgument` error (argument `url` or `xcapRootPath`).
 *
 * @example Usage
 * ```ts
 * import { parseXcapUri } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const parsed = parseXcapUri(
 *   "http://h/xcap-root/resource-lists/users/sip:joe@example.com/index/~~" +
 *     "/rl:resource-lists/rl:list%5B@name=%22a%2Fb%22%5D?xmlns(rl=urn:ietf:params:xml:ns:resource-lists)",
 *   "/xcap-root",
 * );
 * assertEquals(parsed.isOk() && parsed.value.xui, "sip:joe@example.com");
 * assertEquals(parsed.isOk() && parsed.value.nodeText, '/rl:resource-lists/rl:list[@name="a/b"]');
 * assertEquals(parsed.isOk() && parsed.value.namespaces, {
 *   rl: "urn:ietf:params:xml:ns:resource-lists",
 * });
 * ```
 */
export function parseXcapUri(
  url: string | URL,
  xcapRootPath: string,
): Result<ParsedXcapUri, InvalidArgumentError> {
  if (!(url instanceof URL) && typeof url !== "string") {
    return err(invalidArgument("url", "Cannot parse XCAP URI: it is neither a string nor a URL"));
  }
  const show = JSON.stringify(messageUrl(url));
  const root = normalizeRootPath(xcapRootPath);
  if (root === undefined) {
    return err(invalidArgument(
      "xcapRootPath",
      `Cannot parse XCAP URI ${show}: xcapRootPath ${JSON.stringify(xcapRootPath)} must be ` +
        `"" or a path starting with "/" without query or fragment`,
    ));
  }
  try {
    const raw = rawPathAndQuery(url);
    if (raw === undefined) throw new UriSyntaxError("it is not an absolute URL or a path");
    if (!raw.path.startsWith(root + "/")) {
      throw new UriSyntaxError(`the path is not under the XCAP root "${root}/"`);
    }
    const segments = raw.path.slice(root.length + 1).split("/");

    const auid = decodeOrFail(segments[0] ?? "", "AUID");
    const badAuid = auidProblem(auid);
    if (badAuid !== undefined) throw new UriSyntaxError(`AUID ${JSON.stringify(auid)} ${badAuid}`);

    const tree = decodeOrFail(segments[1] ?? "", "tree");
    if (tree !== "users" && tree !== "global") {
      throw new UriSyntaxError(
        `the segment after the AUID must be "users" or "global", not ${JSON.stringify(tree)}`,
      );
    }
    let index = 2;
    let xui: string | undefined;
    if (tree === "users") {
      if (segments.length < 3) throw new UriSyntaxError('no XUI after "users"');
      xui = decodeOrFail(segments[2]!, "XUI");
      const badXui = segmentProblem(xui);
      if (badXui !== undefined) throw new UriSyntaxError(`XUI ${JSON.stringify(xui)} ${badXui}`);
      index = 3;
    }

    // The node selector starts at the first raw "~~" segment after the tree (§6). Attribute
    // values cannot produce a raw "~~" segment before it: they are inside the node selector.
    let separator = segments.indexOf("~~", index);
    if (separator < 0) separator = segments.length;
    const rawNames = segments.slice(index, separator);
    if (rawNames.length === 0) {
      throw new UriSyntaxError("the document selector has no document name");
    }
    const names = rawNames.map((rawName, i) => {
      const name = decodeOrFail(rawName, `document path segment ${i + 1}`);
      if (name.includes("/")) {
        throw new UriSyntaxError(
          `document path segment ${i + 1} ${JSON.stringify(rawName)} contains an encoded "/"`,
        );
      }
      const problem = segmentProblem(name);
      if (problem !== undefined) {
        throw new UriSyntaxError(
          `document path segment ${i + 1} ${JSON.stringify(rawName)} ${problem}`,
        );
      }
      return name;
    });

    const bindings = parseNamespaceQuery(raw.query);
    const result: {
      auid: string;
      tree: "users" | "global";
      xui?: string;
      documentPath: string;
      node?: NodeSelector;
      nodeText?: string;
      namespaces: NamespaceBindings;
    } = {
      auid,
      tree,
      documentPath: names.join("/"),
      namespaces: Object.freeze(Object.fromEntries(bindings)),
    };
    if (xui !== undefined) result.xui = xui;

    if (separator < segments.length) {
      if (separator === segments.length - 1) {
        throw new UriSyntaxError('the node selector after "~~" is empty');
      }
      const nodeText = decodeOrFail("/" + segments.slice(separator + 1).join("/"), "node selector");
      const node = parseNodeSelector(nodeText);
      if (node.isErr()) {
        throw new UriSyntaxError(
          node.error.message.replace(/^Cannot parse node selector /, "invalid node selector "),
        );
      }
      for (const prefix of selectorPrefixes(node.value)) {
        if (prefix !== "xml" && !bindings.has(prefix)) {
          throw new UriSyntaxError(
            `the node selector uses the prefix "${prefix}", which no xmlns() part of the query binds`,
          );
        }
      }
      result.node = node.value;
      result.nodeText = nodeText;
    }
    return ok(Object.freeze(result));
  } catch (e) {
    const reason = e instanceof UriSyntaxError ? e.reason : `internal error: ${String(e)}`;
    return err(invalidArgument("url", `Cannot parse XCAP URI ${show}: ${reason}`));
  }
}
