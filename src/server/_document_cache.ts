/**
 * The handler's cache of parsed documents, bounded by an estimate of the memory they hold.
 *
 * Private module: {@linkcode DocumentCache} and {@linkcode estimateDocumentBytes} are used by
 * `handler.ts` and measured by `tests/bench/cache_estimate.ts`; neither is exported from the
 * package.
 *
 * Pure: Web APIs only.
 *
 * @module
 */
import type { XmlDocument, XmlElement } from "../xml/document.ts";
import { type DocumentKey, formatDocumentKey } from "./store.ts";

/**
 * Heap bytes per part of a parsed document, calibrated on V8 15.0 (Deno 2.9.6) by
 * `tests/bench/cache_estimate.ts`: the V8 heap in use after a full collection, before and after
 * parsing copies of 17 kinds of documents (99,000 empty elements; 20,000 entries with an
 * attribute, with display names and indentation; five attributes per element; namespace
 * declarations on every element; comments and CDATA; long attribute values; dense entity
 * references; two-byte text; pres-rules; nested lists; 120- and 240-byte documents), fitted by
 * least squares over the counts below, then rounded up. The estimate runs 1.2–2.1× the
 * measurement (2.1–2.6× under 1 KB), never below; a second harness (the parser imported alone)
 * measured up to 25 % more for some kinds, which these costs still cover. The text term is
 * the largest uncertainty: attribute values and character data are slices of the text or
 * copies depending on length and references, so it is priced as if copied.
 */
const COST = {
  /** The document object, its prolog and epilog arrays. */
  document: 2048,
  /**
   * Per character of text, per byte of its representation (1 for Latin-1 text, 2 otherwise):
   * the text itself, plus the copies that attribute values and character data may make of it.
   */
  character: 4,
  /** An element object, its (often shared) arrays, and its slot in the parent's children. */
  element: 360,
  /** The own array of an element that has attributes. */
  attributeArray: 200,
  /** An attribute object with its value strings. */
  attribute: 160,
  /** The own array of an element that has children. */
  childArray: 150,
  /** A text, CDATA, comment or processing-instruction node with its value. */
  node: 100,
  /** The copied namespace scope (a `Map`) of an element that declares namespaces. */
  namespaceScope: 420,
  /** An entity or character reference or a CR: the value is then built from pieces. */
  reference: 64,
} as const;

/**
 * Estimate the heap memory a parsed document holds, text included, in bytes (see
 * {@linkcode COST}). Linear in the size of the tree; run once per cached version.
 */
export function estimateDocumentBytes(doc: XmlDocument): number {
  const text = doc.text;
  let references = 0;
  for (let i = text.indexOf("&"); i >= 0; i = text.indexOf("&", i + 1)) references++;
  for (let i = text.indexOf("\r"); i >= 0; i = text.indexOf("\r", i + 1)) references++;
  // V8 keeps a string of Latin-1 characters in one byte per character, others in two.
  const perCharacter = /[\u0100-\uffff]/.test(text) ? 2 * COST.character : COST.character;
  let bytes = COST.document + perCharacter * text.length + COST.reference * references +
    COST.node * (doc.prolog.length + doc.epilog.length);
  const stack: XmlElement[] = [doc.root];
  for (let element = stack.pop(); element !== undefined; element = stack.pop()) {
    bytes += COST.element + COST.attribute * element.attributes.length;
    if (element.attributes.length > 0) bytes += COST.attributeArray;
    if (element.namespaceDeclarations.length > 0) bytes += COST.namespaceScope;
    if (element.children.length > 0) bytes += COST.childArray;
    for (const child of element.children) {
      if (child.kind === "element") stack.push(child);
      else bytes += COST.node;
    }
  }
  return bytes;
}

/** Bounds of a {@linkcode DocumentCache}. */
export interface DocumentCacheBounds {
  /** Most documents kept. `0` turns the cache off. */
  readonly maxEntries: number;
  /** Most bytes of estimated memory kept, summed over all entries. `0` turns the cache off. */
  readonly maxBytes: number;
}

interface Entry {
  readonly etag: string;
  readonly doc: XmlDocument;
  readonly bytes: number;
}

/**
 * A bounded LRU of parsed documents: one entry per document, holding the version with the
 * entity-tag last seen (older versions are never asked for again, so they are dropped at once).
 * A document whose estimate alone exceeds the budget is not kept.
 */
export class DocumentCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(bounds: DocumentCacheBounds) {
    this.#maxEntries = Math.max(0, bounds.maxEntries);
    this.#maxBytes = Math.max(0, bounds.maxBytes);
  }

  /** Estimated bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Documents held now. */
  get size(): number {
    return this.#entries.size;
  }

  get(key: DocumentKey, etag: string): XmlDocument | undefined {
    const id = formatDocumentKey(key);
    const entry = this.#entries.get(id);
    if (entry === undefined || entry.etag !== etag) return undefined;
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    return entry.doc;
  }

  set(key: DocumentKey, etag: string, doc: XmlDocument): void {
    const id = formatDocumentKey(key);
    this.#drop(id);
    if (this.#maxEntries === 0 || this.#maxBytes === 0) return;
    const bytes = estimateDocumentBytes(doc);
    if (bytes > this.#maxBytes) return;
    this.#entries.set(id, { etag, doc, bytes });
    this.#bytes += bytes;
    while (this.#entries.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#drop(oldest.value);
    }
  }

  delete(key: DocumentKey): void {
    this.#drop(formatDocumentKey(key));
  }

  #drop(id: string): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    this.#entries.delete(id);
    this.#bytes -= entry.bytes;
  }
}
