/**
 * A compiler for the subset of XML Schema 1.0 (XSD Part 1) that the XCAP application usages'
 * schemas use, into declarations, types and content-model automata that `_xsd_validate.ts`
 * checks our own parsed documents against (no second parser, no serialization).
 *
 * Supported: `import` and `include` (also "chameleon" includes without a target namespace)
 * resolved from a map of file texts; global and local `element` (`name`/`type`/`ref`, anonymous
 * types, `form`, `elementFormDefault`); `complexType` with `sequence`, `choice`, `any`
 * (`##any`, `##other`, `##targetNamespace`, `##local`, URI lists; `processContents`), `mixed`,
 * `complexContent` `restriction` (of `xs:anyType`) and `extension`, `simpleContent`
 * `extension`; `attribute` (`name`/`type`/`ref`, `use`, `fixed`), `attributeGroup`,
 * `anyAttribute`; `simpleType` restriction (enumeration, pattern, length facets, whiteSpace),
 * union and list. Anything else (`group`, `all`, substitution groups, identity constraints,
 * `redefine`, ...) is refused when the schema is compiled, so a schema this compiler cannot
 * fully honour never validates half-way; the tests compile every schema the server ships.
 *
 * Content models become Thompson automata over element declarations and wildcards, turned
 * into deterministic states lazily: each state precomputes its moves for the (finitely many)
 * declared element names, and caches wildcard moves by which wildcards matched, so documents
 * cannot grow the cache with names of their own.
 *
 * Pure: Web APIs only. Not exported from the package.
 *
 * @module
 */
import { parseXmlDocument, type XmlElement } from "../xml/document.ts";
import {
  BUILT_IN_SIMPLE_TYPES,
  type Facets,
  listSimpleType,
  restrictSimpleType,
  type SimpleType,
  unionSimpleType,
  type WhiteSpace,
  XS,
} from "./_xsd_simple.ts";

/** The key of a namespace-qualified name, in Clark notation: `{ns}local` or `local`. */
export function nameKey(namespace: string | undefined, local: string): string {
  return namespace === undefined ? local : `{${namespace}}${local}`;
}

/** A namespace constraint of a wildcard (XSD Part 1 §3.10). */
export interface Wildcard {
  /** Whether an element or attribute in `namespace` (absent: none) matches. */
  allows(namespace: string | undefined): boolean;
  /** What happens to what matched (XSD Part 1 §3.10.1). */
  readonly process: "strict" | "lax" | "skip";
  /** For messages: "any element from a namespace other than urn:…". */
  readonly description: string;
}

/** An element declaration. */
export interface ElementDeclaration {
  /** The local name. */
  readonly localName: string;
  /** The namespace; absent for an unqualified local element. */
  readonly namespace: string | undefined;
  /** `nameKey(namespace, localName)`. */
  readonly key: string;
  /** The element's type (resolved on first use, so recursive types work). */
  type(): TypeDefinition;
}

/** An attribute declaration. */
export interface AttributeDeclaration {
  /** The local name. */
  readonly localName: string;
  /** The namespace; absent for an unqualified attribute. */
  readonly namespace: string | undefined;
  /** `nameKey(namespace, localName)`. */
  readonly key: string;
  /** The attribute's simple type. */
  type(): SimpleType;
  /** The only value allowed, when fixed. */
  readonly fixed?: string;
}

/** An attribute as a complex type uses it. */
export interface AttributeUse {
  /** The declaration. */
  readonly declaration: AttributeDeclaration;
  /** Whether the attribute must be present. */
  readonly required: boolean;
}

/** A term of a content model: what one child element can match. */
export type Term =
  | { readonly kind: "element"; readonly declaration: ElementDeclaration }
  | { readonly kind: "wildcard"; readonly wildcard: Wildcard };

type ElementTerm = Extract<Term, { readonly kind: "element" }>;

/** One state of a content model's deterministic automaton. */
export interface ContentState {
  /** Whether the content may end here. */
  readonly accepting: boolean;
  /** What may come next, for messages. */
  readonly expected: readonly Term[];
  /**
   * The move for a child element, or `undefined` when the content model does not allow it
   * here.
   */
  step(namespace: string | undefined, localName: string): ContentStep | undefined;
}

/** A move of a content automaton: the next state and the term the child matched. */
export interface ContentStep {
  /** The state after the child. */
  readonly next: ContentState;
  /** What the child matched. */
  readonly term: Term;
}

