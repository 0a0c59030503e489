/**
 * RFC 5261 XML patch operations (`<add>`, `<replace>`, `<remove>`) applied to a document's text
 * by splicing, on the engine of `src/xml/` (one selector engine): {@linkcode applyXmlPatch}.
 * xcap-diff (`../diff/`) applies the patches of `<document>` entries with it.
 *
 * Patch `sel` values are a restricted XPath. The subset this module understands is translated
 * into the project's {@linkcode NodeSelector} steps, which `selectElements` evaluates; what lies
 * beyond the last element step (an attribute, a namespace declaration, a text, comment or
 * processing-instruction node) is picked from the selected element here. Anything outside the
 * subset is an `unsupported-selector` (or `unsupported-id-function`) error, never a guess.
 *
 * Section numbers are RFC 5261's unless another RFC is named.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result, safeTry } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import {
  type NamespaceBindings,
  type NodeSelector,
  parseQualifiedName,
  type QualifiedName,
  type SelectorStep,
} from "../client/selector.ts";
import type { XmlDocument, XmlElement, XmlNamespaceDeclaration, XmlNode } from "./document.ts";
import { parseXmlDocument } from "./document.ts";
import { selectElements, selectNode } from "./select.ts";
import { deleteNode, putNode } from "./edit.ts";
import type { NodeOperationError } from "./errors.ts";
import { escapeAttributeValue as escapeAttribute } from "./_names.ts";

/**
 * One RFC 5261 patch operation. `sel` is the restricted XPath of RFC 5261 §4.1 relative to the
 * document: the first step names the document element (`resource-lists/list[@name='x']`, or
 * `*`), with an optional leading `/`. `content` is the operation's content exactly as written
 * in the patch document (markup, entity references and whitespace included: RFC 5261 adds
 * whitespace text nodes too); for an attribute, namespace or text target it is the escaped text.
 * `namespaces` are the bindings in scope at the operation element: unprefixed element names in
 * `sel`, and unprefixed elements in `content` without their own `xmlns`, are in its default
 * namespace `""` (RFC 5261 §4.2.2); attribute names without a prefix are in no namespace.
 */
export type XmlPatchOperation =
  | {
    /** Add nodes (§4.3): children (appended, or `pos: "prepend"`), siblings (`before`, `after`),
     * an attribute (`type: "@name"`) or a namespace declaration (`type: "namespace::p"`). */
    readonly op: "add";
    /** The selector of the node to add to or next to. */
    readonly sel: string;
    /** What to add, as written in the patch document. */
    readonly content: string;
    /** Where to add, relative to the selected node. @default append as the last child */
    readonly pos?: "before" | "after" | "prepend";
    /** `@name` to add an attribute, `namespace::prefix` to add a namespace declaration. */
    readonly type?: string;
    /** Bindings in scope at the operation element. @default {} */
    readonly namespaces?: NamespaceBindings;
  }
  | {
    /** Replace a node (§4.4): an element, attribute value, namespace URI, text, comment or PI. */
    readonly op: "replace";
    /** The selector of the node to replace. */
    readonly sel: string;
    /** The new node or value, as written in the patch document. */
    readonly content: string;
    /** Bindings in scope at the operation element. @default {} */
    readonly namespaces?: NamespaceBindings;
  }
  | {
    /** Remove a node (§4.5). */
    readonly op: "remove";
    /** The selector of the node to remove. */
    readonly sel: string;
    /** Also remove the whitespace-only text node before, after or on both sides. */
    readonly ws?: "before" | "after" | "both";
    /** Bindings in scope at the operation element. @default {} */
    readonly namespaces?: NamespaceBindings;
  };

/**
 * Why a patch failed: the error conditions of RFC 5261 §5.1 that apply to a client, plus
 * `unsupported-selector` for XPath beyond the subset this module translates.
 */
export type XmlPatchCondition =
  | "invalid-attribute-value"
  | "invalid-namespace-prefix"
  | "invalid-namespace-uri"
  | "invalid-node-types"
  | "invalid-patch-directive"
  | "invalid-root-element-operation"
  | "invalid-whitespace-directive"
  | "unlocated-node"
  | "unsupported-id-function"
  | "unsupported-selector";

/** A patch that could not be applied: which operation, and why. */
export interface XmlPatchError {
  /** Discriminant. */
  readonly _tag: "XmlPatchError";
  /** The RFC 5261 condition, or `unsupported-selector`. */
  readonly condition: XmlPatchCondition;
  /** What failed, and where. */
  readonly message: string;
  /** The 0-based index of the failing operation; -1 when the document itself is not XML. */
  readonly index: number;
  /** `true` when the patch may be valid but uses what this implementation does not support. */
  readonly unsupported: boolean;
}

/** Why one operation failed: the condition and a readable message. */
export interface PatchFailure {
  readonly condition: XmlPatchCondition;
  readonly message: string;
}

const XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace";
const BASE_SCOPE: ReadonlyMap<string, string> = new Map([["xml", XML_NAMESPACE]]);

function failure(condition: XmlPatchCondition, message: string): PatchFailure {
  return { condition, message };
}

// -------------------------------------------------------------------------------------------
// Selectors: the XPath subset of RFC 5261 §4.1 / Appendix A's `xpath` type
// -------------------------------------------------------------------------------------------

