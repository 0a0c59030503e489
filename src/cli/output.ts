/**
 * What `xcap` prints and how it exits: exit codes, XML pretty-printing and colouring for a
 * terminal, the status lines on stderr, and the `--json` object. Pure: strings in, strings out.
 *
 * @module
 */
import { STATUS_TEXT } from "jsr:@std/http@^1.0.21/status";
import type { ConflictCondition, XcapError } from "../client/errors.ts";
import { describeConflictCondition } from "../client/conflict_report.ts";
import type { Action, UsageError } from "./args.ts";

/**
 * The exit codes of `xcap`, distinct per kind of outcome so scripts can tell them apart.
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success |
 * | 1 | a local file could not be read or written, or an unexpected failure |
 * | 2 | usage error: bad option or argument, missing setting, unreadable account file |
 * | 3 | HTTP error: any other non-2xx answer (401, 403, 404, 405, 415, 5xx...) |
 * | 4 | conflict (409): the server refused the change; the condition is printed in words |
 * | 5 | precondition failed (412), or `insert` found the node present / `replace` found it absent |
 * | 6 | not modified (304): `--if-none-match` matched |
 * | 7 | no usable answer: network error, timeout, or a response that cannot be understood |
 *
 * @example Usage
 * ```ts
 * import { EXIT_CODES } from "@xcap/xcap/cli";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(EXIT_CODES.conflict, 4);
 * ```
 */
export const EXIT_CODES: {
  readonly ok: 0;
  readonly localFailure: 1;
  readonly usage: 2;
  readonly httpError: 3;
  readonly conflict: 4;
  readonly preconditionFailed: 5;
  readonly notModified: 6;
  readonly network: 7;
} = Object.freeze({
  ok: 0,
  localFailure: 1,
  usage: 2,
  httpError: 3,
  conflict: 4,
  preconditionFailed: 5,
  notModified: 6,
  network: 7,
});

/**
 * `insert` found the node already there, or `replace` found nothing to replace: the action's
 * own precondition failed before anything was written.
 */
export interface PreconditionNotMetError {
  /** Discriminant. */
  readonly _tag: "PreconditionNotMet";
  /** What was found, and what the action needed. */
  readonly message: string;
  /** `exists` for `insert`, `missing` for `replace`. */
  readonly reason: "exists" | "missing";
  /** The entity tag of the document, when the check read one. */
  readonly etag?: string;
}

/** A local file could not be read or written. */
export interface LocalFileError {
  /** Discriminant. */
  readonly _tag: "LocalFile";
  /** Which file, and why. */
  readonly message: string;
}

/** Every way a run of `xcap` can fail. */
export type CliError = XcapError | PreconditionNotMetError | LocalFileError | UsageError;

/**
 * The exit code for a failure (see {@linkcode EXIT_CODES}).
 *
 * @param error The failure.
 * @returns The process exit code.
 *
 * @example Usage
 * ```ts
 * import { exitCodeFor } from "./output.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(exitCodeFor({ _tag: "Timeout", message: "slow", timeoutMs: 10 }), 7);
 * assertEquals(exitCodeFor({ _tag: "Usage", message: "no action" }), 2);
 * ```
 */
export function exitCodeFor(error: CliError): number {
  switch (error._tag) {
    case "Usage":
    case "InvalidArgument":
      return EXIT_CODES.usage;
    case "LocalFile":
      return EXIT_CODES.localFailure;
    case "Conflict":
      return EXIT_CODES.conflict;
    case "PreconditionFailed":
    case "PreconditionNotMet":
      return EXIT_CODES.preconditionFailed;
    case "NotModified":
      return EXIT_CODES.notModified;
    case "NetworkError":
    case "Timeout":
    case "Aborted":
    case "MalformedResponse":
      return EXIT_CODES.network;
    case "NotFound":
    case "Unauthorized":
    case "Forbidden":
    case "MethodNotAllowed":
    case "UnsupportedMediaType":
    case "Redirected":
    case "HttpError":
      return EXIT_CODES.httpError;
  }
}

/** ANSI styles used on a terminal. */
const STYLE = {
  reset: "\x1b[0m",
  bold: "\x1b[1m",
  dim: "\x1b[2m",
  red: "\x1b[31m",
  green: "\x1b[32m",
  yellow: "\x1b[33m",
  blue: "\x1b[34m",
  magenta: "\x1b[35m",
  cyan: "\x1b[36m",
  gray: "\x1b[90m",
} as const;

