/**
 * Private: the machinery the typed application usage models share.
 *
 * A typed value is plain data; each node parsed from a document carries an `origin` (the element
 * it came from and the document text). Building renders a value back to text by reconciling it
 * with its origin: an element whose modelled data is unchanged is copied byte for byte, a
 * changed start tag keeps every attribute and namespace declaration the model does not know (in
 * their order and quoting), and a changed content keeps every node the model does not know
 * (foreign elements, comments, processing instructions, CDATA, text) in its place, while the
 * modelled children are inserted, removed, reordered or re-rendered. Only new elements are
 * generated, indented like their siblings.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { invalidArgument, type InvalidArgumentError } from "../client/errors.ts";
import {
  parseXmlDocument,
  type XmlAttribute,
  type XmlDocument,
  type XmlElement,
  type XmlNode,
} from "../xml/document.ts";
import {
  escapeAttributeValue as escapeAttribute,
  escapeText,
  XML_NAMESPACE,
} from "../xml/_names.ts";
import {
  attributeValue,
  childElements,
  findAttribute,
  isElement,
  textContent,
} from "../xml/_tree.ts";
import type { XmlOrigin } from "./codec.ts";

/** Build an origin value. */
export function originOf(element: XmlElement, text: string): XmlOrigin {
  return Object.freeze({ element, text });
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

// The tree readers live with the engine; the usages reach them through this module.
export { childrenNamed, firstChild, xmlLang } from "../xml/_tree.ts";
export { attributeValue, childElements, findAttribute, isElement, textContent, XML_NAMESPACE };

/** A parse failure of a typed model: which document, and what was wrong where. */
export function modelError(what: string, problem: string): InvalidArgumentError {
  return invalidArgument("document", `Cannot read the ${what} document: ${problem}`);
}

/** The parsed document a model reads: parsed here when given as text. */
export function readModelDocument(
  input: string | XmlDocument,
  what: string,
): Result<XmlDocument, InvalidArgumentError> {
  return typeof input === "string"
    ? parseXmlDocument(input).mapErr((c) => modelError(what, c.phrase ?? c.tag))
    : ok(input);
}

/** Check the document element; the error names what was expected. */
export function checkRoot(
  doc: XmlDocument,
  namespace: string,
  localName: string,
  what: string,
): Result<XmlElement, InvalidArgumentError> {
  const root = doc.root;
  if (isElement(root, namespace, localName)) return ok(root);
  const found = root.namespace === undefined
    ? `<${root.localName}> in no namespace`
    : `<${root.localName}> in namespace ${root.namespace}`;
  return err(
    modelError(what, `the document element is ${found}, not <${localName}> in ${namespace}`),
  );
}

/** The path of an element for messages, e.g. `resource-lists/list[2]`. */
export function describePath(element: XmlElement): string {
  const steps: string[] = [];
  for (let e: XmlElement | undefined = element; e !== undefined; e = e.parent) {
    const parent: XmlElement | undefined = e.parent;
    let step = e.name;
    if (parent !== undefined) {
      const same = childElements(parent).filter((s) =>
        s.namespace === e!.namespace && s.localName === e!.localName
      );
      if (same.length > 1) step += `[${same.indexOf(e) + 1}]`;
    }
    steps.unshift(step);
  }
  return steps.join("/");
}

/** A required attribute, or an error naming the element. */
export function requiredAttribute(
  element: XmlElement,
  localName: string,
  what: string,
): Result<string, InvalidArgumentError> {
  const value = attributeValue(element, localName);
  if (value !== undefined) return ok(value);
  return err(
    modelError(what, `<${element.localName}> at ${describePath(element)} has no "${localName}"`),
  );
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/** Matches characters XML 1.0 does not allow (lone surrogates included). */
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** Raised inside a build when a value cannot be written; turned into an error value. */
export class BuildFailure {
  constructor(readonly message: string) {}
}

function checkChars(value: string, where: string): string {
  const bad = NOT_XML_CHAR.exec(value);
  if (bad !== null) {
    const cp = value.codePointAt(bad.index) ?? 0;
    throw new BuildFailure(
      `${where} contains U+${
        cp.toString(16).toUpperCase().padStart(4, "0")
      }, which XML does not allow`,
    );
  }
  return value;
}

/** The output context: the namespace bindings in scope where the text will stand. */
export interface RenderContext {
  /** Prefix to URI, `""` for the default namespace (absent when there is none). */
  readonly ns: ReadonlyMap<string, string>;
  /** Indentation of the line the element starts on; `undefined` for compact output. */
  readonly indent: string | undefined;
  /** One indentation step. */
  readonly unit: string;
  /** The line break used. */
  readonly newline: string;
}

/** A known attribute of a planned element: its expanded name and new value (absent: none). */
export interface AttributePlan {
  /** Namespace URI; absent for an unprefixed attribute. Only `xml:` is supported besides. */
  readonly namespace?: string;
  /** Local name. */
  readonly localName: string;
  /** The value to write; `undefined` removes the attribute. */
  readonly value: string | undefined;
}

/** A modelled child: where it came from (to match it with its old place) and how to render it. */
export interface ChildPlan {
  /** The origin, when the child was parsed from a document. */
  readonly origin?: XmlOrigin | undefined;
  /** Render the child for the given context. */
  render(ctx: RenderContext): string;
}

/** What one modelled element looks like after the change. */
export interface ElementPlan {
  /** The element it was parsed from, if any. */
  readonly origin?: XmlOrigin | undefined;
  /** Namespace of a generated element. */
  readonly namespace: string;
  /** Local name of a generated element. */
  readonly localName: string;
  /** The prefix to declare for a generated element when its namespace has none in scope. */
  readonly preferredPrefix: string;
  /** The modelled attributes. */
  readonly attributes?: readonly AttributePlan[];
  /** Which children of the origin the model knows (and so replaces with `children`). */
  readonly isKnown?: (element: XmlElement) => boolean;
  /** The modelled children, in order. */
  readonly children?: readonly ChildPlan[];
  /** Text content, for an element that holds only text (exclusive with `children`). */
  readonly text?: string;
}

/** A plan as a child: render it with {@linkcode renderElement}. */
export function childOf(plan: ElementPlan): ChildPlan {
  return { origin: plan.origin, render: (ctx) => renderElement(plan, ctx) };
}

/** A prefix for `namespace` in scope, or `undefined`. `""` means the default namespace. */
function prefixInScope(ns: ReadonlyMap<string, string>, namespace: string): string | undefined {
  if (ns.get("") === namespace) return "";
  for (const [prefix, uri] of ns) if (prefix !== "" && uri === namespace) return prefix;
  return undefined;
}

/** The indentation of the line `element` starts on, when only whitespace precedes it there. */
function lineIndent(text: string, element: XmlElement): string | undefined {
  let i = element.start;
  while (i > 0) {
    const c = text.charCodeAt(i - 1);
    if (c === 0x0a || c === 0x0d) return text.slice(i, element.start);
    if (c !== 0x20 && c !== 0x09) return undefined;
    i--;
  }
  return text.slice(0, element.start);
}

/** Every prefix used by element and attribute names in the subtree (`""`: unprefixed element). */
function usedPrefixes(element: XmlElement, into: Set<string>): Set<string> {
  const stack: XmlElement[] = [element];
  while (stack.length > 0) {
    const e = stack.pop()!;
    into.add(e.prefix ?? "");
    for (const a of e.attributes) if (a.prefix !== undefined) into.add(a.prefix);
    for (const c of e.children) if (c.kind === "element") stack.push(c);
  }
  return into;
}

/**
 * The namespace declarations to add to an element copied from `origin` so that its names mean
 * in `ctx` what they meant where it came from.
 */
function missingDeclarations(origin: XmlOrigin, ctx: RenderContext): [string, string][] {
  const element = origin.element;
  const inherited = element.parent?.namespaces ?? new Map([["xml", XML_NAMESPACE]]);
  const declaredHere = new Set(element.namespaceDeclarations.map((d) => d.prefix));
  const out: [string, string][] = [];
  for (const prefix of usedPrefixes(element, new Set())) {
    if (prefix === "xml" || declaredHere.has(prefix)) continue;
    const want = inherited.get(prefix) ?? "";
    const have = ctx.ns.get(prefix) ?? "";
    if (want !== have) out.push([prefix, want]);
  }
  return out;
}

function declaration([prefix, uri]: [string, string]): string {
  return (prefix === "" ? " xmlns" : ` xmlns:${prefix}`) + `="${escapeAttribute(uri)}"`;
}

/** The scope inside an element rendered in `ctx` with these declarations. */
function scopeWith(
  ctx: RenderContext,
  declarations: Iterable<readonly [string, string]>,
): Map<string, string> {
  const scope = new Map(ctx.ns);
  for (const [prefix, uri] of declarations) {
    if (uri === "") scope.delete(prefix);
    else scope.set(prefix, uri);
  }
  return scope;
}

function attributeName(plan: AttributePlan): string {
  if (plan.namespace === undefined) return plan.localName;
  if (plan.namespace === XML_NAMESPACE) return "xml:" + plan.localName;
  throw new BuildFailure(`Attribute ${plan.localName} in ${plan.namespace} cannot be written`);
}

function attributeText(plan: AttributePlan, value: string): string {
  const name = attributeName(plan);
  return `${name}="${escapeAttribute(checkChars(value, `The value of attribute ${name}`))}"`;
}

/** Render a planned element: copied where unchanged, spliced where changed, generated if new. */
export function renderElement(plan: ElementPlan, ctx: RenderContext): string {
  return plan.origin === undefined ? generate(plan, ctx) : reconcile(plan, plan.origin, ctx);
}

function generate(plan: ElementPlan, ctx: RenderContext): string {
  let prefix = prefixInScope(ctx.ns, plan.namespace);
  const declarations: [string, string][] = [];
  if (prefix === undefined) {
    prefix = plan.preferredPrefix;
    if (prefix !== "") {
      let n = 1;
      while (ctx.ns.has(prefix)) prefix = `${plan.preferredPrefix}${++n}`;
    }
    declarations.push([prefix, plan.namespace]);
  }
  const name = prefix === "" ? plan.localName : `${prefix}:${plan.localName}`;
  let tag = "<" + name + declarations.map(declaration).join("");
  for (const a of plan.attributes ?? []) {
    if (a.value !== undefined) tag += " " + attributeText(a, a.value);
  }
  const inner: RenderContext = { ...ctx, ns: scopeWith(ctx, declarations) };
  if (plan.text !== undefined) {
    if (plan.text === "") return tag + "/>";
    return tag + ">" + escapeText(checkChars(plan.text, `The text of <${name}>`)) + `</${name}>`;
  }
  const children = plan.children ?? [];
  if (children.length === 0) return tag + "/>";
  if (ctx.indent === undefined) {
    return tag + ">" + children.map((c) => c.render(inner)).join("") + `</${name}>`;
  }
  const childIndent = ctx.indent + ctx.unit;
  const childCtx: RenderContext = { ...inner, indent: childIndent };
  return tag + ">" +
    children.map((c) => ctx.newline + childIndent + c.render(childCtx)).join("") +
    ctx.newline + ctx.indent + `</${name}>`;
}

/** The start tag of `origin` with the planned attributes and added declarations. */
function startTag(
  plan: ElementPlan,
  origin: XmlOrigin,
  added: readonly [string, string][],
  open: boolean,
): string {
  const { element, text } = origin;
  const planned = plan.attributes ?? [];
  const changed = planned.some((a) =>
    findAttribute(element, a.namespace, a.localName)?.value !== a.value
  );
  const verbatim = text.slice(element.start, element.contentStart);
  if (!changed && added.length === 0 && !(open && element.selfClosing)) return verbatim;
  type Item = { start: number; end: number; attribute?: XmlAttribute };
  const items: Item[] = [
    ...element.attributes.map((a) => ({ start: a.start, end: a.end, attribute: a })),
    ...element.namespaceDeclarations.map((d) => ({ start: d.start, end: d.end })),
  ].sort((a, b) => a.start - b.start);
  let out = "<" + element.name;
  let cursor = element.start + 1 + element.name.length;
  const written = new Set<AttributePlan>();
  for (const item of items) {
    const space = text.slice(cursor, item.start);
    cursor = item.end;
    const a = item.attribute;
    const p = a === undefined
      ? undefined
      : planned.find((x) => x.namespace === a.namespace && x.localName === a.localName);
    if (p === undefined || a === undefined) {
      out += space + text.slice(item.start, item.end);
      continue;
    }
    written.add(p);
    if (p.value === undefined) continue;
    out += space + (p.value === a.value ? text.slice(item.start, item.end) : (
      a.name + `="${escapeAttribute(checkChars(p.value, `The value of attribute ${a.name}`))}"`
    ));
  }
  out += added.map(declaration).join("");
  for (const p of planned) {
    if (!written.has(p) && p.value !== undefined) out += " " + attributeText(p, p.value);
  }
  let tail = text.slice(cursor, element.contentStart);
  if (open && element.selfClosing) tail = tail.replace(/\/>$/, ">");
  return out + tail;
}

function isSpaceOnly(node: XmlNode): boolean {
  return node.kind === "text" && /^[ \t\r\n]*$/.test(node.value);
}

/** The longest increasing subsequence of `values` (indices into it). */
function longestIncreasing(values: readonly number[]): Set<number> {
  const tails: number[] = [];
  const previous: number[] = new Array(values.length).fill(-1);
  for (let i = 0; i < values.length; i++) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (values[tails[mid]!]! < values[i]!) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) previous[i] = tails[lo - 1]!;
    tails[lo] = i;
  }
  const out = new Set<number>();
  for (let k = tails.length > 0 ? tails[tails.length - 1]! : -1; k >= 0; k = previous[k]!) {
    out.add(k);
  }
  return out;
}

