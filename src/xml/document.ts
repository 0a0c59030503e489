/**
 * A namespace-aware XML tree with exact source offsets, for XCAP (RFC 4825) documents.
 *
 * {@linkcode parseXmlDocument} checks a document for well-formedness (XML 1.0) and namespace
 * well-formedness (Namespaces in XML 1.0) and builds an ordered tree in which every node knows
 * its `[start, end)` offsets in the text (JavaScript string indices). Edits splice the original
 * text at those offsets, so every byte outside the changed node stays as it was.
 *
 * Document type declarations are refused (`constraint-failure`): XCAP documents need no DTD, and
 * without one only the five predefined entities and character references exist, so entity
 * expansion cannot grow the input (no "billion laughs").
 *
 * The tokenizer is our own rather than fast-xml-parser's: its `XMLValidator` accepts input that
 * is not well-formed (two document elements, `<` in attribute values, undeclared entities,
 * control characters, `--` in comments), and its parser has no attribute offsets, no start-tag
 * end offset and no namespace scoping, all of which splicing and RFC 4825 §6.3 selection need.
 * One linear pass without recursion does checking, offsets and namespaces together.
 *
 * Pure: Web APIs only.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import type { ConflictCondition } from "../client/errors.ts";
import type { NamespaceBindings } from "../client/selector.ts";
import {
  codePointLabel,
  firstNonXmlChar,
  isNameCode,
  isNameStartCode,
  isNCName,
  isSpaceCode,
  isXmlCharCode,
  lineAndColumn,
  PREDEFINED_ENTITIES,
  XML_NAMESPACE,
  XMLNS_NAMESPACE,
} from "./_names.ts";

/** Bounds applied while parsing; exceeding one is a `constraint-failure`. */
export interface XmlParseLimits {
  /** Deepest element nesting allowed (the document element is at depth 1). @default 100 */
  readonly maxDepth?: number;
  /** Most elements allowed in the document. @default 100_000 */
  readonly maxElements?: number;
  /**
   * Most entity and character references allowed. Without a DTD each reference stands for one
   * character, so this is a plain size bound. @default Infinity
   */
  readonly maxEntityExpansions?: number;
}

/** An attribute of an element (namespace declarations are not attributes; see below). */
export interface XmlAttribute {
  /** Discriminant. */
  readonly kind: "attribute";
  /** The qualified name as written, e.g. `uri` or `xml:lang`. */
  readonly name: string;
  /** The prefix, absent for an unprefixed name. */
  readonly prefix?: string;
  /** The local name. */
  readonly localName: string;
  /** The namespace URI; absent for unprefixed attributes, which are in no namespace. */
  readonly namespace?: string;
  /** The value after reference expansion and attribute-value normalization (XML 1.0 §3.3.3). */
  readonly value: string;
  /** The value exactly as written between the quotes. */
  readonly rawValue: string;
  /** The quote character used. */
  readonly quote: '"' | "'";
  /** Offset of the attribute's name. */
  readonly start: number;
  /** Offset just after the closing quote. */
  readonly end: number;
  /** Offset just after the opening quote. */
  readonly valueStart: number;
  /** Offset of the closing quote. */
  readonly valueEnd: number;
}

/** A namespace declaration `xmlns="uri"` (prefix `""`) or `xmlns:p="uri"`. */
export interface XmlNamespaceDeclaration {
  /** The declared prefix; `""` for the default namespace. */
  readonly prefix: string;
  /** The namespace URI; `""` undeclares the default namespace. */
  readonly uri: string;
  /** Offset of `xmlns`. */
  readonly start: number;
  /** Offset just after the closing quote. */
  readonly end: number;
}

/** An element with its attributes, namespace scope, children and offsets. */
export interface XmlElement {
  /** Discriminant. */
  readonly kind: "element";
  /** The qualified name as written, e.g. `cr:rule` or `entry`. */
  readonly name: string;
  /** The prefix, absent for an unprefixed name. */
  readonly prefix?: string;
  /** The local name. */
  readonly localName: string;
  /** The namespace URI, absent when the element is in no namespace. */
  readonly namespace?: string;
  /** The attributes in document order, without namespace declarations. */
  readonly attributes: readonly XmlAttribute[];
  /** The namespace declarations written on this element, in document order. */
  readonly namespaceDeclarations: readonly XmlNamespaceDeclaration[];
  /**
   * Every namespace binding in scope: prefix to URI, `""` for the default namespace (absent
   * when there is none), and always `xml`.
   */
  readonly namespaces: ReadonlyMap<string, string>;
  /** Child nodes in document order. */
  readonly children: readonly XmlNode[];
  /** The parent element; absent for the document element (or a parsed fragment's element). */
  readonly parent?: XmlElement;
  /** Nesting depth: 1 for the document element. */
  readonly depth: number;
  /** Offset of `<`. */
  readonly start: number;
  /** Offset just after the end tag (or the `/>` of an empty-element tag). */
  readonly end: number;
  /** Offset just after the start tag's `>`; equals `end` for an empty-element tag. */
  readonly contentStart: number;
  /** Offset of the end tag's `</`; equals `end` for an empty-element tag. */
  readonly contentEnd: number;
  /** Whether the element was written as an empty-element tag `<a/>`. */
  readonly selfClosing: boolean;
}

