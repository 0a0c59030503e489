/**
 * Node selectors (RFC 4825 §6.3) as typed data: parse, format and build.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { invalidArgument, type InvalidArgumentError } from "./errors.ts";
import {
  escapeAttributeValue,
  isNameCode,
  isNameStartCode,
  isNCName,
  isXmlCharCode,
} from "../xml/_names.ts";

/**
 * Namespace bindings: prefix to namespace URI, `""` for the default namespace. Prefixed
 * node-selector steps resolve through them (RFC 4825 §6.4), and so do the prefixes of XML patch
 * operations and xcap-diff entries.
 */
export type NamespaceBindings = Readonly<Record<string, string>>;

/** A possibly prefixed XML name, as in a `QName`. */
export interface QualifiedName {
  /** The namespace prefix, absent for an unprefixed name. */
  readonly prefix?: string;
  /** The local name. */
  readonly local: string;
}

/** An attribute predicate `[@name="value"]` of a step. */
export interface AttributePredicate {
  /** The attribute's name. Unprefixed attribute names are in no namespace. */
  readonly name: QualifiedName;
  /** The attribute value to compare with (entity references already resolved). */
  readonly value: string;
}

/**
 * One location step of an element selector: `name`, `name[3]`, `name[@a="v"]`,
 * `name[3][@a="v"]`; `*` (any element) when `name` is `undefined`.
 */
export interface SelectorStep {
  /** The element name to match; `undefined` for `*`. */
  readonly name?: QualifiedName;
  /** 1-based position among the siblings that match the name test. */
  readonly position?: number;
  /** An attribute predicate. */
  readonly attribute?: AttributePredicate;
}

/** What a selector ends with after its element steps. */
export type TerminalSelector =
  | { readonly kind: "attribute"; readonly name: QualifiedName }
  | { readonly kind: "namespace" };

/** A parsed node selector: element steps from the root, optionally a terminal selector. */
export interface NodeSelector {
  /** The element steps, the first one selecting the document element. At least one. */
  readonly steps: readonly SelectorStep[];
  /** `@attr` or `namespace::*` at the end, if present. */
  readonly terminal?: TerminalSelector;
}

/** Options of {@linkcode selectorStep}. */
export interface SelectorStepOptions {
  /** 1-based position among the siblings that match the name test (`name[3]`). */
  readonly position?: number;
  /**
   * Attribute predicate (`name[@attr="value"]`): a `[qualifiedName, value]` pair such as
   * `["name", "friends"]` or `["x:id", "1"]`, or a ready {@linkcode AttributePredicate}.
   */
  readonly attribute?: readonly [string, string] | AttributePredicate;
}

/** `String(value)` for a message, even for values whose conversion throws (null prototype). */
function printable(value: unknown): string {
  try {
    return String(value);
  } catch {
    return `(a ${typeof value} without a string form)`;
  }
}

function hex(cp: number): string {
  return cp.toString(16).toUpperCase().padStart(4, "0");
}

/** Why `name` is not a valid {@linkcode QualifiedName}, or `undefined` when it is. */
function qualifiedNameProblem(name: unknown): string | undefined {
  if (typeof name !== "object" || name === null) return "is not a qualified name";
  const { prefix, local } = name as { prefix?: unknown; local?: unknown };
  if (typeof local !== "string" || !isNCName(local)) {
    return `has an invalid local name ${JSON.stringify(local)}`;
  }
  if (prefix !== undefined && (typeof prefix !== "string" || !isNCName(prefix))) {
    return `has an invalid prefix ${JSON.stringify(prefix)}`;
  }
  return undefined;
}

function qualifiedNameText(name: QualifiedName): string {
  return name.prefix === undefined ? name.local : `${name.prefix}:${name.local}`;
}

function freezeName(name: QualifiedName): QualifiedName {
  return Object.freeze(
    name.prefix === undefined ? { local: name.local } : { prefix: name.prefix, local: name.local },
  );
}