/** What follows the element steps of a patch selector. */
export type PatchTerminal =
  | { readonly kind: "attribute"; readonly name: QualifiedName }
  | { readonly kind: "namespace"; readonly prefix: string }
  | { readonly kind: "text" | "comment"; readonly position?: number }
  | {
    readonly kind: "processing-instruction";
    readonly target?: string;
    readonly position?: number;
  };

/** A patch selector translated into node selector steps plus an optional terminal. */
export interface PatchSelector {
  /** Element steps from the document node; empty for `/comment()` and the like. */
  readonly steps: readonly SelectorStep[];
  readonly terminal?: PatchTerminal;
}

class SelectorProblem {
  constructor(readonly condition: XmlPatchCondition, readonly reason: string) {}
}

/** Characters that end a name token. */
const NAME_END = /[\/\[\]=@()'"\s]/;

class PatchSelectorParser {
  pos = 0;
  constructor(readonly text: string) {}

  unsupported(reason: string): never {
    throw new SelectorProblem("unsupported-selector", reason);
  }

  peek(): string {
    return this.text[this.pos] ?? "";
  }

  parse(): PatchSelector {
    const text = this.text;
    if (text.trim() === "") this.unsupported("it is empty");
    if (text.startsWith("/")) this.pos = 1;
    if (text.startsWith("//")) this.unsupported('the descendant axis "//" is not supported');
    const steps: SelectorStep[] = [];
    let terminal: PatchTerminal | undefined;
    for (;;) {
      if (this.pos >= text.length) this.unsupported(`empty step at offset ${this.pos}`);
      if (terminal !== undefined) this.unsupported("only the last step can select a non-element");
      const start = this.pos;
      terminal = this.terminal();
      if (terminal === undefined) {
        this.pos = start;
        steps.push(this.step());
      }
      if (this.pos >= text.length) break;
      if (this.peek() !== "/") {
        this.unsupported(`unexpected ${JSON.stringify(this.peek())} at offset ${this.pos}`);
      }
      this.pos++;
      if (this.peek() === "/") this.unsupported('the descendant axis "//" is not supported');
    }
    if (
      steps.length === 0 && terminal !== undefined && terminal.kind !== "comment" &&
      terminal.kind !== "processing-instruction"
    ) {
      this.unsupported("a selector must start with the document element");
    }
    return terminal === undefined ? { steps } : { steps, terminal };
  }

  /** A terminal step at `pos`, or `undefined` when the step is an element step. */
  terminal(): PatchTerminal | undefined {
    const text = this.text;
    if (this.peek() === "@") {
      this.pos++;
      return { kind: "attribute", name: this.qname("attribute name") };
    }
    if (text.startsWith("namespace::", this.pos)) {
      this.pos += "namespace::".length;
      if (this.peek() === "*") this.unsupported('"namespace::*" selects several nodes');
      const prefix = this.token();
      if (!parseQualifiedName(prefix).isOk() || prefix.includes(":")) {
        this.unsupported(`invalid namespace prefix ${JSON.stringify(prefix)}`);
      }
      return { kind: "namespace", prefix };
    }
    for (const kind of ["text", "comment"] as const) {
      if (text.startsWith(kind + "()", this.pos)) {
        this.pos += kind.length + 2;
        const position = this.optionalPosition();
        return position === undefined ? { kind } : { kind, position };
      }
    }
    if (text.startsWith("processing-instruction(", this.pos)) {
      this.pos += "processing-instruction(".length;
      let target: string | undefined;
      if (this.peek() === "'" || this.peek() === '"') target = this.literal();
      if (this.peek() !== ")") this.unsupported(`expected ")" at offset ${this.pos}`);
      this.pos++;
      const position = this.optionalPosition();
      return {
        kind: "processing-instruction",
        ...(target === undefined ? {} : { target }),
        ...(position === undefined ? {} : { position }),
      };
    }
    if (text.startsWith("id(", this.pos)) {
      throw new SelectorProblem(
        "unsupported-id-function",
        "the id() function is not supported (RFC 5261 §4.1 makes it optional)",
      );
    }
    return undefined;
  }

  step(): SelectorStep {
    let name: QualifiedName | undefined;
    if (this.peek() === "*") {
      this.pos++;
    } else {
      name = this.qname("element name");
    }
    let position: number | undefined;
    let attribute: { name: QualifiedName; value: string } | undefined;
    while (this.peek() === "[") {
      const open = this.pos;
      this.pos++;
      if (/[0-9]/.test(this.peek())) {
        if (attribute !== undefined) {
          // [@a='v'][n] counts among the elements that pass the attribute test; a node selector
          // counts first and tests afterwards (RFC 4825 §6.3), so this cannot be translated.
          this.unsupported(`a position after an attribute predicate (offset ${open})`);
        }
        if (position !== undefined) this.unsupported(`two position predicates (offset ${open})`);
        position = this.digits();
      } else if (this.peek() === "@") {
        if (attribute !== undefined) {
          this.unsupported(`two attribute predicates (offset ${open})`);
        }
        this.pos++;
        const attName = this.qname("attribute name");
        if (this.peek() !== "=") this.unsupported(`expected "=" at offset ${this.pos}`);
        this.pos++;
        attribute = { name: attName, value: this.literal() };
      } else {
        this.unsupported(
          `predicate at offset ${open}: only [n] and [@name='value'] are supported`,
        );
      }
      if (this.peek() !== "]") this.unsupported(`expected "]" at offset ${this.pos}`);
      this.pos++;
    }
    return {
      ...(name === undefined ? {} : { name }),
      ...(position === undefined ? {} : { position }),
      ...(attribute === undefined ? {} : { attribute }),
    };
  }

  optionalPosition(): number | undefined {
    if (this.peek() !== "[") return undefined;
    this.pos++;
    if (!/[0-9]/.test(this.peek())) {
      this.unsupported(`only a position predicate is supported here (offset ${this.pos})`);
    }
    const position = this.digits();
    if (this.peek() !== "]") this.unsupported(`expected "]" at offset ${this.pos}`);
    this.pos++;
    return position;
  }

  digits(): number {
    const start = this.pos;
    while (/[0-9]/.test(this.peek())) this.pos++;
    const value = Number(this.text.slice(start, this.pos));
    if (!Number.isSafeInteger(value) || value < 1) {
      this.unsupported(`position ${this.text.slice(start, this.pos)} must be 1 or more`);
    }
    return value;
  }

  token(): string {
    const start = this.pos;
    while (this.pos < this.text.length && !NAME_END.test(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }

  qname(what: string): QualifiedName {
    const start = this.pos;
    const token = this.token();
    if (token === "") this.unsupported(`missing ${what} at offset ${start}`);
    if (token.includes("::")) this.unsupported(`the axis in "${token}" is not supported`);
    if (token === "." || token === "..") this.unsupported(`"${token}" is not supported`);
    if (this.peek() === "(") this.unsupported(`the function ${token}() is not supported`);
    const parsed = parseQualifiedName(token);
    if (parsed.isErr()) this.unsupported(`invalid ${what} ${JSON.stringify(token)}`);
    return parsed.value;
  }

  /** An XPath literal: no escapes, the other quote character may appear inside. */
  literal(): string {
    const quote = this.peek();
    if (quote !== "'" && quote !== '"') {
      this.unsupported(`expected a quoted value at offset ${this.pos}`);
    }
    const end = this.text.indexOf(quote, this.pos + 1);
    if (end < 0) this.unsupported(`unterminated value at offset ${this.pos}`);
    const value = this.text.slice(this.pos + 1, end);
    this.pos = end + 1;
    return value;
  }
}

/** Translate an RFC 5261 `sel` value into node selector steps and a terminal. */
export function parsePatchSelector(sel: string): Result<PatchSelector, PatchFailure> {
  try {
    return ok(new PatchSelectorParser(sel).parse());
  } catch (e) {
    if (e instanceof SelectorProblem) {
      return err(failure(e.condition, `Selector ${JSON.stringify(sel)}: ${e.reason}`));
    }
    return err(failure("unsupported-selector", `Selector ${JSON.stringify(sel)}: ${String(e)}`));
  }
}

// -------------------------------------------------------------------------------------------
// Locating the target (§4.1): exactly one node
// -------------------------------------------------------------------------------------------

/** A range of sibling nodes: a text run, a comment or a processing instruction. */
interface NodeTarget {
  readonly kind: "node";
  readonly nodeKind: "text" | "comment" | "processing-instruction";
  /** The parent element; absent at document level. */
  readonly parent?: XmlElement;
  readonly start: number;
  readonly end: number;
  /** Index range in the container's child list. */
  readonly first: number;
  readonly last: number;
}

type Target =
  | { readonly kind: "element"; readonly element: XmlElement }
  | { readonly kind: "attribute"; readonly element: XmlElement }
  | {
    readonly kind: "namespace";
    readonly element: XmlElement;
    readonly prefix: string;
    readonly declaration?: XmlNamespaceDeclaration;
  }
  | NodeTarget;

/** The children of an element, or the top-level nodes of the document. */
function containerChildren(doc: XmlDocument, parent: XmlElement | undefined): readonly XmlNode[] {
  return parent === undefined ? [...doc.prolog, doc.root, ...doc.epilog] : parent.children;
}

function scopeOf(parent: XmlElement | undefined): ReadonlyMap<string, string> {
  return parent?.namespaces ?? BASE_SCOPE;
}

function describeCount(n: number): string {
  return n === 0 ? "no node" : `${n} nodes`;
}

function locate(
  doc: XmlDocument,
  selector: PatchSelector,
  ns: NamespaceBindings,
  sel: string,
): Result<Target, PatchFailure> {
  let element: XmlElement | undefined;
  if (selector.steps.length > 0) {
    const selected = selectElements(doc, { steps: selector.steps }, ns);
    if (selected.isErr()) {
      return err(failure("invalid-namespace-prefix", `Selector ${sel}: ${selected.error.message}`));
    }
    if (selected.value.length !== 1) {
      return err(failure(
        "unlocated-node",
        `Selector ${sel} matches ${
          describeCount(selected.value.length)
        }; it must match exactly one`,
      ));
    }
    element = selected.value[0]!;
  }
  const terminal = selector.terminal;
  if (terminal === undefined) return ok({ kind: "element", element: element! });
  switch (terminal.kind) {
    case "attribute": {
      const node = selectNode(doc, {
        steps: selector.steps,
        terminal: { kind: "attribute", name: terminal.name },
      }, ns);
      if (node.isErr()) {
        return err(failure(
          node.error.kind === "bad-request" ? "invalid-namespace-prefix" : "unlocated-node",
          `Selector ${sel}: ${node.error.message}`,
        ));
      }
      return ok({ kind: "attribute", element: element! });
    }
    case "namespace": {
      const el = element!;
      if (!el.namespaces.has(terminal.prefix)) {
        return err(failure(
          "unlocated-node",
          `Selector ${sel}: no namespace "${terminal.prefix}" is in scope at <${el.name}>`,
        ));
      }
      const declaration = el.namespaceDeclarations.find((d) => d.prefix === terminal.prefix);
      return ok({
        kind: "namespace",
        element: el,
        prefix: terminal.prefix,
        ...(declaration === undefined ? {} : { declaration }),
      });
    }
    default: {
      const children = containerChildren(doc, element);
      const found: NodeTarget[] = [];
      for (let i = 0; i < children.length; i++) {
        const node = children[i]!;
        if (terminal.kind === "text") {
          if (node.kind !== "text" && node.kind !== "cdata") continue;
          // XPath's data model merges adjacent text and CDATA into one text node.
          let j = i;
          while (j + 1 < children.length) {
            const next = children[j + 1]!;
            if (next.kind !== "text" && next.kind !== "cdata") break;
            j++;
          }
          found.push(nodeTarget("text", element, children, i, j));
          i = j;
        } else if (node.kind === terminal.kind) {
          if (
            terminal.kind === "processing-instruction" && terminal.target !== undefined &&
            (node as { target: string }).target !== terminal.target
          ) continue;
          found.push(nodeTarget(terminal.kind, element, children, i, i));
        }
      }
      const position = terminal.position;
      if (position !== undefined) {
        const hit = found[position - 1];
        if (hit === undefined) {
          return err(failure(
            "unlocated-node",
            `Selector ${sel}: there ${found.length === 1 ? "is" : "are"} only ${found.length} ` +
              `such node${found.length === 1 ? "" : "s"}`,
          ));
        }
        return ok(hit);
      }
      if (found.length !== 1) {
        return err(failure(
          "unlocated-node",
          `Selector ${sel} matches ${describeCount(found.length)}; it must match exactly one`,
        ));
      }
      return ok(found[0]!);
    }
  }
}

function nodeTarget(
  nodeKind: NodeTarget["nodeKind"],
  parent: XmlElement | undefined,
  children: readonly XmlNode[],
  first: number,
  last: number,
): NodeTarget {
  return {
    kind: "node",
    nodeKind,
    ...(parent === undefined ? {} : { parent }),
    start: children[first]!.start,
    end: children[last]!.end,
    first,
    last,
  };
}

// -------------------------------------------------------------------------------------------
// Content of <add> and <replace>, with its namespaces carried over (§4.2, §4.3)
// -------------------------------------------------------------------------------------------

interface ParsedContent {
  /** The wrapper document; `root` is the wrapper, its children the content nodes. */
  readonly doc: XmlDocument;
  readonly nodes: readonly XmlNode[];
}

/**
 * Parse the content of an operation in the namespace scope of the operation element: it is
 * wrapped in an element that declares those bindings, so prefixes the content does not declare
 * itself resolve as they did in the patch document.
 */
function parseContent(
  op: { readonly content: string; readonly namespaces?: NamespaceBindings },
): Result<ParsedContent, PatchFailure> {
  let open = "<patch-content";
  for (const [prefix, uri] of Object.entries(op.namespaces ?? {})) {
    if (prefix === "xml") continue;
    if (prefix === "") {
      open += ` xmlns="${escapeAttribute(uri)}"`;
    } else if (uri !== "") {
      open += ` xmlns:${prefix}="${escapeAttribute(uri)}"`;
    }
  }
  const parsed = parseXmlDocument(`${open}>${op.content}</patch-content>`);
  if (parsed.isErr()) {
    return err(failure(
      "invalid-node-types",
      `The content is not well-formed XML: ${parsed.error.phrase ?? parsed.error.tag}`,
    ));
  }
  return ok({ doc: parsed.value, nodes: parsed.value.root.children });
}

/**
 * Namespace declarations a content element needs at its new place: for each prefix its subtree
 * uses without declaring it, a declaration unless the target scope binds it to the same URI.
 * The default namespace counts as a prefix (`""`), and `xmlns=""` undeclares it when the
 * element was in no namespace but the target has a default namespace.
 */
function neededDeclarations(element: XmlElement, target: ReadonlyMap<string, string>): string {
  const outside = new Map<string, string | undefined>();
  const stack: { element: XmlElement; declared: ReadonlySet<string> }[] = [{
    element,
    declared: new Set(),
  }];
  while (stack.length > 0) {
    const { element: e, declared: inherited } = stack.pop()!;
    const declared = e.namespaceDeclarations.length === 0
      ? inherited
      : new Set([...inherited, ...e.namespaceDeclarations.map((d) => d.prefix)]);
    const used = [e.prefix ?? "", ...e.attributes.flatMap((a) => a.prefix ?? [])];
    for (const prefix of used) {
      if (prefix === "xml" || declared.has(prefix) || outside.has(prefix)) continue;
      outside.set(prefix, e.namespaces.get(prefix));
    }
    for (const child of e.children) {
      if (child.kind === "element") stack.push({ element: child, declared });
    }
  }
  let out = "";
  for (const [prefix, uri] of outside) {
    if (target.get(prefix) === uri) continue;
    if (prefix === "") out += uri === undefined ? ' xmlns=""' : ` xmlns="${escapeAttribute(uri)}"`;
    else out += ` xmlns:${prefix}="${escapeAttribute(uri!)}"`;
  }
  return out;
}

/** The text of content nodes `nodes` (contiguous), with the declarations each element needs. */
function serializeContent(
  content: ParsedContent,
  nodes: readonly XmlNode[],
  target: ReadonlyMap<string, string>,
): string {
  const text = content.doc.text;
  let out = "";
  for (const node of nodes) {
    const raw = text.slice(node.start, node.end);
    if (node.kind !== "element") {
      out += raw;
      continue;
    }
    // Declarations the new place already makes (same prefix, same URI) are dropped from the
    // start tag (namespace mangling, RFC 5261 §4.2): the element means the same without them.
    let kept = raw;
    for (const d of [...node.namespaceDeclarations].reverse()) {
      if (target.get(d.prefix) !== (d.uri === "" ? undefined : d.uri)) continue;
      let start = d.start - node.start;
      while (start > 0 && /[ \t\r\n]/.test(kept[start - 1]!)) start--;
      kept = kept.slice(0, start) + kept.slice(d.end - node.start);
    }
    const at = 1 + node.name.length;
    out += kept.slice(0, at) + neededDeclarations(node, target) + kept.slice(at);
  }
  return out;
}

/** The decoded text of content that must be character data only (text and CDATA). */
function textOnly(content: ParsedContent, what: string): Result<string, PatchFailure> {
  let value = "";
  for (const node of content.nodes) {
    if (node.kind === "text" || node.kind === "cdata") value += node.value;
    else return err(failure("invalid-node-types", `${what} must be text only, not a ${node.kind}`));
  }
  return ok(value);
}

function isWhitespaceText(node: XmlNode): boolean {
  return node.kind === "text" && /^[ \t\r\n]*$/.test(node.value);
}

/** The content's nodes without whitespace-only text around them. */
function significantNodes(content: ParsedContent): XmlNode[] {
  return content.nodes.filter((n) => !isWhitespaceText(n));
}

// -------------------------------------------------------------------------------------------
// Applying operations
// -------------------------------------------------------------------------------------------

function splice(text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end);
}

/** Offset just after the last attribute or namespace declaration of a start tag. */
function startTagItemsEnd(element: XmlElement): number {
  return Math.max(
    element.start + 1 + element.name.length,
    ...element.attributes.map((a) => a.end),
    ...element.namespaceDeclarations.map((d) => d.end),
  );
}

/** Insert text as the first or last content of an element (expanding `<a/>`). */
function insertIntoElement(text: string, element: XmlElement, at: "start" | "end", insert: string) {
  if (element.selfClosing) {
    // `<a/>` or `<a />`: the tag ends with "/>"; keep whatever comes before the slash.
    return splice(text, element.end - 2, element.end, `>${insert}</${element.name}>`);
  }
  const offset = at === "start" ? element.contentStart : element.contentEnd;
  return splice(text, offset, offset, insert);
}

function editFailure(error: NodeOperationError, sel: string): PatchFailure {
  const condition: XmlPatchCondition = error.kind === "bad-request"
    ? "invalid-namespace-prefix"
    : error.kind === "not-found"
    ? "unlocated-node"
    : error.kind === "conflict" && error.condition.tag === "not-xml-att-value"
    ? "invalid-attribute-value"
    : "invalid-patch-directive";
  return failure(condition, `Selector ${sel}: ${error.message}`);
}

function add(
  doc: XmlDocument,
  op: Extract<XmlPatchOperation, { op: "add" }>,
  selector: PatchSelector,
  ns: NamespaceBindings,
): Result<string, PatchFailure> {
  return safeTry(function* () {
    const sel = JSON.stringify(op.sel);
    const target = yield* locate(doc, selector, ns, sel);
    const content = yield* parseContent(op);
    const text = doc.text;

    if (op.type !== undefined) {
      if (target.kind !== "element") {
        return err(failure("invalid-patch-directive", `Selector ${sel}: type needs an element`));
      }
      if (op.pos !== undefined) {
        return err(failure("invalid-patch-directive", `"pos" cannot be used with "type"`));
      }
      const value = yield* textOnly(content, `The value added by type="${op.type}"`);
      if (op.type.startsWith("@")) {
        // §4.3.2: a new attribute; its value is the text content of <add>.
        const name = parseQualifiedName(op.type.slice(1));
        if (name.isErr()) {
          return err(failure("invalid-patch-directive", `Invalid type ${JSON.stringify(op.type)}`));
        }
        const attribute: NodeSelector = {
          steps: selector.steps,
          terminal: { kind: "attribute", name: name.value },
        };
        if (selectNode(doc, attribute, ns).isOk()) {
          return err(failure(
            "invalid-attribute-value",
            `Selector ${sel}: the element already has the attribute ${op.type.slice(1)}`,
          ));
        }
        const put = putNode(doc, attribute, ns, escapeAttribute(value));
        return put.isOk() ? ok(put.value.text) : err(editFailure(put.error, sel));
      }
      if (op.type.startsWith("namespace::")) {
        // §4.3.3: a new namespace declaration on the element.
        const prefix = op.type.slice("namespace::".length);
        if (!/^[^:]+$/.test(prefix) || parseQualifiedName(prefix).isErr() || prefix === "xml") {
          return err(
            failure("invalid-namespace-prefix", `Invalid type ${JSON.stringify(op.type)}`),
          );
        }
        if (target.element.namespaceDeclarations.some((d) => d.prefix === prefix)) {
          return err(failure(
            "invalid-namespace-prefix",
            `Selector ${sel}: <${target.element.name}> already declares the prefix "${prefix}"`,
          ));
        }
        if (value === "") {
          return err(failure("invalid-namespace-uri", "The namespace URI is empty"));
        }
        const at = startTagItemsEnd(target.element);
        return ok(splice(text, at, at, ` xmlns:${prefix}="${escapeAttribute(value)}"`));
      }
      return err(failure("invalid-patch-directive", `Invalid type ${JSON.stringify(op.type)}`));
    }

    if (content.nodes.length === 0) {
      return err(failure("invalid-node-types", `The <add> with selector ${sel} has no content`));
    }
    if (op.pos === undefined || op.pos === "prepend") {
      // §4.3.1: new child nodes, appended (or prepended with pos="prepend").
      if (target.kind !== "element") {
        return err(failure(
          "invalid-patch-directive",
          `Selector ${sel}: children can only be added to an element`,
        ));
      }
      const insert = serializeContent(content, content.nodes, target.element.namespaces);
      return ok(
        insertIntoElement(text, target.element, op.pos === "prepend" ? "start" : "end", insert),
      );
    }
    // pos="before" / "after": siblings of the located node.
    let parent: XmlElement | undefined;
    let start: number;
    let end: number;
    if (target.kind === "element") {
      parent = target.element.parent;
      start = target.element.start;
      end = target.element.end;
    } else if (target.kind === "node") {
      parent = target.parent;
      start = target.start;
      end = target.end;
    } else {
      return err(failure(
        "invalid-patch-directive",
        `Selector ${sel}: pos="${op.pos}" needs an element, text, comment or processing instruction`,
      ));
    }
    if (parent === undefined) {
      // Outside the document element only comments, processing instructions and whitespace.
      const bad = content.nodes.find((n) =>
        n.kind !== "comment" && n.kind !== "processing-instruction" && !isWhitespaceText(n)
      );
      if (bad !== undefined) {
        return err(failure(
          "invalid-root-element-operation",
          `Selector ${sel}: only comments and processing instructions can be added next to the ` +
            `document element, not a ${bad.kind}`,
        ));
      }
    }
    const insert = serializeContent(content, content.nodes, scopeOf(parent));
    const at = op.pos === "before" ? start : end;
    return ok(splice(text, at, at, insert));
  });
}

function replace(
  doc: XmlDocument,
  op: Extract<XmlPatchOperation, { op: "replace" }>,
  selector: PatchSelector,
  ns: NamespaceBindings,
): Result<string, PatchFailure> {
  return safeTry(function* () {
    const sel = JSON.stringify(op.sel);
    const target = yield* locate(doc, selector, ns, sel);
    const content = yield* parseContent(op);
    const text = doc.text;
    switch (target.kind) {
      case "element": {
        // §4.4.1: exactly one element replaces the element.
        const nodes = significantNodes(content);
        const element = nodes[0];
        if (nodes.length !== 1 || element?.kind !== "element") {
          return err(failure(
            "invalid-node-types",
            `Selector ${sel} selects an element; the new content must be exactly one element`,
          ));
        }
        const insert = serializeContent(content, [element], scopeOf(target.element.parent));
        return ok(splice(text, target.element.start, target.element.end, insert));
      }
      case "attribute": {
        // §4.4.2: the new value is the text content.
        const value = yield* textOnly(content, "A new attribute value");
        const attribute = {
          steps: selector.steps,
          terminal: selector.terminal as { kind: "attribute"; name: QualifiedName },
        };
        const put = putNode(doc, attribute, ns, escapeAttribute(value));
        return put.isOk() ? ok(put.value.text) : err(editFailure(put.error, sel));
      }
      case "namespace": {
        // §4.4.3: a new URI for a namespace declaration.
        if (target.declaration === undefined) {
          return err(failure(
            "unsupported-selector",
            `Selector ${sel}: the prefix "${target.prefix}" is declared on an ancestor of ` +
              `<${target.element.name}>; only a declaration on the selected element can be replaced`,
          ));
        }
        const uri = yield* textOnly(content, "A namespace URI");
        if (uri === "") {
          return err(failure("invalid-namespace-uri", "The namespace URI is empty"));
        }
        const name = target.prefix === "" ? "xmlns" : `xmlns:${target.prefix}`;
        return ok(splice(
          text,
          target.declaration.start,
          target.declaration.end,
          `${name}="${escapeAttribute(uri)}"`,
        ));
      }
      case "node": {
        if (target.nodeKind === "text") {
          // §4.4.4: the new text, as written (references and CDATA kept).
          yield* textOnly(content, "A new text node");
          return ok(splice(text, target.start, target.end, op.content));
        }
        const nodes = significantNodes(content);
        if (nodes.length !== 1 || nodes[0]!.kind !== target.nodeKind) {
          return err(failure(
            "invalid-node-types",
            `Selector ${sel} selects a ${target.nodeKind}; the new content must be exactly one`,
          ));
        }
        return ok(
          splice(text, target.start, target.end, serializeContent(content, nodes, BASE_SCOPE)),
        );
      }
    }
  });
}

function remove(
  doc: XmlDocument,
  op: Extract<XmlPatchOperation, { op: "remove" }>,
  selector: PatchSelector,
  ns: NamespaceBindings,
): Result<string, PatchFailure> {
  return safeTry(function* () {
    const sel = JSON.stringify(op.sel);
    const target = yield* locate(doc, selector, ns, sel);
    const text = doc.text;
    if (target.kind === "attribute" || target.kind === "namespace") {
      if (op.ws !== undefined) {
        return err(failure(
          "invalid-whitespace-directive",
          `Selector ${sel}: "ws" applies to elements, comments and processing instructions only`,
        ));
      }
      if (target.kind === "attribute") {
        const removed = deleteNode(doc, {
          steps: selector.steps,
          terminal: selector.terminal as { kind: "attribute"; name: QualifiedName },
        }, ns);
        return removed.isOk() ? ok(removed.value.text) : err(editFailure(removed.error, sel));
      }
      if (target.declaration === undefined) {
        return err(failure(
          "unsupported-selector",
          `Selector ${sel}: the prefix "${target.prefix}" is declared on an ancestor of ` +
            `<${target.element.name}>; only a declaration on the selected element can be removed`,
        ));
      }
      let start = target.declaration.start;
      while (start > 0 && /[ \t\r\n]/.test(text[start - 1]!)) start--;
      return ok(splice(text, start, target.declaration.end, ""));
    }
    let parent: XmlElement | undefined;
    let first: number;
    let last: number;
    if (target.kind === "element") {
      parent = target.element.parent;
      if (parent === undefined) {
        return err(failure(
          "invalid-root-element-operation",
          `Selector ${sel} selects the document element, which cannot be removed`,
        ));
      }
      const index = parent.children.indexOf(target.element);
      first = index;
      last = index;
    } else {
      if (target.nodeKind === "text" && op.ws !== undefined) {
        return err(failure(
          "invalid-whitespace-directive",
          `Selector ${sel}: "ws" cannot be used when removing a text node`,
        ));
      }
      parent = target.parent;
      first = target.first;
      last = target.last;
    }
    const children = containerChildren(doc, parent);
    let start = children[first]!.start;
    let end = children[last]!.end;
    if (parent === undefined) {
      // Top-level comments and PIs are separated by whitespace the tree does not keep as nodes.
      if (op.ws === "before" || op.ws === "both") {
        while (start > 0 && /[ \t\r\n]/.test(text[start - 1]!)) start--;
      }
      if (op.ws === "after" || op.ws === "both") {
        while (end < text.length && /[ \t\r\n]/.test(text[end]!)) end++;
      }
      return ok(splice(text, start, end, ""));
    }
    // §4.5: ws removes the whitespace-only text node right before and/or after the node.
    if (op.ws === "before" || op.ws === "both") {
      const before = children[first - 1];
      if (before === undefined || !isWhitespaceText(before)) {
        return err(failure(
          "invalid-whitespace-directive",
          `Selector ${sel}: ws="${op.ws}" but no whitespace text node precedes the node`,
        ));
      }
      start = before.start;
    }
    if (op.ws === "after" || op.ws === "both") {
      const after = children[last + 1];
      if (after === undefined || !isWhitespaceText(after)) {
        return err(failure(
          "invalid-whitespace-directive",
          `Selector ${sel}: ws="${op.ws}" but no whitespace text node follows the node`,
        ));
      }
      end = after.end;
    }
    return ok(splice(text, start, end, ""));
  });
}

/** Bindings for selector evaluation: the operation's in-scope namespaces (§4.2.1, §4.2.2). */
function selectorNamespaces(op: XmlPatchOperation): NamespaceBindings {
  const ns: Record<string, string> = {};
  for (const [prefix, uri] of Object.entries(op.namespaces ?? {})) {
    if (uri !== "") ns[prefix] = uri;
  }
  return ns;
}

/**
 * Apply the operations in order to the document text. Each one works on the result of the one
 * before; the first failure stops everything (the caller keeps its old text).
 *
 * The result is parsed again after each operation: an operation that would leave text that is
 * not well-formed XML fails (`invalid-patch-directive`).
 */
export function applyPatchOperations(
  text: string,
  operations: readonly XmlPatchOperation[],
): Result<string, PatchFailure & { readonly index: number }> {
  const first = parseXmlDocument(text);
  if (first.isErr()) {
    return err({
      condition: "invalid-patch-directive",
      message: `The document to patch is not well-formed: ${first.error.phrase ?? first.error.tag}`,
      index: -1,
    });
  }
  let doc = first.value;
  for (const [index, op] of operations.entries()) {
    const selector = parsePatchSelector(op.sel);
    if (selector.isErr()) return err({ ...selector.error, index });
    // RFC 5261 §4.2.2: unlike XPath 1.0, an unprefixed element name in a selector is in the
    // default namespace in scope at the operation element.
    const ns = selectorNamespaces(op);
    let next: Result<string, PatchFailure>;
    switch (op.op) {
      case "add":
        next = add(doc, op, selector.value, ns);
        break;
      case "replace":
        next = replace(doc, op, selector.value, ns);
        break;
      case "remove":
        next = remove(doc, op, selector.value, ns);
        break;
      default:
        next = err(failure(
          "invalid-patch-directive",
          `Unknown operation ${JSON.stringify((op as { op: unknown }).op)}`,
        ));
    }
    if (next.isErr()) return err({ ...next.error, index });
    const reparsed = parseXmlDocument(next.value);
    if (reparsed.isErr()) {
      return err({
        condition: "invalid-patch-directive",
        message: `The operation with selector ${JSON.stringify(op.sel)} would leave a document ` +
          `that is not well-formed: ${reparsed.error.phrase ?? reparsed.error.tag}`,
        index,
      });
    }
    doc = reparsed.value;
  }
  return ok(doc.text);
}

/**
 * Make a content element self-contained for its new place: `content` is one element as written
 * in a patch or xcap-diff document, `namespaces` the bindings in scope there, `target` the
 * bindings where it will stand. Used for `<element>` entries of xcap-diff documents.
 */
export function relocateElement(
  content: string,
  namespaces: NamespaceBindings,
  target: ReadonlyMap<string, string>,
): Result<string, PatchFailure> {
  const parsed = parseContent({ content, namespaces });
  if (parsed.isErr()) return err(parsed.error);
  const nodes = significantNodes(parsed.value);
  if (nodes.length !== 1 || nodes[0]!.kind !== "element") {
    return err(failure("invalid-node-types", "The content must be exactly one element"));
  }
  return ok(serializeContent(parsed.value, nodes, target));
}

/**
 * Apply RFC 5261 patch operations to a document's text, in order, by splicing: every byte the
 * operations do not touch stays as it was.
 *
 * Supported selectors (RFC 5261 §4.1, translated into node selector steps): element steps
 * `name`, `prefix:name` or `*`, each with an optional position `[n]` and then an optional
 * attribute predicate `[@a='v']`, with an optional leading `/`; the last step may instead be
 * `@attr`, `namespace::prefix`, `text()`, `comment()` or `processing-instruction('t')`, each
 * with an optional `[n]`. `id()`, child value predicates (`[name='v']`), a position after an
 * attribute predicate, `//` and other axes are refused with `unsupported: true`. Unprefixed
 * element names are in the default namespace of the operation (RFC 5261 §4.2.2). Added content
 * keeps its namespaces: a declaration is added where the new place binds a prefix differently.
 *
 * All or nothing: on the first failure the error says which operation failed and why.
 *
 * @param text The document.
 * @param operations The operations, in order.
 * @returns The patched text, or an {@linkcode XmlPatchError}.
 *
 * @example Adding, replacing and removing
 * ```ts
 * import { applyXmlPatch } from "@xcap/xcap/xml";
 * import { assertEquals } from "@std/assert";
 *
 * const ns = { rl: "urn:ietf:params:xml:ns:resource-lists" };
 * const doc = '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">' +
 *   '<list name="friends"><entry uri="sip:bob@example.com"/></list></resource-lists>';
 * const patched = applyXmlPatch(doc, [
 *   { op: "add", sel: "rl:resource-lists/rl:list", content: '<rl:entry uri="sip:carol@example.com"/>', namespaces: ns },
 *   { op: "replace", sel: "rl:resource-lists/rl:list/@name", content: "buddies", namespaces: ns },
 *   { op: "remove", sel: "rl:resource-lists/rl:list/rl:entry[1]", namespaces: ns },
 * ]);
 * assertEquals(
 *   patched._unsafeUnwrap(),
 *   '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">' +
 *     '<list name="buddies"><rl:entry xmlns:rl="urn:ietf:params:xml:ns:resource-lists" uri="sip:carol@example.com"/></list></resource-lists>',
 * );
 * ```
 */
export function applyXmlPatch(
  text: string,
  operations: readonly XmlPatchOperation[],
): Result<string, XmlPatchError> {
  if (typeof text !== "string" || !Array.isArray(operations)) {
    return err(Object.freeze({
      _tag: "XmlPatchError",
      condition: "invalid-patch-directive",
      message: "applyXmlPatch() needs a document text and an array of operations",
      index: -1,
      unsupported: false,
    }));
  }
  return applyPatchOperations(text, operations).mapErr((e) =>
    Object.freeze({
      _tag: "XmlPatchError" as const,
      condition: e.condition,
      message: e.message,
      index: e.index,
      unsupported: e.condition === "unsupported-selector" ||
        e.condition === "unsupported-id-function",
    })
  );
}