/** Character data (references expanded, line ends normalized to LF). */
export interface XmlText {
  /** Discriminant. */
  readonly kind: "text";
  /** The decoded text. */
  readonly value: string;
  /** Offset of the first character. */
  readonly start: number;
  /** Offset just after the last character. */
  readonly end: number;
}

/** A CDATA section. */
export interface XmlCData {
  /** Discriminant. */
  readonly kind: "cdata";
  /** The content between `<![CDATA[` and `]]>` (line ends normalized to LF). */
  readonly value: string;
  /** Offset of `<![CDATA[`. */
  readonly start: number;
  /** Offset just after `]]>`. */
  readonly end: number;
}

/** A comment. */
export interface XmlComment {
  /** Discriminant. */
  readonly kind: "comment";
  /** The content between `<!--` and `-->`. */
  readonly value: string;
  /** Offset of `<!--`. */
  readonly start: number;
  /** Offset just after `-->`. */
  readonly end: number;
}

/** A processing instruction `<?target data?>`. */
export interface XmlProcessingInstruction {
  /** Discriminant. */
  readonly kind: "processing-instruction";
  /** The target name. */
  readonly target: string;
  /** Everything after the target and its whitespace, up to `?>`. */
  readonly data: string;
  /** Offset of `<?`. */
  readonly start: number;
  /** Offset just after `?>`. */
  readonly end: number;
}

/** Any node that can be a child of an element. */
export type XmlNode = XmlElement | XmlText | XmlCData | XmlComment | XmlProcessingInstruction;

/** The XML declaration `<?xml version="1.0" encoding="UTF-8"?>`. */
export interface XmlDeclaration {
  /** The `version` value. */
  readonly version: string;
  /** The `encoding` value, if given. */
  readonly encoding?: string;
  /** The `standalone` value, if given. */
  readonly standalone?: "yes" | "no";
  /** Offset of `<?xml`. */
  readonly start: number;
  /** Offset just after `?>`. */
  readonly end: number;
}

/** A parsed document: the text it came from and its tree. */
export interface XmlDocument {
  /** The parsed text, unchanged. */
  readonly text: string;
  /** The document element. */
  readonly root: XmlElement;
  /** The XML declaration, if present. */
  readonly declaration?: XmlDeclaration;
  /** Comments and processing instructions before the document element. */
  readonly prolog: readonly (XmlComment | XmlProcessingInstruction)[];
  /** Comments and processing instructions after the document element. */
  readonly epilog: readonly (XmlComment | XmlProcessingInstruction)[];
  /** How many elements the document has. */
  readonly elementCount: number;
}

/** Options of {@linkcode parseXmlElement}. */
export interface ParseXmlElementOptions {
  /**
   * The namespace bindings in scope where the element will stand (prefix to URI, `""` for the
   * default namespace); prefixes the element uses without declaring them resolve here.
   * @default no bindings but `xml`
   */
  readonly namespaces?: ReadonlyMap<string, string> | NamespaceBindings;
  /** Parse limits. @default the defaults of {@linkcode XmlParseLimits} */
  readonly limits?: XmlParseLimits;
  /** Depth of the element's future parent, counted toward `limits.maxDepth`. @default 0 */
  readonly parentDepth?: number;
  /**
   * Accept a prefix that is declared neither in the element nor in `namespaces`, leaving the
   * name in no namespace, instead of failing. For showing an element cut out of a document
   * (an RFC 4825 §7.3 GET of an element keeps its prefixes but not their declarations), never
   * for a body that is to be stored. @default false
   */
  readonly allowUndeclaredPrefixes?: boolean;
}

const DEFAULT_MAX_DEPTH = 100;
const DEFAULT_MAX_ELEMENTS = 100_000;

const BASE_NAMESPACES: ReadonlyMap<string, string> = new Map([["xml", XML_NAMESPACE]]);

/**
 * The same string, internalized (a property key is). Every selector step and validation rule
 * compares namespace URIs; V8 compares internalized strings by pointer, while a slice of the
 * document text goes through its slow string comparison each time (getNode over 1,000 entries:
 * 60 µs before, 40 µs after; tests/bench/RESULTS.md).
 */
function internString(value: string): string {
  return Object.keys({ [value]: 0 })[0] ?? value;
}

/** A parse failure; caught at the API boundary and returned as an error value. */
class ParseFailure {
  constructor(
    readonly tag: "not-well-formed" | "not-xml-frag" | "constraint-failure" | "not-utf-8",
    readonly reason: string,
    readonly offset: number | undefined,
  ) {}
}

interface MutableElement {
  kind: "element";
  name: string;
  prefix?: string;
  localName: string;
  namespace?: string;
  attributes: XmlAttribute[];
  namespaceDeclarations: XmlNamespaceDeclaration[];
  namespaces: ReadonlyMap<string, string>;
  children: XmlNode[];
  parent?: MutableElement;
  depth: number;
  start: number;
  end: number;
  contentStart: number;
  contentEnd: number;
  selfClosing: boolean;
}