function reconcile(plan: ElementPlan, origin: XmlOrigin, ctx: RenderContext): string {
  const { element, text } = origin;
  const added = missingDeclarations(origin, ctx);
  const scope = scopeWith(ctx, [
    ...added,
    ...element.namespaceDeclarations.map((d) => [d.prefix, d.uri] as [string, string]),
  ]);
  const indent = lineIndent(text, element) ?? (ctx.indent === undefined ? undefined : ctx.indent);
  const inner: RenderContext = { ...ctx, ns: scope, indent };
  const end = element.selfClosing ? "" : text.slice(element.contentEnd, element.end);
  const close = `</${element.name}>`;

  if (plan.text !== undefined) {
    const same = plan.text === textContent(element);
    const content = same
      ? text.slice(element.contentStart, element.contentEnd)
      : escapeText(checkChars(plan.text, `The text of <${element.name}>`));
    const open = content !== "";
    const tag = startTag(plan, origin, added, open);
    if (element.selfClosing && !open) return tag;
    return tag + content + (element.selfClosing ? close : end);
  }

  const isKnown = plan.isKnown ?? (() => false);
  const children = plan.children ?? [];
  const nodes = element.children;
  const known: XmlElement[] = [];
  for (const n of nodes) if (n.kind === "element" && isKnown(n)) known.push(n);
  const knownIndex = new Map(known.map((k, i) => [k, i]));

  // Match each new child with the known element it came from (the first claim wins).
  const matched: number[] = [];
  const matchedChild: number[] = [];
  const claimed = new Set<number>();
  children.forEach((c, i) => {
    const o = c.origin;
    if (o === undefined || o.text !== text) return;
    const k = knownIndex.get(o.element);
    if (k === undefined || claimed.has(k)) return;
    claimed.add(k);
    matched.push(k);
    matchedChild.push(i);
  });
  // Keep the largest set of matches whose order did not change; others move (copy and remove).
  const kept = longestIncreasing(matched);
  const keptChildOf = new Map<number, number>(); // known index -> child index
  for (const i of kept) keptChildOf.set(matched[i]!, matchedChild[i]!);

  const childIndent = siblingIndent(text, element, inner);
  const sep = childIndent === undefined ? "" : ctx.newline + childIndent;
  const childCtx: RenderContext = { ...inner, indent: childIndent };
  let out = "";
  let next = 0; // next child to emit
  let inserted = 0;
  const emitUpTo = (limit: number) => {
    for (; next < limit; next++, inserted++) out += sep + children[next]!.render(childCtx);
  };
  const lastKnown = known.length > 0 ? nodes.indexOf(known[known.length - 1]!) : -1;
  let insertAt = lastKnown;
  if (lastKnown < 0) {
    // No modelled child yet: new ones go before the trailing whitespace.
    const last = nodes[nodes.length - 1];
    insertAt =
      last !== undefined && isSpaceOnly(last) && /[\r\n]/.test((last as { value: string }).value)
        ? nodes.length - 2
        : nodes.length - 1;
  }
  if (insertAt < 0) emitUpTo(children.length);
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    const k = node.kind === "element" ? knownIndex.get(node) : undefined;
    if (k !== undefined) {
      const child = keptChildOf.get(k);
      if (child !== undefined) {
        emitUpTo(child);
        out += children[child]!.render({ ...childCtx, indent: childIndent });
        next = child + 1;
      }
    } else {
      const following = nodes[i + 1];
      const dropped = isSpaceOnly(node) && following !== undefined &&
        following.kind === "element" && knownIndex.has(following) &&
        !keptChildOf.has(knownIndex.get(following)!);
      if (!dropped) out += text.slice(node.start, node.end);
    }
    if (i === insertAt) emitUpTo(children.length);
  }
  emitUpTo(children.length);

  const original = text.slice(element.contentStart, element.contentEnd);
  const open = out !== "";
  const tag = startTag(plan, origin, added, open);
  if (!open && element.selfClosing) return tag;
  if (inserted > 0 && !/[\r\n][ \t]*$/.test(original)) {
    // A new or formerly empty content: close on its own line when the document is indented.
    const closing = indent !== undefined && sep !== "" ? ctx.newline + indent : "";
    return tag + out + closing + (element.selfClosing ? close : end);
  }
  return tag + out + end;
}

