/**
 * The contract of a typed application usage: a codec that parses a usage's documents into typed
 * values and builds them back without losing what the model does not know, and the usage facts
 * (AUID, MIME type, namespaces, uniqueness constraints, selector prefixes) that go with it.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { invalidArgument, type InvalidArgumentError } from "../client/errors.ts";
import type { ApplicationUsage } from "../client/media_types.ts";
import type { NamespaceBindings } from "../client/selector.ts";
import { parseXmlDocument, type XmlDocument, type XmlElement } from "../xml/document.ts";
import type { UniquenessConstraint } from "./uniqueness.ts";

/**
 * Where a typed node came from: the element it was parsed from and the text of its document.
 * Building uses it to keep what the model does not know; a node without one is generated.
 */
export interface XmlOrigin {
  /** The element the node was parsed from. */
  readonly element: XmlElement;
  /** The text of the document the element belongs to. */
  readonly text: string;
}

/** What a codec's `empty` gets to build the value of a document that does not exist yet. */
export interface EmptyDocumentContext {
  /** The XCAP User Identifier whose document it is, when it is a user's document. */
  readonly xui?: string;
}

/**
 * Parses a usage's documents into typed values and builds them back.
 *
 * `build` of a value that came from `parse` (possibly changed) keeps every byte of the document
 * the change did not touch; `empty` is the value a missing document starts from.
 */
export interface DocumentCodec<T> {
  /** Read a parsed document into the typed value. */
  parse(document: XmlDocument): Result<T, InvalidArgumentError>;
  /** Write a value back to document text. */
  build(value: T): Result<string, InvalidArgumentError>;
  /** The value of a document that does not exist yet. */
  empty(context: EmptyDocumentContext): T;
}

/** An application usage with its codec and constraints. */
export interface TypedApplicationUsage<T> extends ApplicationUsage {
  /** Parses and builds the usage's documents. */
  readonly codec: DocumentCodec<T>;
  /**
   * Attributes that must be unique. They also identify elements in node selectors built for
   * minimal updates (`list[@name="friends"]`).
   */
  readonly uniqueness: readonly UniquenessConstraint[];
  /** Conventional prefixes for the namespaces its documents use, for node selectors. */
  readonly prefixes: NamespaceBindings;
}

/**
 * The codec of usages without a typed model: the value is the document text, checked to be
 * well-formed XML when built.
 *
 * @example Usage
 * ```ts
 * import { RAW_XML_CODEC } from "@xcap/xcap/usages";
 * import { parseXmlDocument } from "@xcap/xcap/xml";
 * import { assertEquals } from "@std/assert";
 *
 * const doc = parseXmlDocument("<a><!-- kept --></a>")._unsafeUnwrap();
 * assertEquals(RAW_XML_CODEC.parse(doc)._unsafeUnwrap(), "<a><!-- kept --></a>");
 * assertEquals(RAW_XML_CODEC.build("<a>").isErr(), true);
 * ```
 */
export const RAW_XML_CODEC: DocumentCodec<string> = Object.freeze({
  parse(document: XmlDocument): Result<string, InvalidArgumentError> {
    return ok(document.text);
  },
  build(value: string): Result<string, InvalidArgumentError> {
    return parseXmlDocument(value).match(
      () => ok(value),
      (condition) =>
        err(invalidArgument("value", `The document is not well-formed XML: ${condition.phrase}`)),
    );
  },
  empty(): string {
    return "";
  },
});