/** The first code point of `text` that is not an XML `Char` (lone surrogates included). */
function firstNonXmlChar(text: string): { offset: number; cp: number } | undefined {
  for (let i = 0; i < text.length;) {
    const cp = text.codePointAt(i)!;
    if (!isXmlCharCode(cp)) return { offset: i, cp };
    i += cp > 0xffff ? 2 : 1;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/** The predefined XML entities (XML 1.0 §4.6); a node selector cannot declare others. */
const ENTITIES: ReadonlyMap<string, string> = new Map([
  ["amp", "&"],
  ["lt", "<"],
  ["gt", ">"],
  ["quot", '"'],
  ["apos", "'"],
]);

/** Raised inside the parser only; {@linkcode parseNodeSelector} turns it into an error value. */
class SelectorSyntaxError {
  constructor(readonly reason: string) {}
}

/** Recursive descent over the unescaped selector; offsets are JavaScript string indices. */
class SelectorParser {
  #pos = 0;
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  #fail(reason: string): never {
    throw new SelectorSyntaxError(reason);
  }

  /** The code point at the cursor, as a string; "" at the end. */
  #peek(): string {
    const cp = this.#text.codePointAt(this.#pos);
    return cp === undefined ? "" : String.fromCodePoint(cp);
  }

  #unexpected(): never {
    const ch = this.#peek();
    if (ch === "") this.#fail(`unexpected end at offset ${this.#pos}`);
    if (ch === "]") this.#fail(`unbalanced bracket at offset ${this.#pos}`);
    // XPath syntax beyond RFC 4825's subset, or an extension selector (§6.3 ABNF).
    const hint = "():".includes(ch)
      ? "; extension selectors, XPath axes and functions are not supported"
      : "";
    this.#fail(`unexpected character ${JSON.stringify(ch)} at offset ${this.#pos}${hint}`);
  }

  parse(): NodeSelector {
    const text = this.#text;
    if (text.length === 0) this.#fail("it is empty");
    if (text[0] !== "/") this.#fail('it must start with "/" (offset 0)');
    const steps: SelectorStep[] = [];
    let terminal: TerminalSelector | undefined;
    while (this.#pos < text.length) {
      const slash = this.#pos;
      if (terminal !== undefined) {
        this.#fail(`the terminal selector must be the last step (offset ${slash})`);
      }
      this.#pos++;
      const ch = this.#peek();
      if (ch === "/" || ch === "") this.#fail(`empty step at offset ${this.#pos}`);
      if (ch === "@") {
        if (steps.length === 0) {
          this.#fail(`an element step must come before "@" (offset ${this.#pos})`);
        }
        this.#pos++;
        terminal = Object.freeze({ kind: "attribute", name: this.#qname("attribute name") });
      } else if (text.startsWith("namespace::*", this.#pos)) {
        if (steps.length === 0) {
          this.#fail(`an element step must come before "namespace::*" (offset ${this.#pos})`);
        }
        this.#pos += "namespace::*".length;
        terminal = Object.freeze({ kind: "namespace" });
      } else {
        steps.push(this.#step());
      }
      if (this.#peek() !== "/" && this.#peek() !== "") this.#unexpected();
    }
    const frozenSteps = Object.freeze(steps);
    return Object.freeze(
      terminal === undefined ? { steps: frozenSteps } : { steps: frozenSteps, terminal },
    );
  }

  #step(): SelectorStep {
    let name: QualifiedName | undefined;
    if (this.#peek() === "*") {
      this.#pos++;
    } else {
      name = this.#qname("element name");
    }
    let position: number | undefined;
    let attribute: AttributePredicate | undefined;
    while (this.#peek() === "[") {
      const open = this.#pos;
      this.#pos++;
      const ch = this.#peek();
      if (/^[0-9]$/.test(ch)) {
        if (attribute !== undefined) {
          this.#fail(
            `the position predicate must come before the attribute predicate (offset ${open})`,
          );
        }
        if (position !== undefined) {
          this.#fail(`a step has at most one position predicate (offset ${open})`);
        }
        position = this.#position();
      } else if (ch === "@") {
        if (attribute !== undefined) {
          this.#fail(`a step has at most one attribute predicate (offset ${open})`);
        }
        this.#pos++;
        const attName = this.#qname("attribute name");
        if (this.#peek() !== "=") {
          if (this.#peek() === "]") {
            this.#fail(`attribute predicate without "=" and a value at offset ${this.#pos}`);
          }
          if (this.#peek() === "") this.#fail(`unbalanced bracket at offset ${this.#pos}`);
          this.#unexpected();
        }
        this.#pos++;
        attribute = Object.freeze({ name: attName, value: this.#attValue() });
      } else if (ch === "") {
        this.#fail(`unbalanced bracket at offset ${this.#pos}`);
      } else if (ch === "]") {
        this.#fail(`empty predicate at offset ${open}`);
      } else {
        this.#unexpected();
      }
      if (this.#peek() === "") this.#fail(`unbalanced bracket at offset ${this.#pos}`);
      if (this.#peek() !== "]") this.#unexpected();
      this.#pos++;
    }
    const result: { name?: QualifiedName; position?: number; attribute?: AttributePredicate } = {};
    if (name !== undefined) result.name = name;
    if (position !== undefined) result.position = position;
    if (attribute !== undefined) result.attribute = attribute;
    return Object.freeze(result);
  }

  #position(): number {
    const start = this.#pos;
    while (/^[0-9]$/.test(this.#text[this.#pos] ?? "")) this.#pos++;
    const digits = this.#text.slice(start, this.#pos);
    const value = Number(digits);
    if (value < 1) this.#fail(`position "${digits}" at offset ${start} must be 1 or more`);
    if (!Number.isSafeInteger(value)) {
      this.#fail(`position "${digits}" at offset ${start} is too large`);
    }
    return value;
  }

  #qname(what: string): QualifiedName {
    const first = this.#ncname(what);
    if (this.#peek() !== ":") return Object.freeze({ local: first });
    if (this.#text[this.#pos + 1] === ":") this.#unexpected(); // an XPath axis, e.g. "child::"
    this.#pos++;
    const local = this.#ncname(what);
    return Object.freeze({ prefix: first, local });
  }

  #ncname(what: string): string {
    const start = this.#pos;
    const first = this.#peek();
    if (first === "" || "[]/=".includes(first)) this.#fail(`missing ${what} at offset ${start}`);
    if (!isNameStartCode(first.codePointAt(0)!)) {
      if (first === "*") {
        this.#fail(`"*" at offset ${start} is only allowed as a whole element name`);
      }
      this.#fail(
        `invalid ${what} at offset ${start}: ${JSON.stringify(first)} cannot start an XML name`,
      );
    }
    this.#pos += first.length;
    for (let ch = this.#peek(); ch !== "" && isNameCode(ch.codePointAt(0)!); ch = this.#peek()) {
      this.#pos += ch.length;
    }
    return this.#text.slice(start, this.#pos);
  }

  /** `AttValue` (XML 1.0 §2.3) with character and predefined entity references resolved. */
  #attValue(): string {
    const quote = this.#peek();
    if (quote !== '"' && quote !== "'") {
      if (quote === "") this.#fail(`missing attribute value at offset ${this.#pos}`);
      this.#fail(`the attribute value at offset ${this.#pos} must be quoted with " or '`);
    }
    const open = this.#pos;
    this.#pos++;
    let value = "";
    for (;;) {
      const at = this.#pos;
      const cp = this.#text.codePointAt(at);
      if (cp === undefined) {
        this.#fail(`unterminated attribute value: the ${quote} at offset ${open} is never closed`);
      }
      const ch = String.fromCodePoint(cp);
      this.#pos += ch.length;
      if (ch === quote) return value;
      if (ch === "<") {
        this.#fail(`"<" at offset ${at} must be written as &lt; in an attribute value`);
      }
      if (ch === "&") {
        value += this.#reference(at);
      } else if (!isXmlCharCode(cp)) {
        this.#fail(`character U+${hex(cp)} at offset ${at} is not allowed in XML`);
      } else {
        value += ch;
      }
    }
  }

  #reference(amp: number): string {
    const semi = this.#text.indexOf(";", this.#pos);
    const body = semi < 0 ? "" : this.#text.slice(this.#pos, semi);
    if (!/^(#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z_][A-Za-z0-9._-]*)$/.test(body)) {
      this.#fail(`"&" at offset ${amp} does not start a reference (write "&" as &amp;)`);
    }
    this.#pos = semi + 1;
    if (body.startsWith("#")) {
      const digits = body[1] === "x" ? body.slice(2) : body.slice(1);
      const cp = parseInt(digits, body[1] === "x" ? 16 : 10);
      if (!(cp <= 0x10ffff) || !isXmlCharCode(cp)) {
        this.#fail(`character reference "&${body};" at offset ${amp} is not an XML character`);
      }
      return String.fromCodePoint(cp);
    }
    const resolved = ENTITIES.get(body);
    if (resolved === undefined) {
      this.#fail(`unknown entity reference "&${body};" at offset ${amp}`);
    }
    return resolved;
  }
}

/**
 * Parse an unescaped node selector (RFC 4825 §6.3) into typed steps.
 *
 * The text is the selector as it reads after percent-decoding, starting with the `/` that
 * follows `~~` in an XCAP URI: `/resource-lists/list[@name="friends"]/entry[2]/@uri`. Each step
 * is a name (optionally prefixed) or `*`, with an optional position `[n]` (n ≥ 1), an optional
 * attribute predicate `[@attr="value"]`, or both in that order; the selector may end with
 * `@attr` or `namespace::*`. Attribute values take either quote, may contain `/`, `[` and `]`,
 * and may use `&quot;` `&apos;` `&amp;` `&lt;` `&gt;` `&#NN;` `&#xHH;`, which are resolved. No
 * whitespace is allowed outside values. Extension selectors are not supported and are rejected.
 *
 * @param text The unescaped node selector.
 * @returns The frozen selector, or an `InvalidArgument` error (argument `nodeSelector`) whose
 * message says what is wrong and at which offset (a JavaScript string index).
 *
 * @example Parse a selector
 * ```ts
 * import { parseNodeSelector } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const parsed = parseNodeSelector('/resource-lists/list[@name="friends"]/entry[2]/@uri');
 * assertEquals(parsed.isOk() && parsed.value, {
 *   steps: [
 *     { name: { local: "resource-lists" } },
 *     { name: { local: "list" }, attribute: { name: { local: "name" }, value: "friends" } },
 *     { name: { local: "entry" }, position: 2 },
 *   ],
 *   terminal: { kind: "attribute", name: { local: "uri" } },
 * });
 * ```
 *
 * @example Errors say what and where
 * ```ts
 * import { parseNodeSelector } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const parsed = parseNodeSelector("/a/b[");
 * assertEquals(
 *   parsed.isErr() && parsed.error.message,
 *   'Cannot parse node selector "/a/b[": unbalanced bracket at offset 5',
 * );
 * ```
 */
export function parseNodeSelector(text: string): Result<NodeSelector, InvalidArgumentError> {
  if (typeof text !== "string") {
    return err(invalidArgument("nodeSelector", "Cannot parse node selector: it is not a string"));
  }
  try {
    return ok(new SelectorParser(text).parse());
  } catch (e) {
    const reason = e instanceof SelectorSyntaxError ? e.reason : `internal error: ${String(e)}`;
    return err(invalidArgument(
      "nodeSelector",
      `Cannot parse node selector ${JSON.stringify(text)}: ${reason}`,
    ));
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting and validation of the model
// ---------------------------------------------------------------------------------------------

/** Why an attribute value cannot be written in a selector, or `undefined`. */
function valueProblem(value: unknown): string | undefined {
  if (typeof value !== "string") return "is not a string";
  const bad = firstNonXmlChar(value);
  return bad === undefined
    ? undefined
    : `contains U+${hex(bad.cp)} at offset ${bad.offset}, which is not an XML character`;
}

/** Why a step is invalid, or `undefined`. `where` names it in messages. */
function stepProblem(step: unknown, where: string): string | undefined {
  if (typeof step !== "object" || step === null) return `${where} is not a step`;
  const { name, position, attribute } = step as SelectorStep;
  if (name !== undefined) {
    const problem = qualifiedNameProblem(name);
    if (problem !== undefined) return `${where} ${problem}`;
  }
  if (position !== undefined && (!Number.isSafeInteger(position) || position < 1)) {
    return `${where} has position ${printable(position)}; positions are integers from 1`;
  }
  if (attribute !== undefined) {
    if (typeof attribute !== "object" || attribute === null) {
      return `${where} has an attribute predicate that is not an object`;
    }
    const nameProblem = qualifiedNameProblem(attribute.name);
    if (nameProblem !== undefined) return `${where}'s attribute predicate ${nameProblem}`;
    const problem = valueProblem(attribute.value);
    if (problem !== undefined) return `${where}'s attribute value ${problem}`;
  }
  return undefined;
}

/** Why a selector model is invalid, or `undefined`. */
function selectorProblem(selector: NodeSelector): string | undefined {
  if (typeof selector !== "object" || selector === null || !Array.isArray(selector.steps)) {
    return "it is not a node selector";
  }
  if (selector.steps.length === 0) return "it has no steps (at least one element step is needed)";
  for (const [i, s] of selector.steps.entries()) {
    const problem = stepProblem(s, `step ${i + 1}`);
    if (problem !== undefined) return problem;
  }
  const terminal = selector.terminal;
  if (terminal !== undefined) {
    if (typeof terminal !== "object" || terminal === null) {
      return "its terminal selector is not an object";
    }
    if (terminal.kind === "attribute") {
      const problem = qualifiedNameProblem(terminal.name);
      if (problem !== undefined) return `its terminal attribute selector ${problem}`;
    } else if (terminal.kind !== "namespace") {
      return `its terminal selector has unknown kind ${
        JSON.stringify(printable((terminal as { kind: unknown }).kind))
      }`;
    }
  }
  return undefined;
}

/**
 * Quote an attribute value as an `AttValue`: double quotes, or single quotes when the value
 * contains `"` but no `'`, or double quotes with `&quot;` when it contains both. `&` and `<` are
 * always escaped, and TAB, LF and CR are written as character references so that no XML
 * attribute-value normalization can alter them.
 */
function quoteValue(value: string): string {
  const escaped = escapeAttributeValue(value);
  return value.includes('"') && !value.includes("'")
    ? `'${escaped.replaceAll("&quot;", '"')}'`
    : `"${escaped}"`;
}

function stepText(s: SelectorStep): string {
  let text = s.name === undefined ? "*" : qualifiedNameText(s.name);
  if (s.position !== undefined) text += `[${s.position}]`;
  if (s.attribute !== undefined) {
    text += `[@${qualifiedNameText(s.attribute.name)}=${quoteValue(s.attribute.value)}]`;
  }
  return text;
}

/**
 * Write a node selector as canonical, unescaped text (the inverse of
 * {@linkcode parseNodeSelector}).
 *
 * Attribute values are written `[@a="v"]`; a value containing `"` is written in single quotes,
 * or with `&quot;` when it contains both quote characters. `&` and `<` become `&amp;` and `&lt;`,
 * TAB, LF and CR become character references. `parseNodeSelector(text)` of the result deep-equals
 * the input. The model is validated first (at least one step, XML names, positions ≥ 1, values of
 * XML characters only).
 *
 * @param selector The selector to write.
 * @returns The text, or an `InvalidArgument` error (argument `nodeSelector`) naming the problem.
 *
 * @example Canonical quoting
 * ```ts
 * import { formatNodeSelector, parseNodeSelector } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const parsed = parseNodeSelector("/rl:resource-lists/rl:list[@name='say \"hi\"']/@name");
 * const text = parsed.andThen(formatNodeSelector);
 * assertEquals(text.isOk() && text.value, "/rl:resource-lists/rl:list[@name='say \"hi\"']/@name");
 *
 * const bad = formatNodeSelector({ steps: [] });
 * assertEquals(bad.isErr() && bad.error.argument, "nodeSelector");
 * ```
 */
export function formatNodeSelector(selector: NodeSelector): Result<string, InvalidArgumentError> {
  const problem = selectorProblem(selector);
  if (problem !== undefined) {
    return err(invalidArgument("nodeSelector", `Cannot format node selector: ${problem}`));
  }
  let text = selector.steps.map((s) => "/" + stepText(s)).join("");
  const terminal = selector.terminal;
  if (terminal?.kind === "attribute") text += "/@" + qualifiedNameText(terminal.name);
  if (terminal?.kind === "namespace") text += "/namespace::*";
  return ok(text);
}

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

/**
 * Parse a qualified XML name, `"prefix:local"` or `"local"`, as used in element and attribute
 * tests (names follow XML Namespaces' `NCName`: letters including non-ASCII ones, digits, `.`,
 * `-`, `_`, combining marks; not starting with a digit, `.` or `-`).
 *
 * @param text The name.
 * @returns The frozen name, or an `InvalidArgument` error (argument `name`).
 *
 * @example Usage
 * ```ts
 * import { parseQualifiedName } from "./selector.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const name = parseQualifiedName("rl:entry");
 * assertEquals(name.isOk() && name.value, { prefix: "rl", local: "entry" });
 * assertEquals(parseQualifiedName("1st").isErr(), true);
 * ```
 */
export function parseQualifiedName(text: string): Result<QualifiedName, InvalidArgumentError> {
  if (typeof text !== "string") {
    return err(invalidArgument("name", "Invalid XML name: it is not a string"));
  }
  const colon = text.indexOf(":");
  const prefix = colon < 0 ? undefined : text.slice(0, colon);
  const local = colon < 0 ? text : text.slice(colon + 1);
  if (prefix !== undefined && !isNCName(prefix)) {
    return err(invalidArgument(
      "name",
      `Invalid XML name ${JSON.stringify(text)}: invalid prefix ${JSON.stringify(prefix)}`,
    ));
  }
  if (!isNCName(local)) {
    return err(invalidArgument(
      "name",
      `Invalid XML name ${JSON.stringify(text)}: invalid local name ${JSON.stringify(local)}`,
    ));
  }
  return ok(freezeName(prefix === undefined ? { local } : { prefix, local }));
}

function relabel(e: InvalidArgumentError, argument: string): InvalidArgumentError {
  return invalidArgument(argument, e.message);
}

/**
 * Build one element step: a name test (`"p:local"`, `"local"` or `"*"`) with an optional
 * position and attribute predicate.
 *
 * @param name The element name, `"prefix:local"` or `"local"`, or `"*"` for any element.
 * @param options The predicates.
 * @param options.position 1-based position among matching siblings. @default absent
 * @param options.attribute `[name, value]` or an {@linkcode AttributePredicate}. @default absent
 * @returns The frozen step, or an `InvalidArgument` error (argument `name`, `options.position`
 * or `options.attribute`).
 *
 * @example Usage
 * ```ts
 * import { formatNodeSelector, nodeSelector, selectorStep } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const list = selectorStep("list", { attribute: ["name", "friends"] });
 * const entry = selectorStep("entry", { position: 2 });
 * assertEquals(entry.isOk() && entry.value, { name: { local: "entry" }, position: 2 });
 * if (list.isOk() && entry.isOk()) {
 *   const text = formatNodeSelector(nodeSelector([list.value, entry.value]));
 *   assertEquals(text.isOk() && text.value, '/list[@name="friends"]/entry[2]');
 * }
 * assertEquals(selectorStep("entry", { position: 0 }).isErr(), true);
 * ```
 */
export function selectorStep(
  name: string,
  options: SelectorStepOptions = {},
): Result<SelectorStep, InvalidArgumentError> {
  const result: { name?: QualifiedName; position?: number; attribute?: AttributePredicate } = {};
  if (name !== "*") {
    const parsed = parseQualifiedName(name);
    if (parsed.isErr()) return err(parsed.error);
    result.name = parsed.value;
  }
  const { position, attribute } = options ?? {};
  if (position !== undefined) {
    if (!Number.isSafeInteger(position) || position < 1) {
      return err(invalidArgument(
        "options.position",
        `Invalid step position ${printable(position)}: positions are integers from 1`,
      ));
    }
    result.position = position;
  }
  if (attribute !== undefined) {
    let test: AttributePredicate;
    if (Array.isArray(attribute)) {
      const [attName, value] = attribute as readonly [string, string];
      const parsed = parseQualifiedName(attName);
      if (parsed.isErr()) return err(relabel(parsed.error, "options.attribute"));
      test = { name: parsed.value, value };
    } else {
      test = attribute as AttributePredicate;
      const problem = qualifiedNameProblem(test?.name);
      if (problem !== undefined) {
        return err(invalidArgument("options.attribute", `Invalid attribute name: it ${problem}`));
      }
    }
    const problem = valueProblem(test.value);
    if (problem !== undefined) {
      return err(invalidArgument("options.attribute", `Invalid attribute value: it ${problem}`));
    }
    result.attribute = Object.freeze({ name: freezeName(test.name), value: test.value });
  }
  return ok(Object.freeze(result));
}

/**
 * Build the terminal attribute selector `@name` (`"p:local"` or `"local"`).
 *
 * @param name The attribute's qualified name.
 * @returns The frozen terminal selector, or an `InvalidArgument` error (argument `name`).
 *
 * @example Usage
 * ```ts
 * import { attributeSelector } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const uri = attributeSelector("uri");
 * assertEquals(uri.isOk() && uri.value, { kind: "attribute", name: { local: "uri" } });
 * ```
 */
export function attributeSelector(name: string): Result<TerminalSelector, InvalidArgumentError> {
  return parseQualifiedName(name).map((parsed) =>
    Object.freeze({ kind: "attribute" as const, name: parsed })
  );
}

/**
 * Build the terminal namespace selector `namespace::*`.
 *
 * @returns The frozen terminal selector.
 *
 * @example Usage
 * ```ts
 * import { namespaceSelector } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(namespaceSelector(), { kind: "namespace" });
 * ```
 */
export function namespaceSelector(): TerminalSelector {
  return Object.freeze({ kind: "namespace" as const });
}

/**
 * Assemble a node selector from steps made by {@linkcode selectorStep} and an optional terminal selector.
 *
 * This only assembles (it copies and freezes); the model is validated where it is used:
 * {@linkcode formatNodeSelector} and `buildXcapUri` return an error for an empty step list or a
 * hand-built step with an invalid name or position.
 *
 * @param steps The element steps, the first selecting the document element.
 * @param terminal `@attr` or `namespace::*` at the end. @default absent
 * @returns The frozen selector.
 *
 * @example Usage
 * ```ts
 * import { attributeSelector, formatNodeSelector, nodeSelector, selectorStep } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const lists = selectorStep("resource-lists");
 * const list = selectorStep("list", { position: 1, attribute: ["name", "a/b"] });
 * const name = attributeSelector("name");
 * if (lists.isOk() && list.isOk() && name.isOk()) {
 *   const text = formatNodeSelector(nodeSelector([lists.value, list.value], name.value));
 *   assertEquals(text.isOk() && text.value, '/resource-lists/list[1][@name="a/b"]/@name');
 * }
 * ```
 */
export function nodeSelector(
  steps: readonly SelectorStep[],
  terminal?: TerminalSelector,
): NodeSelector {
  const frozenSteps = Object.freeze([...steps]);
  return Object.freeze(
    terminal === undefined ? { steps: frozenSteps } : { steps: frozenSteps, terminal },
  );
}

/**
 * The namespace prefixes a selector uses, each once, in order of first use: element names,
 * attribute predicates and the terminal attribute. Unprefixed names use none (element names are
 * then in the application usage's default namespace, attributes in no namespace; RFC 4825 §6.3).
 *
 * @param selector The selector.
 * @returns The prefixes.
 *
 * @example Usage
 * ```ts
 * import { parseNodeSelector } from "@xcap/xcap";
 * import { selectorPrefixes } from "./selector.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const parsed = parseNodeSelector('/rl:resource-lists/rl:list[@x:id="1"]/@y:a');
 * assertEquals(parsed.map(selectorPrefixes).unwrapOr([]), ["rl", "x", "y"]);
 * ```
 */
export function selectorPrefixes(selector: NodeSelector): string[] {
  const seen = new Set<string>();
  const add = (name: QualifiedName | undefined) => {
    if (name?.prefix !== undefined) seen.add(name.prefix);
  };
  for (const s of selector?.steps ?? []) {
    add(s?.name);
    add(s?.attribute?.name);
  }
  if (selector?.terminal?.kind === "attribute") add(selector.terminal.name);
  return [...seen];
}
