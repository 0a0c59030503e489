/**
 * Private: turning a document change into the fewest XCAP node operations (RFC 4825 §7.4–§7.9):
 * element PUTs (create or replace) and DELETEs, each with a node selector that selects exactly
 * the element it writes, checked by applying it to a local copy with the same engine the
 * embedded server uses.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import {
  type InternalError,
  internalError,
  invalidArgument,
  type InvalidArgumentError,
} from "../client/errors.ts";
import type {
  NamespaceBindings,
  NodeSelector,
  QualifiedName,
  SelectorStep,
} from "../client/selector.ts";
import type { XmlDocument, XmlElement } from "../xml/document.ts";
import { deleteNode, putNode } from "../xml/edit.ts";
import { attributeValue, childElements, sameTree } from "./_model.ts";
import type { UniquenessConstraint } from "./uniqueness.ts";

/** What a server does with node operations; see {@linkcode RFC_NODE_SUPPORT}. */
export interface NodeSupport {
  /**
   * A new element is inserted where the selector says (RFC 4825 §8.2.3); `false`: the server
   * always appends it as its parent's last child.
   */
  readonly positionalInsert: boolean;
  /** A replaced element stays in place (§8.2.4); `false`: it moves to the end of its parent. */
  readonly inPlaceReplace: boolean;
  /** Prefixed steps with `xmlns()` bindings in the query work (§6.4). */
  readonly prefixedSelectors: boolean;
}

/** One node operation: an element PUT or DELETE. */
export type NodeOperation =
  | {
    /** Create or replace the element the selector selects. */
    readonly method: "PUT";
    /** The node selector. */
    readonly node: NodeSelector;
    /** The element, as `application/xcap-el+xml`. */
    readonly body: string;
    /** Prefix bindings the selector uses (for the `xmlns()` query). */
    readonly namespaces: NamespaceBindings;
  }
  | {
    /** Delete the element the selector selects. */
    readonly method: "DELETE";
    /** The node selector. */
    readonly node: NodeSelector;
    /** Prefix bindings the selector uses. */
    readonly namespaces: NamespaceBindings;
  };

/** The facts of a usage the planner needs. */
export interface PlanUsage {
  /** Unprefixed selector steps are in this namespace. */
  readonly defaultNamespace: string;
  /** Attributes that identify elements among their siblings. */
  readonly uniqueness: readonly UniquenessConstraint[];
  /** Conventional prefixes. */
  readonly prefixes: NamespaceBindings;
}

class NoPlan {
  constructor(readonly reason: string) {}
}

const MAX_ALIGNMENT_CELLS = 4_000_000;

function slice(doc: XmlDocument, e: XmlElement): string {
  return doc.text.slice(e.start, e.end);
}

function sameMap(
  a: ReadonlyMap<string, string> | undefined,
  b: ReadonlyMap<string, string> | undefined,
): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function sameStartTag(a: XmlElement, b: XmlElement): boolean {
  if (a.namespace !== b.namespace || a.localName !== b.localName) return false;
  if (a.attributes.length !== b.attributes.length) return false;
  for (const at of a.attributes) {
    const other = b.attributes.find((x) =>
      x.namespace === at.namespace && x.localName === at.localName
    );
    if (other?.value !== at.value) return false;
  }
  return sameMap(a.namespaces, b.namespaces);
}

/** The non-element content that matters (whitespace-only text left out), as comparable text. */
function otherContent(e: XmlElement): string[] {
  const out: string[] = [];
  for (const c of e.children) {
    if (c.kind === "element") continue;
    if ((c.kind === "text" || c.kind === "cdata") && c.value.trim() === "") continue;
    out.push(
      c.kind === "processing-instruction" ? `pi ${c.target} ${c.data}` : `${c.kind} ${c.value}`,
    );
  }
  return out;
}