interface RawAttribute {
  name: string;
  value: string;
  rawStart: number;
  valueStart: number;
  valueEnd: number;
  end: number;
  quote: '"' | "'";
}

type Mode = "document" | "element";

const XML_DECLARATION =
  /<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])(1\.[0-9]+)\1(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])([A-Za-z][A-Za-z0-9._-]*)\3)?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["'])(yes|no)\5)?[ \t\r\n]*\?>/y;

class Parser {
  pos = 0;
  elementCount = 0;
  references = 0;
  readonly maxDepth: number;
  readonly maxElements: number;
  readonly maxReferences: number;
  allowUndeclaredPrefixes = false;

  constructor(
    readonly text: string,
    readonly mode: Mode,
    limits: XmlParseLimits,
    readonly inherited: ReadonlyMap<string, string>,
    readonly parentDepth: number,
  ) {
    this.maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.maxElements = limits.maxElements ?? DEFAULT_MAX_ELEMENTS;
    this.maxReferences = limits.maxEntityExpansions ?? Infinity;
  }

  fail(reason: string, offset: number = this.pos): never {
    throw new ParseFailure("not-well-formed", reason, offset);
  }

  parse(): XmlDocument {
    const text = this.text;
    const bad = firstNonXmlChar(text);
    if (bad >= 0) {
      this.fail(`Character ${codePointLabel(text, bad)} is not allowed in XML`, bad);
    }
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1;
    let declaration: XmlDeclaration | undefined;
    if (text.startsWith("<?xml", this.pos) && this.isDeclarationStart(this.pos)) {
      if (this.mode === "element") {
        throw new ParseFailure(
          "not-xml-frag",
          "The body must be a single XML element; it starts with an XML declaration",
          this.pos,
        );
      }
      declaration = this.parseDeclaration();
    }
    const prolog = this.parseMisc("before");
    if (this.pos >= text.length) {
      if (this.mode === "element") {
        throw new ParseFailure("not-xml-frag", "The body contains no XML element", undefined);
      }
      this.fail("The document has no document element");
    }
    if (text.charCodeAt(this.pos) !== 0x3c) this.failOutside("before");
    const root = this.parseElementTree();
    const epilog = this.parseMisc("after");
    if (this.pos < text.length) this.failOutside("after");
    const doc: {
      text: string;
      root: XmlElement;
      declaration?: XmlDeclaration;
      prolog: (XmlComment | XmlProcessingInstruction)[];
      epilog: (XmlComment | XmlProcessingInstruction)[];
      elementCount: number;
    } = { text, root, prolog, epilog, elementCount: this.elementCount };
    if (declaration !== undefined) doc.declaration = declaration;
    return doc;
  }

  isDeclarationStart(at: number): boolean {
    const c = this.text.charCodeAt(at + 5);
    return isSpaceCode(c) || c === 0x3f;
  }

  /** Fail on content outside the element: text, a second element, a DOCTYPE. */
  failOutside(where: "before" | "after"): never {
    const text = this.text;
    const c = text.charCodeAt(this.pos);
    if (this.mode === "element") {
      const what = c === 0x3c ? "more than one XML element" : "text outside the element";
      throw new ParseFailure(
        "not-xml-frag",
        `The body must be a single XML element; it has ${what}`,
        this.pos,
      );
    }
    if (c === 0x3c && where === "after" && isNameStartCode(text.codePointAt(this.pos + 1) ?? 0)) {
      this.fail("Only one document element is allowed; found another element after it");
    }
    this.fail(`Unexpected ${describeAt(text, this.pos)} ${where} the document element`);
  }

  parseDeclaration(): XmlDeclaration {
    XML_DECLARATION.lastIndex = this.pos;
    const match = XML_DECLARATION.exec(this.text);
    if (match === null) this.fail("Malformed XML declaration");
    const start = this.pos;
    this.pos = XML_DECLARATION.lastIndex;
    const encoding = match[4];
    if (encoding !== undefined && encoding.toUpperCase() !== "UTF-8") {
      throw new ParseFailure(
        "not-utf-8",
        `The XML declaration names encoding "${encoding}"; XCAP documents are UTF-8`,
        start,
      );
    }
    const declaration: {
      version: string;
      encoding?: string;
      standalone?: "yes" | "no";
      start: number;
      end: number;
    } = { version: match[2]!, start, end: this.pos };
    if (encoding !== undefined) declaration.encoding = encoding;
    if (match[6] !== undefined) declaration.standalone = match[6] as "yes" | "no";
    return declaration;
  }

  /** Whitespace, comments and PIs before or after the document element. */
  parseMisc(where: "before" | "after"): (XmlComment | XmlProcessingInstruction)[] {
    const text = this.text;
    const nodes: (XmlComment | XmlProcessingInstruction)[] = [];
    for (;;) {
      this.skipSpace();
      if (this.pos >= text.length || text.charCodeAt(this.pos) !== 0x3c) return nodes;
      const next = text.charCodeAt(this.pos + 1);
      if (next === 0x21 /* ! */) {
        if (text.startsWith("<!--", this.pos)) {
          if (this.mode === "element") this.failMiscInFragment("a comment");
          nodes.push(this.parseComment());
          continue;
        }
        if (text.startsWith("<!DOCTYPE", this.pos) && where === "before") {
          throw new ParseFailure(
            this.mode === "element" ? "not-xml-frag" : "constraint-failure",
            "Document type declarations are not supported: XCAP documents need no DTD",
            this.pos,
          );
        }
        this.fail(`Unexpected ${describeAt(text, this.pos)} ${where} the document element`);
      }
      if (next === 0x3f /* ? */) {
        if (this.mode === "element") this.failMiscInFragment("a processing instruction");
        nodes.push(this.parseProcessingInstruction());
        continue;
      }
      return nodes;
    }
  }

  failMiscInFragment(what: string): never {
    throw new ParseFailure(
      "not-xml-frag",
      `The body must be a single XML element; it has ${what} outside the element`,
      this.pos,
    );
  }

  skipSpace(): boolean {
    const text = this.text;
    const start = this.pos;
    while (this.pos < text.length && isSpaceCode(text.charCodeAt(this.pos))) this.pos++;
    return this.pos > start;
  }

  /** Read a `Name` (colons allowed; QName structure is checked by the caller). */
  readName(what: string): string {
    const text = this.text;
    const start = this.pos;
    let first = true;
    while (this.pos < text.length) {
      const cp = text.codePointAt(this.pos)!;
      const ok = cp === 0x3a || (first ? isNameStartCode(cp) : isNameCode(cp));
      if (!ok) break;
      this.pos += cp > 0xffff ? 2 : 1;
      first = false;
    }
    if (this.pos === start) this.fail(`Expected ${what} but found ${describeAt(text, start)}`);
    return text.slice(start, this.pos);
  }

  /** Parse `&...;` at `pos`; returns the character it stands for. */
  parseReference(): string {
    const text = this.text;
    const start = this.pos;
    if (++this.references > this.maxReferences) {
      throw new ParseFailure(
        "constraint-failure",
        `The document has more than ${this.maxReferences} entity and character references`,
        start,
      );
    }
    const semi = text.indexOf(";", start + 1);
    // A reference is short; a missing or far ";" is an error either way.
    if (semi < 0 || semi - start > 40) {
      this.fail('"&" must start an entity or character reference such as "&amp;"', start);
    }
    const body = text.slice(start + 1, semi);
    this.pos = semi + 1;
    if (body.startsWith("#")) {
      const hex = body.startsWith("#x");
      const digits = body.slice(hex ? 2 : 1);
      const valid = hex ? /^[0-9A-Fa-f]+$/.test(digits) : /^[0-9]+$/.test(digits);
      const cp = valid ? parseInt(digits, hex ? 16 : 10) : NaN;
      if (!valid || !isXmlCharCode(cp)) {
        this.fail(`Character reference "&${body};" does not stand for an XML character`, start);
      }
      return String.fromCodePoint(cp);
    }
    const expansion = PREDEFINED_ENTITIES[body];
    if (expansion === undefined || !Object.hasOwn(PREDEFINED_ENTITIES, body)) {
      this.fail(
        `Entity "&${body};" is not declared (only &lt; &gt; &amp; &apos; &quot; exist ` +
          "without a DTD)",
        start,
      );
    }
    return expansion;
  }

  parseComment(): XmlComment {
    const text = this.text;
    const start = this.pos;
    const close = text.indexOf("--", start + 4);
    if (close < 0) this.fail("Comment is not closed", start);
    if (text.charCodeAt(close + 2) !== 0x3e) {
      this.fail('"--" is not allowed inside a comment', close);
    }
    this.pos = close + 3;
    return { kind: "comment", value: text.slice(start + 4, close), start, end: this.pos };
  }

  parseProcessingInstruction(): XmlProcessingInstruction {
    const text = this.text;
    const start = this.pos;
    this.pos += 2;
    const target = this.readName("a processing instruction target");
    if (target.toLowerCase() === "xml") {
      this.fail("An XML declaration is only allowed at the very start of the document", start);
    }
    if (target.includes(":")) this.fail(`Processing instruction target "${target}" has a colon`);
    let data = "";
    if (text.startsWith("?>", this.pos)) {
      this.pos += 2;
    } else {
      if (!this.skipSpace()) {
        this.fail(`Expected whitespace or "?>" after processing instruction target "${target}"`);
      }
      const close = text.indexOf("?>", this.pos);
      if (close < 0) this.fail("Processing instruction is not closed", start);
      data = text.slice(this.pos, close);
      this.pos = close + 2;
    }
    return { kind: "processing-instruction", target, data, start, end: this.pos };
  }

  parseCData(): XmlCData {
    const text = this.text;
    const start = this.pos;
    const close = text.indexOf("]]>", start + 9);
    if (close < 0) this.fail("CDATA section is not closed", start);
    this.pos = close + 3;
    return {
      kind: "cdata",
      value: normalizeLineEnds(text.slice(start + 9, close)),
      start,
      end: this.pos,
    };
  }

  /** Character data up to the next `<`. */
  parseText(): XmlText {
    const text = this.text;
    const start = this.pos;
    let decoded: string | undefined;
    let chunkStart = start;
    let brackets = 0;
    let i = start;
    const n = text.length;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x3c) break;
      if (c === 0x26 /* & */) {
        decoded = (decoded ?? "") + text.slice(chunkStart, i);
        this.pos = i;
        decoded += this.parseReference();
        i = this.pos;
        chunkStart = i;
        brackets = 0;
        continue;
      }
      if (c === 0x3e && brackets >= 2) this.fail('"]]>" is not allowed in character data', i - 2);
      brackets = c === 0x5d ? brackets + 1 : 0;
      if (c === 0x0d) {
        decoded = (decoded ?? "") + text.slice(chunkStart, i) + "\n";
        i += text.charCodeAt(i + 1) === 0x0a ? 2 : 1;
        chunkStart = i;
        continue;
      }
      i++;
    }
    this.pos = i;
    const value = decoded === undefined
      ? text.slice(start, i)
      : decoded + text.slice(chunkStart, i);
    return { kind: "text", value, start, end: i };
  }

  /** Parse an attribute value at the opening quote (XML 1.0 §3.3.3 normalization applied). */
  parseAttributeValue(name: string): RawAttribute {
    const text = this.text;
    const quoteCode = text.charCodeAt(this.pos);
    if (quoteCode !== 0x22 && quoteCode !== 0x27) {
      this.fail(`Expected a quoted value for attribute "${name}"`);
    }
    const valueStart = ++this.pos;
    let value = "";
    let chunkStart = valueStart;
    const n = text.length;
    let i = valueStart;
    for (;;) {
      if (i >= n) this.fail(`Value of attribute "${name}" is not closed`, valueStart - 1);
      const c = text.charCodeAt(i);
      if (c === quoteCode) break;
      if (c === 0x3c) this.fail(`"<" is not allowed in the value of attribute "${name}"`, i);
      if (c === 0x26) {
        value += text.slice(chunkStart, i);
        this.pos = i;
        value += this.parseReference();
        i = this.pos;
        chunkStart = i;
        continue;
      }
      if (c === 0x09 || c === 0x0a || c === 0x0d) {
        value += text.slice(chunkStart, i) + " ";
        i += c === 0x0d && text.charCodeAt(i + 1) === 0x0a ? 2 : 1;
        chunkStart = i;
        continue;
      }
      i++;
    }
    value += text.slice(chunkStart, i);
    this.pos = i + 1;
    return {
      name,
      value,
      rawStart: -1,
      valueStart,
      valueEnd: i,
      end: i + 1,
      quote: quoteCode === 0x22 ? '"' : "'",
    };
  }

  /** Parse a start tag at `<`; the element is linked to `parent` but not yet closed. */
  parseStartTag(parent: MutableElement | undefined): MutableElement {
    const text = this.text;
    const start = this.pos;
    this.pos++;
    const name = this.readName("an element name");
    const depth = (parent?.depth ?? this.parentDepth) + 1;
    if (depth > this.maxDepth) {
      throw new ParseFailure(
        "constraint-failure",
        `Elements are nested deeper than ${this.maxDepth} levels`,
        start,
      );
    }
    if (++this.elementCount > this.maxElements) {
      throw new ParseFailure(
        "constraint-failure",
        `The document has more than ${this.maxElements} elements`,
        start,
      );
    }
    const raw: RawAttribute[] = [];
    let seen: Set<string> | undefined;
    let selfClosing = false;
    for (;;) {
      const hadSpace = this.skipSpace();
      if (this.pos >= text.length) this.fail(`Start tag <${name}> is not closed`, start);
      const c = text.charCodeAt(this.pos);
      if (c === 0x3e) {
        this.pos++;
        break;
      }
      if (c === 0x2f) {
        if (text.charCodeAt(this.pos + 1) !== 0x3e) this.fail(`Expected "/>" to close <${name}>`);
        this.pos += 2;
        selfClosing = true;
        break;
      }
      if (!hadSpace) {
        this.fail(`Expected whitespace, ">" or "/>" in start tag <${name}>`);
      }
      const attrStart = this.pos;
      const attrName = this.readName(`an attribute name, ">" or "/>" in start tag <${name}>`);
      this.skipSpace();
      if (text.charCodeAt(this.pos) !== 0x3d) {
        this.fail(`Expected "=" after attribute name "${attrName}"`);
      }
      this.pos++;
      this.skipSpace();
      const attr = this.parseAttributeValue(attrName);
      attr.rawStart = attrStart;
      if (raw.length < 8) {
        if (raw.some((a) => a.name === attrName)) {
          this.fail(`Attribute "${attrName}" appears twice in <${name}>`, attrStart);
        }
      } else {
        seen ??= new Set(raw.map((a) => a.name));
        if (seen.has(attrName)) {
          this.fail(`Attribute "${attrName}" appears twice in <${name}>`, attrStart);
        }
        seen.add(attrName);
      }
      raw.push(attr);
    }
    return this.buildElement(name, raw, parent, depth, start, selfClosing);
  }

  splitQName(qname: string, offset: number): [string | undefined, string] {
    const colon = qname.indexOf(":");
    if (colon < 0) {
      if (!isNCName(qname)) this.fail(`"${qname}" is not a valid XML name`, offset);
      return [undefined, qname];
    }
    const prefix = qname.slice(0, colon);
    const local = qname.slice(colon + 1);
    if (!isNCName(prefix) || !isNCName(local)) {
      this.fail(`"${qname}" is not a valid qualified name (Namespaces in XML §4)`, offset);
    }
    return [prefix, local];
  }

  buildElement(
    name: string,
    raw: RawAttribute[],
    parent: MutableElement | undefined,
    depth: number,
    start: number,
    selfClosing: boolean,
  ): MutableElement {
    let namespaces = parent?.namespaces ?? this.inherited;
    const declarations: XmlNamespaceDeclaration[] = [];
    let plain: RawAttribute[] = raw;
    if (raw.some((a) => a.name === "xmlns" || a.name.startsWith("xmlns:"))) {
      plain = [];
      const scope = new Map(namespaces);
      for (const a of raw) {
        let prefix: string;
        if (a.name === "xmlns") {
          prefix = "";
        } else if (a.name.startsWith("xmlns:")) {
          prefix = a.name.slice(6);
          if (!isNCName(prefix)) {
            this.fail(`"${a.name}" is not a valid namespace declaration`, a.rawStart);
          }
        } else {
          plain.push(a);
          continue;
        }
        this.checkDeclaration(prefix, a);
        const uri = internString(a.value);
        if (prefix === "" && uri === "") scope.delete("");
        else scope.set(prefix, uri);
        declarations.push({ prefix, uri, start: a.rawStart, end: a.end });
      }
      namespaces = scope;
    }
    const [prefix, localName] = this.splitQName(name, start + 1);
    let namespace: string | undefined;
    if (prefix !== undefined) {
      if (prefix === "xmlns") {
        this.fail(`Element <${name}> uses the reserved prefix "xmlns"`, start + 1);
      }
      namespace = namespaces.get(prefix);
      if (namespace === undefined && !this.allowUndeclaredPrefixes) {
        this.fail(`Namespace prefix "${prefix}" of element <${name}> is not declared`, start + 1);
      }
    } else {
      namespace = namespaces.get("");
    }
    const attributes: XmlAttribute[] = [];
    let expanded: Set<string> | undefined;
    for (const a of plain) {
      const [aPrefix, aLocal] = this.splitQName(a.name, a.rawStart);
      let aNamespace: string | undefined;
      if (aPrefix !== undefined) {
        aNamespace = namespaces.get(aPrefix);
        if (aNamespace === undefined && !this.allowUndeclaredPrefixes) {
          this.fail(
            `Namespace prefix "${aPrefix}" of attribute "${a.name}" is not declared`,
            a.rawStart,
          );
        }
        expanded ??= new Set();
        const key = aNamespace + " " + aLocal;
        if (expanded.has(key)) {
          this.fail(
            `Attribute "${a.name}" duplicates another attribute's namespace and local name`,
            a.rawStart,
          );
        }
        expanded.add(key);
      }
      const attribute: {
        kind: "attribute";
        name: string;
        prefix?: string;
        localName: string;
        namespace?: string;
        value: string;
        rawValue: string;
        quote: '"' | "'";
        start: number;
        end: number;
        valueStart: number;
        valueEnd: number;
      } = {
        kind: "attribute",
        name: a.name,
        localName: aLocal,
        value: a.value,
        rawValue: this.text.slice(a.valueStart, a.valueEnd),
        quote: a.quote,
        start: a.rawStart,
        end: a.end,
        valueStart: a.valueStart,
        valueEnd: a.valueEnd,
      };
      if (aPrefix !== undefined) {
        attribute.prefix = aPrefix;
        if (aNamespace !== undefined) attribute.namespace = aNamespace;
      }
      attributes.push(attribute);
    }
    const element: MutableElement = {
      kind: "element",
      name,
      localName,
      attributes,
      namespaceDeclarations: declarations,
      namespaces,
      children: [],
      depth,
      start,
      end: this.pos,
      contentStart: this.pos,
      contentEnd: this.pos,
      selfClosing,
    };
    if (prefix !== undefined) element.prefix = prefix;
    if (namespace !== undefined) element.namespace = namespace;
    if (parent !== undefined) element.parent = parent;
    return element;
  }

  checkDeclaration(prefix: string, a: RawAttribute): void {
    const uri = a.value;
    if (prefix === "xmlns") this.fail('The prefix "xmlns" cannot be declared', a.rawStart);
    if (prefix === "xml") {
      if (uri !== XML_NAMESPACE) {
        this.fail(`The prefix "xml" can only be bound to ${XML_NAMESPACE}`, a.rawStart);
      }
      return;
    }
    if (uri === XML_NAMESPACE || uri === XMLNS_NAMESPACE) {
      this.fail(`Namespace ${uri} cannot be bound to "${a.name}"`, a.rawStart);
    }
    if (prefix !== "" && uri === "") {
      this.fail(`Prefix "${prefix}" cannot be undeclared (Namespaces in XML 1.0)`, a.rawStart);
    }
  }

  /** Parse the element at `pos` and everything inside it, without recursion. */
  parseElementTree(): MutableElement {
    const text = this.text;
    const root = this.parseStartTag(undefined);
    if (root.selfClosing) return root;
    const stack: MutableElement[] = [root];
    const n = text.length;
    while (stack.length > 0) {
      const current = stack[stack.length - 1]!;
      if (this.pos >= n) {
        this.fail(`Element <${current.name}> is not closed`, current.start);
      }
      if (text.charCodeAt(this.pos) !== 0x3c) {
        current.children.push(this.parseText());
        continue;
      }
      const next = text.charCodeAt(this.pos + 1);
      if (next === 0x2f /* / */) {
        const endStart = this.pos;
        this.pos += 2;
        const name = this.readName("an element name in the end tag");
        this.skipSpace();
        if (text.charCodeAt(this.pos) !== 0x3e) this.fail(`Expected ">" to close </${name}>`);
        this.pos++;
        if (name !== current.name) {
          throw new ParseFailure(
            "not-well-formed",
            `End tag </${name}> at ${
              position(text, endStart)
            } does not match start tag <${current.name}> at ${position(text, current.start)}`,
            undefined,
          );
        }
        current.contentEnd = endStart;
        current.end = this.pos;
        stack.pop();
        continue;
      }
      if (next === 0x21 /* ! */) {
        if (text.startsWith("<!--", this.pos)) current.children.push(this.parseComment());
        else if (text.startsWith("<![CDATA[", this.pos)) current.children.push(this.parseCData());
        else this.fail(`Unexpected ${describeAt(text, this.pos)} in element <${current.name}>`);
        continue;
      }
      if (next === 0x3f /* ? */) {
        current.children.push(this.parseProcessingInstruction());
        continue;
      }
      const child = this.parseStartTag(current);
      current.children.push(child);
      if (!child.selfClosing) stack.push(child);
    }
    return root;
  }
}