/** What a complex type allows as content (XSD Part 1 §3.4.1 {content type}). */
export type ContentType =
  | { readonly kind: "empty" }
  | { readonly kind: "simple"; readonly type: SimpleType }
  | { readonly kind: "elements"; readonly mixed: boolean; start(): ContentState };

/** A complex type. */
export interface ComplexType {
  /** Discriminant. */
  readonly kind: "complex";
  /** A name for messages. */
  readonly name: string;
  /** The declared attributes by key. */
  readonly attributes: ReadonlyMap<string, AttributeUse>;
  /** How many of `attributes` are required. */
  readonly requiredAttributes: number;
  /** The attribute wildcard, if any. */
  readonly anyAttribute: Wildcard | undefined;
  /** The content. */
  readonly content: ContentType;
}

/** A simple or complex type. */
export type TypeDefinition = SimpleType | ComplexType;

/** A compiled set of schemas: the global declarations a document is validated against. */
export interface CompiledSchema {
  /** Global element declarations by key. */
  readonly elements: ReadonlyMap<string, ElementDeclaration>;
  /** Global attribute declarations by key (for lax wildcards). */
  readonly attributes: ReadonlyMap<string, AttributeDeclaration>;
  /** `xs:anyType`: what an element matched by a lax wildcard without a declaration has. */
  readonly anyType: ComplexType;
  /**
   * How many automaton states and cached moves exist so far: bounded by the schemas, whatever
   * the documents validated (for tests).
   */
  cachedStates(): number;
}

// ---------------------------------------------------------------------------------------------
// Particles and automata
// ---------------------------------------------------------------------------------------------

type Particle =
  | { readonly kind: "term"; readonly term: Term; readonly min: number; readonly max: number }
  | {
    readonly kind: "sequence" | "choice";
    readonly items: readonly Particle[];
    readonly min: number;
    readonly max: number;
  };

/** A nondeterministic automaton with ε-moves (Thompson's construction). */
class Nfa {
  readonly epsilon: number[][] = [];
  readonly moves: { term: Term; to: number }[][] = [];

  state(): number {
    this.epsilon.push([]);
    this.moves.push([]);
    return this.epsilon.length - 1;
  }

  /** Add `particle` starting at `from`; returns the state where it ends. */
  add(particle: Particle, from: number): number {
    let at = from;
    for (let i = 0; i < particle.min; i++) at = this.once(particle, at);
    if (particle.max === Infinity) {
      const loop = this.state();
      this.epsilon[at]!.push(loop);
      const end = this.once(particle, loop);
      this.epsilon[end]!.push(loop);
      return loop;
    }
    for (let i = particle.min; i < particle.max; i++) {
      const end = this.once(particle, at);
      this.epsilon[at]!.push(end);
      at = end;
    }
    return at;
  }

  once(particle: Particle, from: number): number {
    switch (particle.kind) {
      case "term": {
        const to = this.state();
        this.moves[from]!.push({ term: particle.term, to });
        return to;
      }
      case "sequence": {
        let at = from;
        for (const item of particle.items) at = this.add(item, at);
        return at;
      }
      case "choice": {
        const end = this.state();
        if (particle.items.length === 0) return end; // an empty choice matches nothing
        for (const item of particle.items) this.epsilon[this.add(item, from)]!.push(end);
        return end;
      }
    }
  }

  closure(states: Iterable<number>): number[] {
    const seen = new Set<number>();
    const stack = [...states];
    while (stack.length > 0) {
      const s = stack.pop()!;
      if (seen.has(s)) continue;
      seen.add(s);
      for (const t of this.epsilon[s]!) stack.push(t);
    }
    return [...seen].sort((a, b) => a - b);
  }
}

/** The deterministic automaton of a particle, built state by state as documents need it. */
/** Cached states and wildcard moves of every automaton built so far, per compiled schema set. */
type CacheCounter = { count: number };