/** Indices of a longest common subsequence of two string arrays, as pairs. */
function alignment(a: readonly string[], b: readonly string[]): [number, number][] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const pairs: [number, number][] = [];
  for (let i = 0; i < start; i++) pairs.push([i, i]);
  const n = endA - start;
  const m = endB - start;
  if (n > 0 && m > 0) {
    if (n * m > MAX_ALIGNMENT_CELLS) throw new NoPlan("the change is too large to align");
    const table = new Uint32Array((n + 1) * (m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        table[i * (m + 1) + j] = a[start + i] === b[start + j]
          ? table[(i + 1) * (m + 1) + j + 1]! + 1
          : Math.max(table[(i + 1) * (m + 1) + j]!, table[i * (m + 1) + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (a[start + i] === b[start + j]) {
        pairs.push([start + i, start + j]);
        i++;
        j++;
      } else if (table[(i + 1) * (m + 1) + j]! >= table[i * (m + 1) + j + 1]!) i++;
      else j++;
    }
  }
  for (let k = 0; k < a.length - endA; k++) pairs.push([endA + k, endB + k]);
  return pairs;
}

class Planner {
  current: XmlDocument;
  readonly ops: NodeOperation[] = [];

  constructor(
    readonly usage: PlanUsage,
    readonly before: XmlDocument,
    readonly after: XmlDocument,
    readonly support: NodeSupport,
    readonly limit: number,
  ) {
    this.current = before;
  }

  get context(): Record<string, string> {
    return { "": this.usage.defaultNamespace };
  }

  keyOf(e: XmlElement): [string, string] | undefined {
    for (const u of this.usage.uniqueness) {
      if (u.namespace !== e.namespace || u.localName !== e.localName) continue;
      const value = attributeValue(e, u.attribute);
      if (value !== undefined) return [u.attribute, value];
    }
    return undefined;
  }

  identity(e: XmlElement): string | undefined {
    const key = this.keyOf(e);
    return key === undefined ? undefined : `${e.namespace} ${e.localName} ${key[0]}=${key[1]}`;
  }

  elementAt(doc: XmlDocument, path: readonly number[]): XmlElement {
    let e = doc.root;
    for (const i of path) {
      const next = childElements(e)[i];
      if (next === undefined) throw new NoPlan("lost track of an element while planning");
      e = next;
    }
    return e;
  }

  name(
    e: { namespace?: string | undefined; prefix?: string | undefined },
    bindings: Record<string, string>,
  ): QualifiedName {
    const namespace = e.namespace;
    if (
      namespace === (this.usage.defaultNamespace === "" ? undefined : this.usage.defaultNamespace)
    ) {
      return { local: (e as XmlElement).localName };
    }
    if (namespace === undefined) {
      throw new NoPlan("an element in no namespace cannot be selected in this application usage");
    }
    if (!this.support.prefixedSelectors) {
      throw new NoPlan(
        `the server takes no prefixed selectors, and <${
          (e as XmlElement).localName
        }> is in ${namespace}`,
      );
    }
    let prefix = Object.entries(this.usage.prefixes).find(([p, u]) => p !== "" && u === namespace)
      ?.[0];
    if (
      prefix === undefined || (bindings[prefix] !== undefined && bindings[prefix] !== namespace)
    ) {
      prefix = e.prefix !== undefined && (bindings[e.prefix] ?? namespace) === namespace
        ? e.prefix
        : undefined;
    }
    if (prefix === undefined) {
      let n = 1;
      while (bindings[`ns${n}`] !== undefined && bindings[`ns${n}`] !== namespace) n++;
      prefix = `ns${n}`;
    }
    bindings[prefix] = namespace;
    return { prefix, local: (e as XmlElement).localName };
  }

  /** A step that selects `e` among its siblings (by key, position or name alone). */
  stepFor(
    e: XmlElement,
    bindings: Record<string, string>,
    by: "key" | "position" | "any",
  ): SelectorStep {
    const parent = e.parent;
    if (by === "any" && parent !== undefined) {
      return { position: childElements(parent).indexOf(e) + 1 };
    }
    const name = this.name(e, bindings);
    if (parent === undefined) return { name };
    const siblings = childElements(parent);
    const same = siblings.filter((s) => s.namespace === e.namespace && s.localName === e.localName);
    if (by === "key") {
      const key = this.keyOf(e);
      if (key !== undefined) {
        const unique = same.filter((s) => attributeValue(s, key[0]) === key[1]).length === 1;
        if (unique) return { name, attribute: { name: { local: key[0] }, value: key[1] } };
      }
    }
    return same.length === 1 && by === "key" ? { name } : { name, position: same.indexOf(e) + 1 };
  }

  ancestorsSteps(parent: XmlElement, bindings: Record<string, string>): SelectorStep[] {
    const chain: XmlElement[] = [];
    for (let e: XmlElement | undefined = parent; e !== undefined; e = e.parent) chain.unshift(e);
    return chain.map((e) => this.stepFor(e, bindings, "key"));
  }

  record(op: NodeOperation, next: XmlDocument): void {
    if (this.ops.length >= this.limit) {
      throw new NoPlan(`the change needs more than ${this.limit} node operation(s)`);
    }
    this.ops.push(op);
    this.current = next;
  }

  childTexts(doc: XmlDocument, e: XmlElement): string[] {
    return childElements(e).map((c) => slice(doc, c));
  }

  /** Delete the element at `path`. */
  remove(path: readonly number[]): void {
    const target = this.elementAt(this.current, path);
    const parent = target.parent!;
    const parentPath = path.slice(0, -1);
    const expected = this.childTexts(this.current, parent);
    expected.splice(path[path.length - 1]!, 1);
    for (const by of ["key", "position"] as const) {
      const bindings: Record<string, string> = {};
      const node: NodeSelector = {
        steps: [...this.ancestorsSteps(parent, bindings), this.stepFor(target, bindings, by)],
      };
      const result = deleteNode(this.current, node, { ...bindings, ...this.context });
      if (result.isErr()) continue;
      const newParent = this.elementAt(result.value.document, parentPath);
      if (
        this.childTexts(result.value.document, newParent).join("\u0000") !== expected.join("\u0000")
      ) continue;
      this.record({ method: "DELETE", node, namespaces: bindings }, result.value.document);
      return;
    }
    throw new NoPlan("no node selector deletes exactly the removed element");
  }

  /** Insert `element` (from `after`) as element child `index` of the element at `parentPath`. */
  insert(parentPath: readonly number[], index: number, element: XmlElement): void {
    const parent = this.elementAt(this.current, parentPath);
    const count = childElements(parent).length;
    if (!this.support.positionalInsert && index !== count) {
      throw new NoPlan("the server appends new elements at the end, and this one goes elsewhere");
    }
    const body = slice(this.after, element);
    const expected = this.childTexts(this.current, parent);
    expected.splice(index, 0, body);
    const siblings = childElements(parent);
    const sameBefore =
      siblings.slice(0, index).filter((s) =>
        s.namespace === element.namespace && s.localName === element.localName
      ).length;
    const candidates: ((b: Record<string, string>) => SelectorStep)[] = [
      (b) => {
        const key = this.keyOf(element);
        const name = this.name(element, b);
        return key === undefined
          ? { name }
          : { name, attribute: { name: { local: key[0] }, value: key[1] } };
      },
      // A position alone selects an existing sibling (a PUT would replace it); with the key
      // it selects nothing yet, and the new element goes before that sibling (§8.2.3).
      (b) => {
        const key = this.keyOf(element);
        const name = this.name(element, b);
        return key === undefined ? { name, position: sameBefore + 1 } : {
          name,
          position: sameBefore + 1,
          attribute: { name: { local: key[0] }, value: key[1] },
        };
      },
      () => ({ position: index + 1 }),
    ];
    for (const last of candidates) {
      const bindings: Record<string, string> = {};
      let node: NodeSelector;
      try {
        node = { steps: [...this.ancestorsSteps(parent, bindings), last(bindings)] };
      } catch (e) {
        if (e instanceof NoPlan) continue;
        throw e;
      }
      const result = putNode(this.current, node, { ...bindings, ...this.context }, body);
      if (result.isErr() || !result.value.created) continue;
      const newParent = this.elementAt(result.value.document, parentPath);
      if (
        this.childTexts(result.value.document, newParent).join("\u0000") !== expected.join("\u0000")
      ) continue;
      this.record({ method: "PUT", node, body, namespaces: bindings }, result.value.document);
      return;
    }
    throw new NoPlan("no node selector inserts the new element where it belongs");
  }

  /** Replace the element at `path` with `element` (from `after`). */
  replace(path: readonly number[], element: XmlElement): void {
    if (path.length === 0) throw new NoPlan("the document element changed");
    const target = this.elementAt(this.current, path);
    const parent = target.parent!;
    const siblings = childElements(parent);
    if (!this.support.inPlaceReplace && siblings[siblings.length - 1] !== target) {
      throw new NoPlan("the server moves replaced elements to the end, and this one is not last");
    }
    const body = slice(this.after, element);
    const expected = this.childTexts(this.current, parent);
    expected[path[path.length - 1]!] = body;
    for (const by of ["key", "position", "any"] as const) {
      const bindings: Record<string, string> = {};
      let node: NodeSelector;
      try {
        node = {
          steps: [...this.ancestorsSteps(parent, bindings), this.stepFor(target, bindings, by)],
        };
      } catch (e) {
        if (e instanceof NoPlan) continue;
        throw e;
      }
      const result = putNode(this.current, node, { ...bindings, ...this.context }, body);
      if (result.isErr() || result.value.created) continue;
      const newParent = this.elementAt(result.value.document, path.slice(0, -1));
      if (
        this.childTexts(result.value.document, newParent).join("\u0000") !== expected.join("\u0000")
      ) continue;
      this.record({ method: "PUT", node, body, namespaces: bindings }, result.value.document);
      return;
    }
    throw new NoPlan("no node selector replaces exactly the changed element");
  }

  diff(path: readonly number[], oldElement: XmlElement, newElement: XmlElement): void {
    if (
      slice(this.before, oldElement) === slice(this.after, newElement) &&
      sameMap(oldElement.namespaces, newElement.namespaces)
    ) {
      return;
    }
    if (!sameStartTag(oldElement, newElement)) {
      this.replace(path, newElement);
      return;
    }
    if (otherContent(oldElement).join("\u0000") !== otherContent(newElement).join("\u0000")) {
      this.replace(path, newElement);
      return;
    }
    const olds = childElements(oldElement);
    const news = childElements(newElement);
    const anchors = alignment(
      olds.map((e) => slice(this.before, e)),
      news.map((e) => slice(this.after, e)),
    );
    // Pair the unmatched elements of each gap by identity (key attribute), then by name.
    const pairs: [number, number][] = [];
    let previous: [number, number] = [-1, -1];
    for (const anchor of [...anchors, [olds.length, news.length] as [number, number]]) {
      const gapOld: number[] = [];
      const gapNew: number[] = [];
      for (let i = previous[0] + 1; i < anchor[0]; i++) gapOld.push(i);
      for (let j = previous[1] + 1; j < anchor[1]; j++) gapNew.push(j);
      const used = new Set<number>();
      const gapPairs: [number, number][] = [];
      for (const j of gapNew) {
        const id = this.identity(news[j]!);
        if (id === undefined) continue;
        const i = gapOld.find((i) => !used.has(i) && this.identity(olds[i]!) === id);
        if (i !== undefined) {
          used.add(i);
          gapPairs.push([i, j]);
        }
      }
      // Then by name: an element whose key changed (a renamed list) is replaced in place.
      for (const j of gapNew) {
        if (gapPairs.some((p) => p[1] === j)) continue;
        const n = news[j]!;
        const keyed = this.identity(n) !== undefined;
        const i = gapOld.find((i) =>
          !used.has(i) && (this.identity(olds[i]!) !== undefined) === keyed &&
          !gapNew.some((k) =>
            this.identity(news[k]!) !== undefined &&
            this.identity(news[k]!) === this.identity(olds[i]!)
          ) &&
          olds[i]!.namespace === n.namespace && olds[i]!.localName === n.localName
        );
        if (i !== undefined) {
          used.add(i);
          gapPairs.push([i, j]);
        }
      }
      // Keep only pairs whose order agrees in both documents.
      gapPairs.sort((a, b) => a[1] - b[1]);
      let lastOld = -1;
      for (const p of gapPairs) {
        if (p[0] > lastOld) {
          pairs.push(p);
          lastOld = p[0];
        }
      }
      previous = anchor;
    }
    const keptOld = new Set([...anchors.map((a) => a[0]), ...pairs.map((p) => p[0])]);
    const keptNew = new Set([...anchors.map((a) => a[1]), ...pairs.map((p) => p[1])]);
    for (let i = olds.length - 1; i >= 0; i--) if (!keptOld.has(i)) this.remove([...path, i]);
    for (let j = 0; j < news.length; j++) {
      if (!keptNew.has(j)) this.insert(path, j, news[j]!);
    }
    for (const [i, j] of pairs.sort((a, b) => a[1] - b[1])) {
      this.diff([...path, j], olds[i]!, news[j]!);
    }
  }
}

/** Options of {@linkcode planNodeOperations}. */
export interface PlanOptions {
  /** What the server does with node operations. */
  readonly support: NodeSupport;
  /** Give up when more operations than this are needed. @default Infinity */
  readonly maxOperations?: number;
}

/**
 * The node operations that turn `before` into `after`, or why there are none: each one is
 * checked on a local copy, and the result must be the same tree as `after`.
 */
export function planNodeOperations(
  usage: PlanUsage,
  before: XmlDocument,
  after: XmlDocument,
  options: PlanOptions,
): Result<readonly NodeOperation[], InvalidArgumentError | InternalError> {
  const planner = new Planner(
    usage,
    before,
    after,
    options.support,
    options.maxOperations ?? Infinity,
  );
  try {
    if (!sameStartTag(before.root, after.root)) throw new NoPlan("the document element changed");
    if (otherContent(before.root).join("\u0000") !== otherContent(after.root).join("\u0000")) {
      throw new NoPlan("text or comments directly inside the document element changed");
    }
    planner.diff([], before.root, after.root);
    if (!sameTree(planner.current.root, after.root)) {
      throw new NoPlan("the node operations would not give the same document");
    }
    return ok(planner.ops);
  } catch (e) {
    if (e instanceof NoPlan) {
      return err(invalidArgument("change", `No node operations express the change: ${e.reason}`));
    }
    return err(internalError("Cannot plan node operations for the change", e));
  }
}