function normalizeLineEnds(text: string): string {
  return text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
}

function position(text: string, offset: number): string {
  const { line, column } = lineAndColumn(text, offset);
  return `line ${line}, column ${column}`;
}

function describeAt(text: string, offset: number): string {
  if (offset >= text.length) return "the end of the input";
  const snippet = text.slice(offset, offset + 12).replace(/\s+/g, " ");
  return JSON.stringify(snippet.length < 12 ? snippet : snippet + "…");
}

function toCondition(failure: ParseFailure, text: string): ConflictCondition {
  const phrase = failure.offset === undefined
    ? failure.reason
    : `${failure.reason} at ${position(text, failure.offset)}`;
  return { tag: failure.tag, phrase };
}

function run(parser: Parser): Result<XmlDocument, ConflictCondition> {
  try {
    return ok(parser.parse());
  } catch (e) {
    if (e instanceof ParseFailure) return err(toCondition(e, parser.text));
    return err({
      tag: "not-well-formed",
      phrase: `Cannot parse the XML: internal error: ${String(e)}`,
    });
  }
}

/**
 * Parse an XCAP document: check well-formedness and namespace well-formedness and build the
 * tree with exact source offsets.
 *
 * Failures come back as an xcap-error condition whose `phrase` says what is wrong and where
 * (`line L, column C`): `not-well-formed` for any XML or namespace error (including an undeclared
 * entity or prefix), `not-utf-8` when the XML declaration names another encoding,
 * `constraint-failure` for a document type declaration or an exceeded limit.
 *
 * @param text The document text (already decoded; see {@linkcode decodeUtf8}).
 * @param limits Bounds on depth, element count and references.
 * @returns The document, or the condition that rejects it.
 *
 * @example Parsing a prefixed document
 * ```ts
 * import { parseXmlDocument } from "@xcap/xcap/xml";
 * import { assertEquals } from "@std/assert";
 *
 * const text = '<cr:ruleset xmlns:cr="urn:ietf:params:xml:ns:common-policy"><cr:rule id="a"/>' +
 *   "</cr:ruleset>";
 * const doc = parseXmlDocument(text)._unsafeUnwrap();
 * assertEquals(doc.root.localName, "ruleset");
 * assertEquals(doc.root.namespace, "urn:ietf:params:xml:ns:common-policy");
 * const rule = doc.root.children[0];
 * assertEquals(rule?.kind === "element" && text.slice(rule.start, rule.end), '<cr:rule id="a"/>');
 * ```
 *
 * @example Errors say what and where
 * ```ts
 * import { parseXmlDocument } from "@xcap/xcap/xml";
 * import { assertEquals } from "@std/assert";
 *
 * const result = parseXmlDocument("<a>\n  <b></a>");
 * assertEquals(result.isErr() && result.error, {
 *   tag: "not-well-formed",
 *   phrase: "End tag </a> at line 2, column 6 does not match start tag <b> at line 2, column 3",
 * });
 * ```
 */