/** The indentation of the element's children: as its children have it, or one step more. */
function siblingIndent(
  text: string,
  element: XmlElement,
  ctx: RenderContext,
): string | undefined {
  for (const c of element.children) {
    if (c.kind !== "element") continue;
    const indent = lineIndent(text, c);
    if (indent !== undefined) return indent;
    return undefined; // children written on the parent's line: keep it compact
  }
  return ctx.indent === undefined ? undefined : ctx.indent + ctx.unit;
}

/** The indentation step a document uses; two spaces when it shows none. */
export function guessIndentUnit(text: string, root: XmlElement): string {
  const rootIndent = lineIndent(text, root) ?? "";
  for (const c of root.children) {
    if (c.kind !== "element") continue;
    const indent = lineIndent(text, c);
    if (
      indent !== undefined && indent.length > rootIndent.length && indent.startsWith(rootIndent)
    ) {
      return indent.slice(rootIndent.length);
    }
  }
  return "  ";
}

/** Options of {@linkcode renderDocument}. */
export interface RenderDocumentOptions {
  /** Namespace prefix declarations for a generated root, beyond its own namespace. */
  readonly declarations?: readonly (readonly [string, string])[];
}

/**
 * Render a whole document from the plan of its root: the prolog and epilog of the origin are
 * kept; a new document gets an XML declaration and two-space indentation.
 */
