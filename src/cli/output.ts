/**
 * What `xcap` prints and how it exits: exit codes, XML pretty-printing and colouring for a
 * terminal, the status lines on stderr, and the `--json` object. Pure: strings in, strings out.
 *
 * @module
 */
import { STATUS_TEXT } from "jsr:@std/http@^1.0.21/status";
import type { ConflictCondition, XcapError } from "../client/errors.ts";
import { describeConflictCondition } from "../client/conflict_report.ts";
import {
  parseXmlDocument,
  parseXmlElement,
  type XmlElement,
  type XmlNode,
} from "../xml/document.ts";
import type { XcapCapabilities } from "../usages/caps.ts";
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
 * // A script that ran `xcap` tells a refused change (409) from a lost race (412).
 * const outcome = (code: number) => Object.entries(EXIT_CODES).find(([, c]) => c === code)?.[0];
 * assertEquals(outcome(4), "conflict");
 * assertEquals(outcome(5), "preconditionFailed");
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
    case "Internal":
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

// The engine (src/xml) parses; this part only lays the tree out again. Every piece printed is
// a slice of the text as received (offsets from the engine), so references, quotes and
// whitespace inside values stay exactly as the server wrote them.

/** The attributes and namespace declarations of a start tag, in written order, one space apart. */
function renderAttributes(element: XmlElement, xml: string, color: boolean): string {
  const spans: { start: number; name: string; value: string }[] = [];
  for (const a of element.attributes) {
    spans.push({
      start: a.start,
      name: a.name,
      value: xml.slice(a.valueStart - 1, a.valueEnd + 1),
    });
  }
  for (const d of element.namespaceDeclarations) {
    const written = xml.slice(d.start, d.end);
    spans.push({
      start: d.start,
      name: d.prefix === "" ? "xmlns" : `xmlns:${d.prefix}`,
      value: written.slice(written.indexOf("=") + 1).trim(),
    });
  }
  spans.sort((a, b) => a.start - b.start);
  return spans.map((a) => ` ${paint(color, "yellow", a.name)}=${paint(color, "green", a.value)}`)
    .join("");
}

function renderTag(element: XmlElement, xml: string, color: boolean): string {
  const end = element.selfClosing ? "/>" : ">";
  return paint(color, "cyan", `<${element.name}`) + renderAttributes(element, xml, color) +
    paint(color, "cyan", end);
}

function isBlank(node: XmlNode, xml: string): boolean {
  return node.kind === "text" && xml.slice(node.start, node.end).trim() === "";
}

function renderNode(node: XmlNode, xml: string, depth: number, color: boolean, out: string[]) {
  const indent = "  ".repeat(depth);
  if (node.kind !== "element") {
    const written = xml.slice(node.start, node.end);
    if (node.kind === "text") {
      if (written.trim() !== "") out.push(indent + written.trim());
      return;
    }
    out.push(indent + paint(color, node.kind === "cdata" ? "magenta" : "gray", written));
    return;
  }
  if (node.selfClosing) {
    out.push(indent + renderTag(node, xml, color));
    return;
  }
  const closeTag = paint(color, "cyan", `</${node.name}>`);
  const children = node.children;
  if (!children.some((c) => c.kind === "element")) {
    // Text, CDATA and comments only: one line, content as written.
    const empty = children.every((c) => isBlank(c, xml));
    const content = empty ? "" : xml.slice(node.contentStart, node.contentEnd);
    out.push(indent + renderTag(node, xml, color) + content + closeTag);
    return;
  }
  if (children.some((c) => c.kind === "text" && !isBlank(c, xml))) {
    // Mixed content: whitespace is significant, print the element exactly as written.
    out.push(indent + xml.slice(node.start, node.end));
    return;
  }
  out.push(indent + renderTag(node, xml, color));
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
  // A whole document, or else one element (what a GET of an element returns: its prefixes may
  // be declared only in the document it came from).
  const parsed = parseXmlDocument(xml).orElse(() =>
    parseXmlElement(xml, { allowUndeclaredPrefixes: true })
  );
  if (parsed.isErr()) return withNewline(xml);
  const doc = parsed.value;
  const out: string[] = [];
  if (doc.declaration !== undefined) {
    out.push(paint(color, "gray", xml.slice(doc.declaration.start, doc.declaration.end)));
  }
  for (const node of [...doc.prolog, doc.root, ...doc.epilog]) renderNode(node, xml, 0, color, out);
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
  /**
   * The application usages, extensions and namespaces an xcap-caps document lists (`caps`),
   * as `parseXcapCaps()` of `@xcap/xcap/usages` reads them; absent when the body is no xcap-caps document.
   */
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