export function parseXmlDocument(
  text: string,
  limits: XmlParseLimits = {},
): Result<XmlDocument, ConflictCondition> {
  if (typeof text !== "string") {
    return err({ tag: "not-well-formed", phrase: "The document is not a string" });
  }
  return run(new Parser(text, "document", limits ?? {}, BASE_NAMESPACES, 0));
}

/**
 * Parse a body that must be exactly one XML element (an `application/xcap-el+xml` body, RFC
 * 4825 §7.4), resolving prefixes it does not declare in the namespace scope of the place it
 * will stand.
 *
 * Whitespace around the element is allowed; anything else outside it (text, a second element,
 * a comment, an XML declaration) is `not-xml-frag`, and so is broken markup: RFC 4825 §11
 * defines `not-xml-frag` for a body that should be an XML fragment and is not, "most likely"
 * because its XML is malformed or not balanced (`not-well-formed` is for whole documents).
 *
 * @param text The body.
 * @param options Namespace scope and limits.
 * @returns A document-shaped result whose `root` is the element, or the condition.
 *
 * @example Prefixes resolve in the scope given
 * ```ts
 * import { parseXmlElement } from "@xcap/xcap/xml";
 * import { assertEquals } from "@std/assert";
 *
 * const parsed = parseXmlElement("<cp:rule id='r1'/>", {
 *   namespaces: { cp: "urn:ietf:params:xml:ns:common-policy" },
 * });
 * assertEquals(parsed.isOk() && parsed.value.root.namespace, "urn:ietf:params:xml:ns:common-policy");
 * assertEquals(parseXmlElement("<a/><b/>")._unsafeUnwrapErr().tag, "not-xml-frag");
 * ```
 */