export function renderDocument(
  plan: ElementPlan,
  options: RenderDocumentOptions = {},
): Result<string, InvalidArgumentError> {
  try {
    const origin = plan.origin;
    if (origin !== undefined) {
      const root = origin.element;
      const ctx: RenderContext = {
        ns: new Map([["xml", XML_NAMESPACE]]),
        indent: lineIndent(origin.text, root) ?? "",
        unit: guessIndentUnit(origin.text, root),
        newline: origin.text.includes("\r\n") ? "\r\n" : "\n",
      };
      const rendered = renderElement(plan, ctx);
      return ok(origin.text.slice(0, root.start) + rendered + origin.text.slice(root.end));
    }
    const extra = options.declarations ?? [];
    const ctx: RenderContext = {
      ns: new Map([["xml", XML_NAMESPACE], ...extra.filter(([p]) => p !== "")]),
      indent: "",
      unit: "  ",
      newline: "\n",
    };
    let rendered = renderElement(plan, ctx);
    // Declare the extra prefixes on the root (they are already in the context).
    const decls = extra.filter(([p]) => p !== "").map(([p, u]) => declaration([p, u])).join("");
    if (decls !== "") rendered = rendered.replace(/^<[^\s/>]+/, (m) => m + decls);
    return ok('<?xml version="1.0" encoding="UTF-8"?>\n' + rendered + "\n");
  } catch (e) {
    if (e instanceof BuildFailure) return err(invalidArgument("value", e.message));
    return err(invalidArgument("value", `Cannot build the document: ${String(e)}`));
  }
}