function paint(color: boolean, style: keyof typeof STYLE, text: string): string {
  return color && text !== "" ? `${STYLE[style]}${text}${STYLE.reset}` : text;
}

/**
 * Decide whether to colour a stream: `always` and `never` say so; `auto` colours a terminal
 * unless `NO_COLOR` is set to a non-empty value (https://no-color.org) or `TERM` is `dumb`.
 *
 * @param mode The `--color` setting. @default {"auto"}
 * @param input Whether the stream is a terminal, and the environment.
 * @returns `true` to colour.
 *
 * @example Usage
 * ```ts
 * import { shouldColor } from "./output.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(shouldColor("auto", { isTerminal: true, env: {} }), true);
 * assertEquals(shouldColor("auto", { isTerminal: true, env: { NO_COLOR: "1" } }), false);
 * assertEquals(shouldColor("auto", { isTerminal: false, env: {} }), false);
 * ```
 */
export function shouldColor(
  mode: "auto" | "always" | "never" | undefined,
  input: {
    readonly isTerminal: boolean;
    readonly env: Readonly<Record<string, string | undefined>>;
  },
): boolean {
  if (mode === "always") return true;
  if (mode === "never") return false;
  const noColor = input.env["NO_COLOR"];
  if (noColor !== undefined && noColor !== "") return false;
  if (input.env["TERM"] === "dumb") return false;
  return input.isTerminal;
}

// ---------------------------------------------------------------------------------------------
// Terminal safety

// C0 controls but TAB and LF, DEL, C1 controls, and the bidirectional embedding, override and
// isolate controls (which reorder what is shown). A CR is kept only before an LF (CRLF).
const UNSAFE_ON_TERMINAL =
  // deno-lint-ignore no-control-regex -- these are exactly the characters to find
  /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]|\r(?!\n)/g;

/**
 * Make text from a server safe to show on a terminal: every control character that a terminal
 * would act on (ESC, which starts escape sequences that set the window title, clear the screen
 * or write the clipboard with OSC 52; BEL, backspace, a lone CR, DEL, the C1 controls including
 * the one-character CSI, and the bidirectional overrides) is shown instead as `\xHH` (`\uHHHH`
 * above U+00FF). TAB, LF and CR LF stay as they are. `xcap` applies it to everything a server
 * sent that it prints on a terminal; the body on a pipe or in `-o FILE` keeps its exact bytes.
 *
 * @param text Text received from a server.
 * @returns The text with unsafe characters made visible.
 *
 * @example Usage
 * ```ts
 * import { escapeControlCharacters } from "./output.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(
 *   escapeControlCharacters("<a>\x1b]0;pwned\x07\x1b[2J</a>\r\n"),
 *   "<a>\\x1b]0;pwned\\x07\\x1b[2J</a>\r\n",
 * );
 * ```
 */