export function parseXmlElement(
  text: string,
  options: ParseXmlElementOptions = {},
): Result<XmlDocument, ConflictCondition> {
  if (typeof text !== "string") {
    return err({ tag: "not-xml-frag", phrase: "The body is not a string" });
  }
  const given = options.namespaces;
  let scope: ReadonlyMap<string, string> = BASE_NAMESPACES;
  if (given !== undefined) {
    const entries = given instanceof Map
      ? [...(given as ReadonlyMap<string, string>)]
      : Object.entries(given as Readonly<Record<string, string>>);
    scope = new Map([...BASE_NAMESPACES, ...entries.filter(([, uri]) => uri !== "")]);
  }
  const parser = new Parser(text, "element", options.limits ?? {}, scope, options.parentDepth ?? 0);
  parser.allowUndeclaredPrefixes = options.allowUndeclaredPrefixes ?? false;
  return run(parser)
    .mapErr((condition) =>
      condition.tag === "not-well-formed" ? { ...condition, tag: "not-xml-frag" } : condition
    );
}

/**
 * Decode UTF-8 bytes strictly (a byte order mark is dropped); XCAP documents are UTF-8 (RFC 4825
 * §8.2.2 and the `not-utf-8` condition of §11).
 *
 * @param bytes The body.
 * @returns The text, or a `not-utf-8` condition naming the offset of the first bad byte.
 *
 * @example Usage
 * ```ts
 * import { decodeUtf8 } from "./document.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(decodeUtf8(new TextEncoder().encode("<a>é</a>"))._unsafeUnwrap(), "<a>é</a>");
 * assertEquals(decodeUtf8(new Uint8Array([0x3c, 0xff]))._unsafeUnwrapErr(), {
 *   tag: "not-utf-8",
 *   phrase: "The body is not valid UTF-8: invalid byte 0xFF at offset 1",
 * });
 * ```
 */
export function decodeUtf8(bytes: Uint8Array): Result<string, ConflictCondition> {
  if (!(bytes instanceof Uint8Array)) {
    return err({ tag: "not-utf-8", phrase: "The body is not a byte array" });
  }
  try {
    return ok(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    const offset = firstInvalidUtf8(bytes);
    const byte = bytes[offset];
    const what = byte === undefined
      ? `truncated sequence at offset ${offset}`
      : `invalid byte 0x${byte.toString(16).toUpperCase().padStart(2, "0")} at offset ${offset}`;
    return err({ tag: "not-utf-8", phrase: `The body is not valid UTF-8: ${what}` });
  }
}

/** Offset of the first byte that starts an invalid UTF-8 sequence (length if truncated). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let cp: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min, cp] = [1, 0x80, b & 0x1f];
    else if (b >= 0xe0 && b <= 0xef) [need, min, cp] = [2, 0x800, b & 0x0f];
    else if (b >= 0xf0 && b <= 0xf4) [need, min, cp] = [3, 0x10000, b & 0x07];
    else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i + k;
      if ((c & 0xc0) !== 0x80) return i + k;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return n;
}