function contentAutomaton(particle: Particle, cache: CacheCounter): () => ContentState {
  const nfa = new Nfa();
  const start = nfa.state();
  const end = nfa.add(particle, start);
  const states = new Map<string, ContentState>();

  function dfaState(nfaStates: readonly number[]): ContentState {
    const id = nfaStates.join(",");
    const known = states.get(id);
    if (known !== undefined) return known;
    const byKey = new Map<string, { term: ElementTerm; targets: number[] }>();
    const wildcards: { wildcard: Wildcard; targets: number[] }[] = [];
    const expected: Term[] = [];
    for (const s of nfaStates) {
      for (const { term, to } of nfa.moves[s]!) {
        if (term.kind === "element") {
          const entry = byKey.get(term.declaration.key);
          if (entry === undefined) {
            byKey.set(term.declaration.key, { term, targets: [to] });
            expected.push(term);
          } else entry.targets.push(to);
        } else {
          const entry = wildcards.find((w) => w.wildcard === term.wildcard);
          if (entry === undefined) {
            wildcards.push({ wildcard: term.wildcard, targets: [to] });
            expected.push(term);
          } else entry.targets.push(to);
        }
      }
    }
    // By namespace, then local name: no key string is built per child.
    const elementSteps = new Map<string | undefined, Map<string, ContentStep>>();
    const wildcardSteps = new Map<string, ContentStep | undefined>();
    const state: ContentState = {
      accepting: nfaStates.includes(end),
      expected,
      step(namespace, localName) {
        const cached = elementSteps.get(namespace)?.get(localName);
        if (cached !== undefined) return cached;
        // Which wildcards match depends only on the namespace; cache by the matching set, which
        // is bounded by the schema, never by the document's names.
        const matching: number[] = [];
        for (let i = 0; i < wildcards.length; i++) {
          if (wildcards[i]!.wildcard.allows(namespace)) matching.push(i);
        }
        if (matching.length === 0) return undefined;
        const id = matching.join(",");
        if (wildcardSteps.has(id)) return wildcardSteps.get(id);
        const targets = matching.flatMap((i) => wildcards[i]!.targets);
        const result = {
          next: dfaState(nfa.closure(targets)),
          term: { kind: "wildcard" as const, wildcard: wildcards[matching[0]!]!.wildcard },
        };
        wildcardSteps.set(id, result);
        cache.count++;
        return result;
      },
    };
    states.set(id, state);
    cache.count++;
    for (const { term, targets } of byKey.values()) {
      // Element names that a wildcard of this state also matches move through both (an NFA
      // step); schemas that obey Unique Particle Attribution never have such overlaps.
      const extra = wildcards.filter((w) => w.wildcard.allows(namespaceOf(term)));
      const all = [...targets, ...extra.flatMap((w) => w.targets)];
      const { namespace, localName } = term.declaration;
      let byName = elementSteps.get(namespace);
      if (byName === undefined) elementSteps.set(namespace, byName = new Map());
      byName.set(localName, { next: dfaState(nfa.closure(all)), term });
    }
    return state;
  }

  let initial: ContentState | undefined;
  return () => initial ??= dfaState(nfa.closure([start]));
}

function namespaceOf(term: Term): string | undefined {
  return term.kind === "element" ? term.declaration.namespace : undefined;
}

// ---------------------------------------------------------------------------------------------
// Compilation
// ---------------------------------------------------------------------------------------------

/** Why a schema cannot be compiled (a bug in the schema or a construct not supported). */
export class SchemaCompileError extends Error {
  override name = "SchemaCompileError";
}

function fail(message: string): never {
  throw new SchemaCompileError(message);
}

/** One schema document with the namespace its components go into. */
interface SchemaDocument {
  readonly file: string;
  readonly root: XmlElement;
  /** The target namespace (a chameleon include takes its includer's). */
  readonly targetNamespace: string | undefined;
  /** Whether unprefixed references without a default namespace go into the target namespace. */
  readonly chameleon: boolean;
  readonly elementQualified: boolean;
  readonly attributeQualified: boolean;
}

interface Definition {
  readonly doc: SchemaDocument;
  readonly element: XmlElement;
}

function xsChildren(element: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (const child of element.children) {
    if (child.kind !== "element") continue;
    if (child.namespace !== XS) {
      fail(`<${child.name}> inside <${element.name}> is not an XML Schema element`);
    }
    if (child.localName !== "annotation") out.push(child);
  }
  return out;
}

function attr(element: XmlElement, name: string): string | undefined {
  return element.attributes.find((a) => a.namespace === undefined && a.localName === name)?.value;
}