// ---------------------------------------------------------------------------------------------
// Comparing trees
// ---------------------------------------------------------------------------------------------

/** Options of {@linkcode sameTree}. */
export interface SameTreeOptions {
  /** Ignore text nodes that are only whitespace (indentation). @default true */
  readonly ignoreWhitespace?: boolean;
}

type Flat =
  | { kind: "element"; element: XmlElement }
  | { kind: "text"; value: string }
  | { kind: "comment"; value: string }
  | { kind: "pi"; value: string };

function flatten(element: XmlElement, ignoreWhitespace: boolean): Flat[] {
  const out: Flat[] = [];
  for (const c of element.children) {
    if (c.kind === "text" || c.kind === "cdata") {
      const last = out[out.length - 1];
      if (last?.kind === "text") last.value += c.value;
      else out.push({ kind: "text", value: c.value });
    } else if (c.kind === "element") out.push({ kind: "element", element: c });
    else if (c.kind === "comment") out.push({ kind: "comment", value: c.value });
    else out.push({ kind: "pi", value: `${c.target} ${c.data}` });
  }
  return ignoreWhitespace ? out.filter((f) => f.kind !== "text" || f.value.trim() !== "") : out;
}

/**
 * Whether two elements are the same XML tree: names by namespace URI, attributes as a set of
 * expanded names and values, children in order (adjacent text and CDATA joined; comments and
 * processing instructions by value). Prefixes, quoting and declarations do not matter.
 */
export function sameTree(a: XmlElement, b: XmlElement, options: SameTreeOptions = {}): boolean {
  const ignoreWhitespace = options.ignoreWhitespace ?? true;
  const stack: [XmlElement, XmlElement][] = [[a, b]];
  while (stack.length > 0) {
    const [x, y] = stack.pop()!;
    if (x.namespace !== y.namespace || x.localName !== y.localName) return false;
    if (x.attributes.length !== y.attributes.length) return false;
    for (const at of x.attributes) {
      if (findAttribute(y, at.namespace, at.localName)?.value !== at.value) return false;
    }
    const fx = flatten(x, ignoreWhitespace);
    const fy = flatten(y, ignoreWhitespace);
    if (fx.length !== fy.length) return false;
    for (let i = 0; i < fx.length; i++) {
      const p = fx[i]!;
      const q = fy[i]!;
      if (p.kind !== q.kind) return false;
      if (p.kind === "element") stack.push([p.element, (q as { element: XmlElement }).element]);
      else if (p.value !== (q as { value: string }).value) return false;
    }
  }
  return true;
}
