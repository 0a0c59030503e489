/**
 * Node selectors (RFC 4825 §6.3) as typed data: parse, format and build.
 *
 * @module
 */

/** A possibly prefixed XML name, as in a `QName`. */
export interface QualifiedName {
  /** The namespace prefix, absent for an unprefixed name. */
  readonly prefix?: string;
  /** The local name. */
  readonly local: string;
}

/** An attribute predicate `[@name="value"]` of a step. */
export interface AttributeTest {
  /** The attribute's name. Unprefixed attribute names are in no namespace. */
  readonly name: QualifiedName;
  /** The attribute value to compare with (entity references already resolved). */
  readonly value: string;
}

/**
 * One location step of an element selector: `name`, `name[3]`, `name[@a="v"]`,
 * `name[3][@a="v"]`; `*` (any element) when `name` is `undefined`.
 */
export interface Step {
  /** The element name to match; `undefined` for `*`. */
  readonly name?: QualifiedName;
  /** 1-based position among the siblings that match the name test. */
  readonly position?: number;
  /** An attribute predicate. */
  readonly attribute?: AttributeTest;
}

/** What a selector ends with after its element steps. */
export type TerminalSelector =
  | { readonly kind: "attribute"; readonly name: QualifiedName }
  | { readonly kind: "namespace" };

/** A parsed node selector: element steps from the root, optionally a terminal selector. */
export interface NodeSelector {
  /** The element steps, the first one selecting the document element. At least one. */
  readonly steps: readonly Step[];
  /** `@attr` or `namespace::*` at the end, if present. */
  readonly terminal?: TerminalSelector;
}