function occurs(element: XmlElement): { min: number; max: number } {
  const minText = attr(element, "minOccurs") ?? "1";
  const maxText = attr(element, "maxOccurs") ?? "1";
  const min = Number(minText);
  const max = maxText === "unbounded" ? Infinity : Number(maxText);
  if (!Number.isInteger(min) || min < 0 || !(max >= min) || (max !== Infinity && max > 1000)) {
    fail(`<${element.name}> has unsupported occurrence bounds ${minText}..${maxText}`);
  }
  return { min, max };
}

/**
 * Compile schema documents: `files` maps each `schemaLocation` to its text; `roots` names the
 * files whose components (and everything they import or include) make up the set.
 *
 * @throws {SchemaCompileError} when a schema is malformed or uses something not supported.
 */
export function compileSchemas(
  files: Readonly<Record<string, string>>,
  roots: readonly string[],
): CompiledSchema {
  const cache: CacheCounter = { count: 0 };
  const types = new Map<string, Definition>();
  const elementDefs = new Map<string, Definition>();
  const attributeDefs = new Map<string, Definition>();
  const attributeGroups = new Map<string, Definition>();
  const loaded = new Set<string>();

  function load(file: string, includer: SchemaDocument | undefined, namespace?: string): void {
    const text = files[file];
    if (text === undefined) fail(`the schema file ${file} is not available`);
    const parsed = parseXmlDocument(text, { maxDepth: 64, maxElements: 10_000 });
    if (parsed.isErr()) fail(`${file} is not well-formed: ${parsed.error.phrase ?? ""}`);
    const root = parsed.value.root;
    if (root.namespace !== XS || root.localName !== "schema") fail(`${file} is not a schema`);
    const own = attr(root, "targetNamespace");
    const chameleon = includer !== undefined && own === undefined;
    const targetNamespace = chameleon ? includer.targetNamespace : own;
    if (includer !== undefined && !chameleon && own !== includer.targetNamespace) {
      fail(`${file} is included into another target namespace`);
    }
    if (namespace !== undefined && own !== namespace) {
      fail(`${file} is imported for namespace ${namespace} but targets ${own ?? "none"}`);
    }
    const id = `${file}|${targetNamespace ?? ""}`;
    if (loaded.has(id)) return;
    loaded.add(id);
    const doc: SchemaDocument = {
      file,
      root,
      targetNamespace,
      chameleon,
      elementQualified: attr(root, "elementFormDefault") === "qualified",
      attributeQualified: attr(root, "attributeFormDefault") === "qualified",
    };
    for (const child of xsChildren(root)) {
      const name = attr(child, "name");
      const key = name === undefined ? "" : nameKey(targetNamespace, name);
      switch (child.localName) {
        case "import": {
          const location = attr(child, "schemaLocation");
          if (location === undefined) fail(`an import in ${file} has no schemaLocation`);
          load(location, undefined, attr(child, "namespace"));
          break;
        }
        case "include": {
          const location = attr(child, "schemaLocation");
          if (location === undefined) fail(`an include in ${file} has no schemaLocation`);
          load(location, doc);
          break;
        }
        case "element":
          define(elementDefs, key, doc, child);
          break;
        case "attribute":
          define(attributeDefs, key, doc, child);
          break;
        case "complexType":
        case "simpleType":
          define(types, key, doc, child);
          break;
        case "attributeGroup":
          define(attributeGroups, key, doc, child);
          break;
        default:
          fail(`<xs:${child.localName}> in ${file} is not supported`);
      }
    }
  }

  function define(
    into: Map<string, Definition>,
    key: string,
    doc: SchemaDocument,
    element: XmlElement,
  ): void {
    if (key === "") fail(`a global <${element.name}> in ${doc.file} has no name`);
    if (into.has(key)) fail(`${key} is defined twice`);
    into.set(key, { doc, element });
  }

  /** Resolve a QName-valued schema attribute (`type`, `ref`, `base`, `memberTypes` items). */
  function qname(doc: SchemaDocument, context: XmlElement, value: string): string {
    const colon = value.indexOf(":");
    const prefix = colon < 0 ? "" : value.slice(0, colon);
    const local = colon < 0 ? value : value.slice(colon + 1);
    let namespace = context.namespaces.get(prefix);
    if (colon >= 0 && namespace === undefined) fail(`the prefix of ${value} is not declared`);
    if (namespace === undefined && doc.chameleon) namespace = doc.targetNamespace;
    return nameKey(namespace, local);
  }

  // Resolved components, memoized (recursion through lazy element types only).
  const typeCache = new Map<string, TypeDefinition | "pending">();
  const elementCache = new Map<string, ElementDeclaration>();
  const attributeCache = new Map<string, AttributeDeclaration>();

  function typeByName(key: string): TypeDefinition {
    if (key.startsWith(`{${XS}}`)) {
      const local = key.slice(XS.length + 2);
      if (local === "anyType") return anyType;
      const builtIn = BUILT_IN_SIMPLE_TYPES.get(local);
      if (builtIn === undefined) fail(`the built-in type xs:${local} is not supported`);
      return builtIn;
    }
    const cached = typeCache.get(key);
    if (cached === "pending") fail(`the type ${key} is derived from itself`);
    if (cached !== undefined) return cached;
    const def = types.get(key);
    if (def === undefined) fail(`the type ${key} is not defined`);
    typeCache.set(key, "pending");
    const type = def.element.localName === "complexType"
      ? complexType(def.doc, def.element, key)
      : simpleType(def.doc, def.element, key);
    typeCache.set(key, type);
    return type;
  }

  function simpleTypeByName(key: string): SimpleType {
    const type = typeByName(key);
    if (type.kind !== "simple") fail(`${key} is a complex type where a simple type is needed`);
    return type;
  }

  function simpleType(doc: SchemaDocument, element: XmlElement, name: string): SimpleType {
    const [body, ...rest] = xsChildren(element);
    if (body === undefined || rest.length > 0) fail(`the simple type ${name} is malformed`);
    switch (body.localName) {
      case "restriction":
        return restriction(doc, body, name);
      case "union": {
        const members = (attr(body, "memberTypes") ?? "").split(/\s+/).filter((m) => m !== "")
          .map((m) => simpleTypeByName(qname(doc, body, m)));
        for (const inline of xsChildren(body)) {
          if (inline.localName !== "simpleType") fail(`<xs:${inline.localName}> in a union`);
          members.push(simpleType(doc, inline, `a member of ${name}`));
        }
        return unionSimpleType(name, members);
      }
      case "list": {
        const itemType = attr(body, "itemType");
        const inline = xsChildren(body)[0];
        const item = itemType !== undefined
          ? simpleTypeByName(qname(doc, body, itemType))
          : inline !== undefined
          ? simpleType(doc, inline, `the item type of ${name}`)
          : fail(`the list type ${name} has no item type`);
        return listSimpleType(name, item);
      }
      default:
        return fail(`<xs:${body.localName}> in the simple type ${name} is not supported`);
    }
  }

  function restriction(doc: SchemaDocument, element: XmlElement, name: string): SimpleType {
    const baseName = attr(element, "base");
    let base: SimpleType | undefined = baseName === undefined
      ? undefined
      : simpleTypeByName(qname(doc, element, baseName));
    const enumeration: string[] = [];
    const patterns: string[] = [];
    const facets: { -readonly [K in keyof Facets]?: Facets[K] } = {};
    for (const facet of xsChildren(element)) {
      const value = attr(facet, "value");
      if (facet.localName === "simpleType") {
        base = simpleType(doc, facet, `the base of ${name}`);
        continue;
      }
      if (value === undefined) fail(`the facet <xs:${facet.localName}> of ${name} has no value`);
      switch (facet.localName) {
        case "enumeration":
          enumeration.push(value);
          break;
        case "pattern":
          patterns.push(value);
          break;
        case "length":
        case "minLength":
        case "maxLength":
          facets[facet.localName] = Number(value);
          break;
        case "whiteSpace":
          facets.whiteSpace = value as WhiteSpace;
          break;
        default:
          fail(`the facet <xs:${facet.localName}> of ${name} is not supported`);
      }
    }
    if (base === undefined) fail(`the restriction ${name} has no base type`);
    try {
      return restrictSimpleType(name, base, { ...facets, enumeration, patterns });
    } catch (e) {
      return fail(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  function attributeUses(
    doc: SchemaDocument,
    holder: XmlElement,
    into: Map<string, AttributeUse>,
  ): Wildcard | undefined {
    let wildcard: Wildcard | undefined;
    for (const child of xsChildren(holder)) {
      if (child.localName === "attribute") {
        const use = attr(child, "use") ?? "optional";
        if (use === "prohibited") continue;
        const declaration = localAttribute(doc, child);
        into.set(declaration.key, { declaration, required: use === "required" });
      } else if (child.localName === "attributeGroup") {
        const ref = attr(child, "ref");
        if (ref === undefined) fail(`a local attributeGroup in ${doc.file} has no ref`);
        const key = qname(doc, child, ref);
        const def = attributeGroups.get(key);
        if (def === undefined) fail(`the attribute group ${key} is not defined`);
        const inner = attributeUses(def.doc, def.element, into);
        if (inner !== undefined) wildcard = inner;
      } else if (child.localName === "anyAttribute") {
        wildcard = wildcardOf(doc, child, "attribute");
      }
    }
    return wildcard;
  }

  function localAttribute(doc: SchemaDocument, element: XmlElement): AttributeDeclaration {
    const ref = attr(element, "ref");
    if (ref !== undefined) return globalAttribute(qname(doc, element, ref));
    const name = attr(element, "name");
    if (name === undefined) fail(`an attribute in ${doc.file} has neither name nor ref`);
    const form = attr(element, "form");
    const qualified = form === undefined ? doc.attributeQualified : form === "qualified";
    return attributeDeclaration(doc, element, qualified ? doc.targetNamespace : undefined, name);
  }

  function globalAttribute(key: string): AttributeDeclaration {
    const cached = attributeCache.get(key);
    if (cached !== undefined) return cached;
    const def = attributeDefs.get(key);
    if (def === undefined) fail(`the attribute ${key} is not declared`);
    const name = attr(def.element, "name")!;
    const declaration = attributeDeclaration(def.doc, def.element, def.doc.targetNamespace, name);
    attributeCache.set(key, declaration);
    return declaration;
  }

  function attributeDeclaration(
    doc: SchemaDocument,
    element: XmlElement,
    namespace: string | undefined,
    localName: string,
  ): AttributeDeclaration {
    const typeName = attr(element, "type");
    const inline = xsChildren(element).find((c) => c.localName === "simpleType");
    const label = `the type of the attribute ${localName}`;
    let type: SimpleType | undefined;
    const fixed = attr(element, "fixed");
    return {
      localName,
      namespace,
      key: nameKey(namespace, localName),
      ...(fixed === undefined ? {} : { fixed }),
      type: () =>
        type ??= typeName !== undefined
          ? simpleTypeByName(qname(doc, element, typeName))
          : inline !== undefined
          ? simpleType(doc, inline, label)
          : BUILT_IN_SIMPLE_TYPES.get("anySimpleType")!,
    };
  }

  function globalElement(key: string): ElementDeclaration {
    const cached = elementCache.get(key);
    if (cached !== undefined) return cached;
    const def = elementDefs.get(key);
    if (def === undefined) fail(`the element ${key} is not declared`);
    const declaration = elementDeclaration(
      def.doc,
      def.element,
      def.doc.targetNamespace,
      attr(def.element, "name")!,
    );
    elementCache.set(key, declaration);
    return declaration;
  }

  function elementDeclaration(
    doc: SchemaDocument,
    element: XmlElement,
    namespace: string | undefined,
    localName: string,
  ): ElementDeclaration {
    for (const unsupported of ["substitutionGroup", "abstract", "nillable", "fixed"]) {
      if (attr(element, unsupported) !== undefined && attr(element, unsupported) !== "false") {
        fail(`the element ${localName} in ${doc.file}: "${unsupported}" is not supported`);
      }
    }
    const typeName = attr(element, "type");
    const inline = xsChildren(element);
    for (const child of inline) {
      if (child.localName !== "complexType" && child.localName !== "simpleType") {
        fail(`<xs:${child.localName}> in the element ${localName} is not supported`);
      }
    }
    let type: TypeDefinition | undefined;
    const label = `the type of <${localName}>`;
    return {
      localName,
      namespace,
      key: nameKey(namespace, localName),
      type: () => {
        if (type !== undefined) return type;
        const body = inline[0];
        type = typeName !== undefined
          ? typeByName(qname(doc, element, typeName))
          : body === undefined
          ? anyType
          : body.localName === "complexType"
          ? complexType(doc, body, label)
          : simpleType(doc, body, label);
        return type;
      },
    };
  }

  function wildcardOf(
    doc: SchemaDocument,
    element: XmlElement,
    what: "element" | "attribute",
  ): Wildcard {
    const spec = attr(element, "namespace") ?? "##any";
    const process = (attr(element, "processContents") ?? "strict") as Wildcard["process"];
    const target = doc.targetNamespace;
    const thing = what === "element" ? "element" : "attribute";
    if (spec === "##any") {
      return { allows: () => true, process, description: `any ${thing}` };
    }
    if (spec === "##other") {
      // XSD Part 1 §3.10.4: "not" the target namespace, and not absent.
      return {
        allows: (ns) => ns !== undefined && ns !== target,
        process,
        description: `any ${thing} from a namespace other than ${target ?? "none"}`,
      };
    }
    const allowed = new Set<string | undefined>();
    for (const item of spec.split(/\s+/).filter((s) => s !== "")) {
      allowed.add(
        item === "##targetNamespace" ? target : item === "##local" ? undefined : item,
      );
    }
    const names = [...allowed].map((n) => n ?? "no namespace").join(" or ");
    return { allows: (ns) => allowed.has(ns), process, description: `an ${thing} in ${names}` };
  }

  function particle(doc: SchemaDocument, element: XmlElement): Particle {
    const { min, max } = occurs(element);
    switch (element.localName) {
      case "sequence":
      case "choice":
        return {
          kind: element.localName,
          items: xsChildren(element).map((c) => particle(doc, c)),
          min,
          max,
        };
      case "any":
        return {
          kind: "term",
          term: { kind: "wildcard", wildcard: wildcardOf(doc, element, "element") },
          min,
          max,
        };
      case "element": {
        const ref = attr(element, "ref");
        let declaration: ElementDeclaration;
        if (ref !== undefined) declaration = globalElement(qname(doc, element, ref));
        else {
          const name = attr(element, "name");
          if (name === undefined) fail(`a local element in ${doc.file} has no name`);
          const form = attr(element, "form");
          const qualified = form === undefined ? doc.elementQualified : form === "qualified";
          declaration = elementDeclaration(
            doc,
            element,
            qualified ? doc.targetNamespace : undefined,
            name,
          );
        }
        return { kind: "term", term: { kind: "element", declaration }, min, max };
      }
      default:
        return fail(`<xs:${element.localName}> in a content model is not supported`);
    }
  }

  function isParticle(element: XmlElement): boolean {
    return element.localName === "sequence" || element.localName === "choice";
  }

  function elementsContent(particles: readonly Particle[], mixed: boolean): ContentType {
    if (particles.length === 0) return mixed ? elementsOf(undefined, true) : { kind: "empty" };
    const whole: Particle = particles.length === 1
      ? particles[0]!
      : { kind: "sequence", items: particles, min: 1, max: 1 };
    return elementsOf(whole, mixed);
  }

  function elementsOf(whole: Particle | undefined, mixed: boolean): ContentType {
    const start = contentAutomaton(
      whole ?? { kind: "sequence", items: [], min: 1, max: 1 },
      cache,
    );
    return { kind: "elements", mixed, start };
  }

  /** The particle a complex type's content came from, kept for extensions of it. */
  const particles = new WeakMap<ComplexType, Particle | undefined>();

  function complexType(doc: SchemaDocument, element: XmlElement, name: string): ComplexType {
    const mixed = attr(element, "mixed") === "true";
    const children = xsChildren(element);
    const attributes = new Map<string, AttributeUse>();
    const first = children[0];
    if (first?.localName === "complexContent" || first?.localName === "simpleContent") {
      const derivation = xsChildren(first)[0];
      if (derivation === undefined) fail(`${name} has an empty <xs:${first.localName}>`);
      const baseName = attr(derivation, "base");
      if (baseName === undefined) fail(`the derivation of ${name} has no base`);
      const base = typeByName(qname(doc, derivation, baseName));
      const own = xsChildren(derivation).filter(isParticle).map((p) => particle(doc, p));
      const ownWildcard = attributeUses(doc, derivation, attributes);
      if (first.localName === "simpleContent") {
        if (derivation.localName !== "extension") fail(`${name}: simpleContent restriction`);
        const contentType = base.kind === "simple"
          ? base
          : base.content.kind === "simple"
          ? base.content.type
          : fail(`${name} extends ${base.name}, which has no simple content`);
        const inherited = base.kind === "complex" ? base.attributes : new Map();
        const merged = new Map([...inherited, ...attributes]);
        const anyAttribute = ownWildcard ??
          (base.kind === "complex" ? base.anyAttribute : undefined);
        return complex(name, merged, anyAttribute, { kind: "simple", type: contentType }, own[0]);
      }
      const contentMixed = mixed || attr(first, "mixed") === "true";
      if (derivation.localName === "restriction") {
        // Our schemas only restrict xs:anyType: the restriction states the whole content.
        if (base !== anyType) fail(`${name} restricts ${base.name}, not xs:anyType`);
        return complex(
          name,
          attributes,
          ownWildcard,
          elementsContent(own, contentMixed),
          own.length === 1 ? own[0] : undefined,
        );
      }
      if (derivation.localName !== "extension") fail(`${name}: <xs:${derivation.localName}>`);
      if (base.kind !== "complex") fail(`${name} extends the simple type ${base.name}`);
      const baseParticle = particles.get(base);
      if (base.content.kind === "simple") fail(`${name} extends simple content with elements`);
      const items = [...(baseParticle === undefined ? [] : [baseParticle]), ...own];
      const merged = new Map([...base.attributes, ...attributes]);
      const whole: Particle | undefined = items.length === 0
        ? undefined
        : items.length === 1
        ? items[0]
        : { kind: "sequence", items, min: 1, max: 1 };
      return complex(
        name,
        merged,
        ownWildcard ?? base.anyAttribute,
        whole === undefined ? { kind: "empty" } : elementsOf(whole, contentMixed),
        whole,
      );
    }
    const own = children.filter(isParticle).map((p) => particle(doc, p));
    for (const child of children) {
      if (
        !isParticle(child) && child.localName !== "attribute" &&
        child.localName !== "attributeGroup" && child.localName !== "anyAttribute"
      ) fail(`<xs:${child.localName}> in the complex type ${name} is not supported`);
    }
    const wildcard = attributeUses(doc, element, attributes);
    return complex(
      name,
      attributes,
      wildcard,
      elementsContent(own, mixed),
      own.length === 1 ? own[0] : undefined,
    );
  }

  function complex(
    name: string,
    attributes: ReadonlyMap<string, AttributeUse>,
    anyAttribute: Wildcard | undefined,
    content: ContentType,
    source: Particle | undefined,
  ): ComplexType {
    let requiredAttributes = 0;
    for (const use of attributes.values()) if (use.required) requiredAttributes++;
    const type: ComplexType = {
      kind: "complex",
      name,
      attributes,
      requiredAttributes,
      anyAttribute,
      content,
    };
    particles.set(type, source);
    return type;
  }

  // xs:anyType (XSD Part 1 §3.4.7): any attributes and mixed content of any elements, lax.
  const anyWildcard: Wildcard = { allows: () => true, process: "lax", description: "any element" };
  const anyType: ComplexType = complex(
    "xs:anyType",
    new Map(),
    { allows: () => true, process: "lax", description: "any attribute" },
    elementsOf({
      kind: "term",
      term: { kind: "wildcard", wildcard: anyWildcard },
      min: 0,
      max: Infinity,
    }, true),
    undefined,
  );

  for (const root of roots) load(root, undefined);
  // Resolve every global component now, so a broken schema fails here and not on a request.
  const elements = new Map([...elementDefs.keys()].map((key) => [key, globalElement(key)]));
  const attributes = new Map([...attributeDefs.keys()].map((key) => [key, globalAttribute(key)]));
  for (const key of types.keys()) typeByName(key);
  for (const declaration of attributes.values()) declaration.type();
  const pending = [...elements.values()];
  const seen = new Set<TypeDefinition>();
  while (pending.length > 0) {
    const type = pending.pop()!.type();
    if (seen.has(type)) continue;
    seen.add(type);
    if (type.kind === "complex") {
      for (const use of type.attributes.values()) use.declaration.type();
      if (type.content.kind === "elements") {
        // Walk the automaton once: every local declaration's type gets compiled.
        const states = [type.content.start()];
        const visited = new Set<ContentState>();
        while (states.length > 0) {
          const state = states.pop()!;
          if (visited.has(state)) continue;
          visited.add(state);
          for (const term of state.expected) {
            if (term.kind !== "element") continue;
            pending.push(term.declaration);
            const next = state.step(term.declaration.namespace, term.declaration.localName);
            if (next !== undefined) states.push(next.next);
          }
        }
      }
    }
  }
  return { elements, attributes, anyType, cachedStates: () => cache.count };
}