export function escapeControlCharacters(text: string): string {
  return text.replace(UNSAFE_ON_TERMINAL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** Characters `JSON.stringify` leaves raw that a terminal may act on. */
const UNSAFE_IN_JSON = /[\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `JSON.stringify(value)` for a terminal: the same JSON value, with DEL, the C1 controls and the
 * bidirectional controls written as `\uXXXX` escapes (`JSON.stringify` already escapes the C0
 * controls), so that nothing in it acts on the terminal.
 *
 * @param value What to serialise.
 * @returns The JSON text.
 *
 * @example Usage
 * ```ts
 * import { jsonForTerminal } from "./output.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const text = jsonForTerminal({ body: "\x1b[2J\u009b2J" });
 * assertEquals(text, '{"body":"\\u001b[2J\\u009b2J"}');
 * assertEquals(JSON.parse(text).body, "\x1b[2J\u009b2J");
 * ```
 */
export function jsonForTerminal(value: unknown): string {
  return (JSON.stringify(value) ?? "null").replace(
    UNSAFE_IN_JSON,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

// ---------------------------------------------------------------------------------------------
// XML pretty-printing

type XmlToken =
  | {
    readonly kind: "open";
    readonly name: string;
    readonly attrs: string;
    readonly selfClosing: boolean;
    readonly start: number;
    readonly end: number;
  }
  | { readonly kind: "close"; readonly name: string; readonly start: number; readonly end: number }
  | { readonly kind: "text"; readonly text: string; readonly start: number; readonly end: number }
  | {
    readonly kind: "other";
    readonly text: string;
    readonly style: "comment" | "pi" | "cdata" | "doctype";
    readonly start: number;
    readonly end: number;
  };

function tokenize(xml: string): XmlToken[] | undefined {
  const tokens: XmlToken[] = [];
  let i = 0;
  const n = xml.length;
  while (i < n) {
    if (xml[i] !== "<") {
      const next = xml.indexOf("<", i);
      const end = next === -1 ? n : next;
      tokens.push({ kind: "text", text: xml.slice(i, end), start: i, end });
      i = end;
      continue;
    }
    const special = (open: string, close: string, style: "comment" | "pi" | "cdata") => {
      const end = xml.indexOf(close, i + open.length);
      if (end === -1) return false;
      tokens.push({
        kind: "other",
        text: xml.slice(i, end + close.length),
        style,
        start: i,
        end: end + close.length,
      });
      i = end + close.length;
      return true;
    };
    if (xml.startsWith("<!--", i)) {
      if (!special("<!--", "-->", "comment")) return undefined;
    } else if (xml.startsWith("<![CDATA[", i)) {
      if (!special("<![CDATA[", "]]>", "cdata")) return undefined;
    } else if (xml.startsWith("<?", i)) {
      if (!special("<?", "?>", "pi")) return undefined;
    } else if (xml.startsWith("<!", i)) {
      let depth = 0;
      let j = i + 2;
      for (; j < n; j++) {
        if (xml[j] === "[") depth++;
        else if (xml[j] === "]") depth--;
        else if (xml[j] === ">" && depth <= 0) break;
      }
      if (j >= n) return undefined;
      tokens.push({
        kind: "other",
        text: xml.slice(i, j + 1),
        style: "doctype",
        start: i,
        end: j + 1,
      });
      i = j + 1;
    } else if (xml[i + 1] === "/") {
      const end = xml.indexOf(">", i);
      if (end === -1) return undefined;
      const name = xml.slice(i + 2, end).trim();
      if (!/^[^\s<>"'=/]+$/.test(name)) return undefined;
      tokens.push({ kind: "close", name, start: i, end: end + 1 });
      i = end + 1;
    } else {
      // A start tag: find the closing '>' outside quoted attribute values.
      let j = i + 1;
      let quote: string | undefined;
      for (; j < n; j++) {
        const c = xml[j];
        if (quote !== undefined) {
          if (c === quote) quote = undefined;
        } else if (c === '"' || c === "'") {
          quote = c;
        } else if (c === "<") {
          return undefined;
        } else if (c === ">") {
          break;
        }
      }
      if (j >= n) return undefined;
      const inner = xml.slice(i + 1, j);
      const selfClosing = inner.endsWith("/");
      const body = selfClosing ? inner.slice(0, -1) : inner;
      const match = /^([^\s<>"'=/]+)([\s\S]*)$/.exec(body);
      if (!match) return undefined;
      tokens.push({
        kind: "open",
        name: match[1]!,
        attrs: match[2]!,
        selfClosing,
        start: i,
        end: j + 1,
      });
      i = j + 1;
    }
  }
  return tokens;
}

interface XmlElement {
  readonly open: Extract<XmlToken, { kind: "open" }>;
  readonly children: XmlNode[];
  end: number;
}
type XmlNode = XmlElement | Exclude<XmlToken, { kind: "open" | "close" }>;

function isElement(node: XmlNode): node is XmlElement {
  return "open" in node;
}

function buildTree(tokens: readonly XmlToken[]): XmlNode[] | undefined {
  const root: XmlNode[] = [];
  const stack: XmlElement[] = [];
  for (const token of tokens) {
    const siblings = stack.length === 0 ? root : stack[stack.length - 1]!.children;
    if (token.kind === "open") {
      const element: XmlElement = { open: token, children: [], end: token.end };
      siblings.push(element);
      if (!token.selfClosing) stack.push(element);
    } else if (token.kind === "close") {
      const element = stack.pop();
      if (element === undefined || element.open.name !== token.name) return undefined;
      element.end = token.end;
    } else {
      siblings.push(token);
    }
  }
  if (stack.length > 0) return undefined;
  const elements = root.filter(isElement);
  if (elements.length === 0) return undefined;
  // Text outside elements other than whitespace: not a document or fragment to reformat.
  if (root.some((n) => !isElement(n) && n.kind === "text" && n.text.trim() !== "")) {
    return undefined;
  }
  return root;
}

/** The attributes of a start tag, one space apart; values exactly as written. */
function renderAttributes(attrs: string, color: boolean): string {
  const pattern = /(\s*)([^\s=]+)(\s*=\s*)("[^"]*"|'[^']*')|(\s+)|([^\s]+)/g;
  let out = "";
  for (const m of attrs.matchAll(pattern)) {
    if (m[2] !== undefined) {
      out += (m[1] ? " " : "") + paint(color, "yellow", m[2]) + "=" + paint(color, "green", m[4]!);
    } else if (m[5] !== undefined) {
      // collapse whitespace between attributes
    } else {
      out += m[6];
    }
  }
  return out;
}

function renderTag(token: Extract<XmlToken, { kind: "open" }>, color: boolean): string {
  const attrs = renderAttributes(token.attrs, color);
  const end = token.selfClosing ? "/>" : ">";
  return paint(color, "cyan", `<${token.name}`) + attrs + paint(color, "cyan", end);
}

function renderNode(
  node: XmlNode,
  xml: string,
  depth: number,
  color: boolean,
  out: string[],
): void {
  const indent = "  ".repeat(depth);
  if (!isElement(node)) {
    if (node.kind === "text") {
      const text = node.text.trim();
      if (text !== "") out.push(indent + text);
      return;
    }
    out.push(indent + paint(color, node.style === "cdata" ? "magenta" : "gray", node.text));
    return;
  }
  const { open, children } = node;
  if (open.selfClosing) {
    out.push(indent + renderTag(open, color));
    return;
  }
  const closeTag = paint(color, "cyan", `</${open.name}>`);
  const elementChildren = children.filter(isElement);
  const meaningfulText = children.some((c) =>
    !isElement(c) && c.kind === "text" && c.text.trim() !== ""
  );
  if (elementChildren.length === 0) {
    // Text, CDATA and comments only: one line, content as written.
    const content = xml.slice(open.end, node.end - `</${open.name}>`.length);
    const empty = content.trim() === "" &&
      children.every((c) => !isElement(c) && c.kind === "text");
    out.push(indent + renderTag(open, color) + (empty ? "" : content) + closeTag);
    return;
  }
  if (meaningfulText) {
    // Mixed content: whitespace is significant, print the element exactly as written.
    out.push(indent + xml.slice(open.start, node.end));
    return;
  }
  out.push(indent + renderTag(open, color));
  for (const child of children) renderNode(child, xml, depth + 1, color, out);
  out.push(indent + closeTag);
}

/**
 * Indent an XML document or fragment for reading on a terminal, two spaces per level, and
 * colour it when asked. Whitespace-only text between elements is replaced by the indentation;
 * an element with text content stays on one line as written; mixed content (text beside
 * elements) is printed as written. Anything that is not well-formed enough to reformat safely
 * (an attribute value, plain text, mismatched tags) comes back unchanged. Used only when stdout
 * is a terminal: otherwise `xcap` writes the exact bytes received.
 *
 * @param xml The body.
 * @param options `color`: add ANSI colours. @default {false}
 * @returns The text to show, ending with a newline.
 *
 * @example Usage
 * ```ts
 * import { prettyPrintXml } from "./output.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(
 *   prettyPrintXml('<?xml version="1.0"?><list name="f"><entry uri="sip:b@x"><display-name>Bob</display-name></entry></list>'),
 *   '<?xml version="1.0"?>\n<list name="f">\n  <entry uri="sip:b@x">\n    <display-name>Bob</display-name>\n  </entry>\n</list>\n',
 * );
 * assertEquals(prettyPrintXml("sip:bob@example.com"), "sip:bob@example.com\n");
 * ```
 */
export function prettyPrintXml(xml: string, options: { readonly color?: boolean } = {}): string {
  const color = options.color ?? false;
  const withNewline = (text: string) => text.endsWith("\n") ? text : `${text}\n`;
  const tokens = tokenize(xml);
  const tree = tokens === undefined ? undefined : buildTree(tokens);
  if (tree === undefined) return withNewline(xml);
  const out: string[] = [];
  for (const node of tree) renderNode(node, xml, 0, color, out);
  return `${out.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// Status lines and errors

/**
 * `200 OK`-style text for a status code.
 *
 * @param status The HTTP status code.
 * @returns The code and its reason phrase.
 *
 * @example Usage
 * ```ts
 * import { statusText } from "./output.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(statusText(412), "412 Precondition Failed");
 * ```
 */
export function statusText(status: number): string {
  const reason = STATUS_TEXT[status];
  return reason === undefined ? String(status) : `${status} ${reason}`;
}

/** What a successful run reports on stderr. */
export interface SuccessReport {
  /** The HTTP status code. */
  readonly status: number;
  /** The ETag, when the server sent one. */
  readonly etag?: string;
  /** The media type of the body. */
  readonly contentType?: string;
  /** The file the body was saved to, and its size in bytes. */
  readonly saved?: { readonly path: string; readonly bytes: number };
}

/**
 * The lines `xcap` writes to stderr after a successful request: status, `etag:`,
 * `content-type:`, and where the body went (python-xcaplib's `xcapclient` layout).
 *
 * @param report What happened.
 * @param options `color`: colour the status. @default {false}
 * @returns The text, one item per line, ending with a newline.
 *
 * @example Usage
 * ```ts
 * import { formatSuccess } from "./output.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(
 *   formatSuccess({ status: 200, etag: '"e1"', contentType: "application/resource-lists+xml" }),
 *   '200 OK\netag: "e1"\ncontent-type: application/resource-lists+xml\n',
 * );
 * ```
 */
export function formatSuccess(
  report: SuccessReport,
  options: { readonly color?: boolean } = {},
): string {
  const color = options.color ?? false;
  const lines = [paint(color, "green", statusText(report.status))];
  if (report.etag !== undefined) {
    lines.push(`${paint(color, "dim", "etag:")} ${escapeControlCharacters(report.etag)}`);
  }
  if (report.contentType !== undefined) {
    lines.push(
      `${paint(color, "dim", "content-type:")} ${escapeControlCharacters(report.contentType)}`,
    );
  }
  if (report.saved !== undefined) {
    lines.push(
      `${report.saved.bytes} bytes saved to ${escapeControlCharacters(report.saved.path)}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/**
 * The lines `xcap` writes to stderr for a failure: `xcap: ` and the error's message, then
 * details that help: the xcap-error condition of a 409 in words (RFC 4825 §11) with the
 * server's phrase, the current ETag of a 412, a hint for 401s and timeouts. Control characters
 * in what the server sent are shown visibly ({@linkcode escapeControlCharacters}).
 *
 * @param error The failure.
 * @param options `color`: colour the first line; `hint`: extra advice to add (e.g. how to give a
 * password). @default {{ color: false }}
 * @returns The text, ending with a newline.
 *
 * @example Usage
 * ```ts
 * import { formatFailure } from "./output.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const text = formatFailure({
 *   _tag: "Conflict",
 *   message: "HTTP 409 Conflict from http://127.0.0.1/x: the parent of the new node does not exist",
 *   status: 409,
 *   body: "",
 *   headers: new Headers(),
 *   condition: { tag: "no-parent" },
 * });
 * assertStringIncludes(text, "condition: <no-parent>");
 * ```
 */
export function formatFailure(
  error: CliError,
  options: { readonly color?: boolean; readonly hint?: string } = {},
): string {
  const color = options.color ?? false;
  // Messages quote what servers sent (Location, phrases, bodies): never let it act on a terminal.
  const safe = escapeControlCharacters;
  const lines = [`${paint(color, "red", "xcap:")} ${safe(error.message)}`];
  if (error._tag === "Conflict") {
    if (error.condition !== undefined) {
      // The message says it in words already (describeConflictCondition): name the element.
      lines.push(`condition: <${error.condition.tag}>`);
    } else if (error.body.trim() !== "") {
      lines.push(`response body: ${safe(error.body.trim().slice(0, 500))}`);
    }
  }
  if ((error._tag === "PreconditionFailed" || error._tag === "NotModified") && error.etag) {
    lines.push(`etag: ${safe(error.etag)}`);
  }
  if (options.hint !== undefined) lines.push(safe(options.hint));
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// JSON

/** What `--json` prints for a successful run. */
export interface JsonSuccess {
  /** Always `true`. */
  readonly ok: true;
  /** The action performed. */
  readonly action: Action;
  /** The URL of the final request. */
  readonly url: string;
  /** The HTTP status code. */
  readonly status: number;
  /** The ETag, when sent. */
  readonly etag?: string;
  /** The media type of the body. */
  readonly contentType?: string;
  /** The body, unless it went to `-o FILE`. */
  readonly body?: string;
  /** Where the body went with `-o FILE`. */
  readonly output?: string;
  /** The application usages, extensions and namespaces an xcap-caps document lists (`caps`). */
  readonly capabilities?: XcapCapabilities;
}

/** What `--json` prints for a failed run. */
export interface JsonFailure {
  /** Always `false`. */
  readonly ok: false;
  /** The action attempted, when one was recognised. */
  readonly action?: Action;
  /** The process exit code. */
  readonly exitCode: number;
  /** The failure. */
  readonly error: {
    /** The error's `_tag`: `Conflict`, `NotFound`, `Usage`... */
    readonly tag: string;
    /** The message. */
    readonly message: string;
    /** The HTTP status, when a response arrived. */
    readonly status?: number;
    /** The xcap-error condition of a 409. */
    readonly condition?: ConflictCondition;
    /** The condition in words. */
    readonly conditionText?: string;
    /** The current ETag reported with a 412 or 304. */
    readonly etag?: string;
    /** Where a redirect (`Redirected`) points. */
    readonly location?: string;
    /** The response body of an HTTP error. */
    readonly body?: string;
  };
}

/**
 * The `--json` object for a failure.
 *
 * @param error The failure.
 * @param action The action attempted, if known.
 * @returns The object to serialise.
 *
 * @example Usage
 * ```ts
 * import { failureToJson } from "./output.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(failureToJson({ _tag: "Usage", message: "No action given" }), {
 *   ok: false,
 *   exitCode: 2,
 *   error: { tag: "Usage", message: "No action given" },
 * });
 * ```
 */
export function failureToJson(error: CliError, action?: Action): JsonFailure {
  const detail: Record<string, unknown> = { tag: error._tag, message: error.message };
  if ("status" in error && typeof error.status === "number") detail.status = error.status;
  if (error._tag === "Conflict" && error.condition !== undefined) {
    detail.condition = error.condition;
    detail.conditionText = describeConflictCondition(error.condition);
  }
  if ("etag" in error && error.etag !== undefined) detail.etag = error.etag;
  if (error._tag === "Redirected") detail.location = error.location;
  if ("body" in error && typeof error.body === "string" && error.body !== "") {
    detail.body = error.body;
  }
  return {
    ok: false,
    ...(action === undefined ? {} : { action }),
    exitCode: exitCodeFor(error),
    error: detail as JsonFailure["error"],
  };
}

/** The capabilities listed by an `application/xcap-caps+xml` document (RFC 4825 §12). */
export interface XcapCapabilities {
  /** `<auids><auid>` values. */
  readonly auids: readonly string[];
  /** `<extensions><extension>` values. */
  readonly extensions: readonly string[];
  /** `<namespaces><namespace>` values. */
  readonly namespaces: readonly string[];
}

/**
 * List the AUIDs, extensions and namespaces of an xcap-caps document (RFC 4825 §12.2), for
 * `xcap caps --json`. A lenient reader: elements are matched by local name, any prefix.
 *
 * @param xml The xcap-caps document.
 * @returns The lists (empty when the document has none).
 *
 * @example Usage
 * ```ts
 * import { readCapabilities } from "./output.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const caps = readCapabilities(
 *   '<xcap-caps xmlns="urn:ietf:params:xml:ns:xcap-caps"><auids><auid>resource-lists</auid>' +
 *     '</auids><namespaces><namespace>urn:ietf:params:xml:ns:resource-lists</namespace>' +
 *     "</namespaces></xcap-caps>",
 * );
 * assertEquals(caps, {
 *   auids: ["resource-lists"],
 *   extensions: [],
 *   namespaces: ["urn:ietf:params:xml:ns:resource-lists"],
 * });
 * ```
 */
export function readCapabilities(xml: string): XcapCapabilities {
  const values = (name: string) =>
    [...xml.matchAll(
      new RegExp(`<(?:[\\w.-]+:)?${name}(?:\\s[^>]*)?>([^<]*)</(?:[\\w.-]+:)?${name}>`, "g"),
    )]
      .map((m) => m[1]!.trim())
      .filter((v) => v !== "");
  return {
    auids: values("auid"),
    extensions: values("extension"),
    namespaces: values("namespace"),
  };
}
