/**
 * A registry of typed application usages (RFC 4825 §5): each usage's AUID, MIME type, default
 * namespace and document name (the facts of {@linkcode ApplicationUsage}), plus its uniqueness
 * constraints, the namespace prefixes selectors use, and a codec that parses documents into a
 * typed value and builds them back without losing what the model does not know.
 *
 * Every usage of {@linkcode KNOWN_APPLICATIONS} is registered: the ones with a typed model with
 * it, the others (`xcap-caps` for one) with {@linkcode RAW_XML_CODEC}, whose value is the
 * document text. {@linkcode registerApplicationUsage} adds a caller's own usage.
 *
 * @module
 */
import { err, ok, type Result } from "npm:neverthrow@^8.2.0";
import { type ApplicationUsage, KNOWN_APPLICATIONS } from "../client/media_types.ts";
import { invalidArgument, type InvalidArgumentError } from "../client/errors.ts";
import type { NamespaceBindings } from "../client/selector.ts";
import { parseXmlDocument, type XmlDocument } from "../xml/document.ts";
import type { UniquenessConstraint } from "./uniqueness.ts";
import { RESOURCE_LISTS } from "./resource_lists.ts";
import { RLS_SERVICES } from "./rls_services.ts";
import { OMA_PRES_RULES, PRES_RULES } from "./pres_rules.ts";
import { PIDF_MANIPULATION } from "./pidf.ts";
import { XCAP_DIRECTORY } from "./xcap_directory.ts";
import { OPENXCAP_DIALOG_RULES, OPENXCAP_WATCHERS } from "./openxcap.ts";

export type { XmlOrigin } from "./_model.ts";

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
 * import { parseXmlDocument, RAW_XML_CODEC } from "@xcap/xcap";
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

const AUID = /^[A-Za-z0-9\-_~.!$&'()*+,;=:@]+$/;

/** Why a usage cannot be registered, or `undefined`. */
function usageProblem(usage: TypedApplicationUsage<unknown>): string | undefined {
  if (typeof usage !== "object" || usage === null) return "it is not an object";
  if (
    typeof usage.auid !== "string" || !AUID.test(usage.auid) || usage.auid === "." ||
    usage.auid === ".." || usage.auid === "~~"
  ) {
    return `its AUID ${JSON.stringify(usage.auid)} is not a valid path segment (RFC 4825 §6.2)`;
  }
  if (typeof usage.mimeType !== "string" || !/^[\w.+-]+\/[\w.+-]+$/.test(usage.mimeType)) {
    return `its MIME type ${JSON.stringify(usage.mimeType)} is not a type/subtype`;
  }
  if (typeof usage.defaultNamespace !== "string") return "its default namespace is not a string";
  if (typeof usage.defaultDocumentName !== "string" || usage.defaultDocumentName === "") {
    return "its default document name is empty";
  }
  if (!["users", "global", "both"].includes(usage.scope)) {
    return `its scope ${JSON.stringify(usage.scope)} is not users, global or both`;
  }
  const codec = usage.codec;
  if (
    typeof codec !== "object" || codec === null || typeof codec.parse !== "function" ||
    typeof codec.build !== "function" || typeof codec.empty !== "function"
  ) {
    return "its codec lacks parse, build or empty";
  }
  if (!Array.isArray(usage.uniqueness)) return "its uniqueness constraints are not an array";
  if (typeof usage.prefixes !== "object" || usage.prefixes === null) {
    return "its prefixes are not an object";
  }
  return undefined;
}

/** Options of {@linkcode ApplicationRegistry.register} and {@linkcode registerApplicationUsage}. */
export interface RegisterUsageOptions {
  /** Replace a usage already registered under the same AUID. @default false */
  readonly replace?: boolean;
}

/**
 * Application usages by AUID. {@linkcode APPLICATION_REGISTRY} is the shared one; make another
 * with {@linkcode createApplicationRegistry}.
 *
 * @example Usage
 * ```ts
 * import { createApplicationRegistry } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const registry = createApplicationRegistry();
 * assertEquals(registry.get("resource-lists")?.defaultDocumentName, "index");
 * assertEquals(registry.applications().get("pres-rules")?.mimeType, "application/auth-policy+xml");
 * ```
 */
export class ApplicationRegistry {
  readonly #usages = new Map<string, TypedApplicationUsage<unknown>>();

  /**
   * Create a registry holding `usages`.
   *
   * @param usages The usages to start with; later ones replace earlier ones with the same AUID.
   */
  constructor(usages: Iterable<TypedApplicationUsage<unknown>> = []) {
    for (const u of usages) this.#usages.set(u.auid, u);
  }

  /**
   * The usage registered for an AUID.
   *
   * @param auid The application unique ID.
   * @returns The usage, or `undefined`.
   */
  get(auid: string): TypedApplicationUsage<unknown> | undefined {
    return this.#usages.get(auid);
  }

  /**
   * Every registered usage, in registration order.
   *
   * @returns The usages.
   */
  list(): readonly TypedApplicationUsage<unknown>[] {
    return [...this.#usages.values()];
  }

  /**
   * The registered usages as the map `XCAPClient`'s `applications` option takes, so that PUTs of
   * a usage's documents carry its MIME type.
   *
   * @returns AUID to usage.
   */
  applications(): ReadonlyMap<string, ApplicationUsage> {
    return new Map(this.#usages);
  }

  /**
   * Register a usage, after checking its facts (AUID syntax, MIME type, codec).
   *
   * @param usage The usage.
   * @param options `replace`: allow replacing one with the same AUID.
   * @returns The frozen usage, or `InvalidArgument` (argument `usage`).
   */
  register<T>(
    usage: TypedApplicationUsage<T>,
    options: RegisterUsageOptions = {},
  ): Result<TypedApplicationUsage<T>, InvalidArgumentError> {
    const problem = usageProblem(usage as TypedApplicationUsage<unknown>);
    if (problem !== undefined) {
      return err(invalidArgument("usage", `Cannot register the application usage: ${problem}`));
    }
    if (this.#usages.has(usage.auid) && !(options.replace ?? false)) {
      return err(invalidArgument(
        "usage",
        `Cannot register application usage ${usage.auid}: it is already registered (pass ` +
          "replace: true to replace it)",
      ));
    }
    const frozen = Object.freeze({ ...usage });
    this.#usages.set(usage.auid, frozen as TypedApplicationUsage<unknown>);
    return ok(frozen);
  }
}

function rawUsage(usage: ApplicationUsage): TypedApplicationUsage<string> {
  const prefixes = usage.defaultNamespace === "" ? {} : { "": usage.defaultNamespace };
  return Object.freeze({ ...usage, codec: RAW_XML_CODEC, uniqueness: [], prefixes });
}

/** The typed usages this module defines. */
const TYPED: readonly TypedApplicationUsage<unknown>[] = [
  RESOURCE_LISTS,
  RLS_SERVICES,
  PRES_RULES,
  OMA_PRES_RULES,
  PIDF_MANIPULATION,
  XCAP_DIRECTORY,
  OPENXCAP_DIALOG_RULES,
  OPENXCAP_WATCHERS,
] as readonly TypedApplicationUsage<unknown>[];

/**
 * A new registry with every usage of {@linkcode KNOWN_APPLICATIONS}: typed where this module
 * has a model, with {@linkcode RAW_XML_CODEC} otherwise.
 *
 * @param extra Further usages to add (replacing known ones with the same AUID).
 * @returns The registry.
 *
 * @example Usage
 * ```ts
 * import { createApplicationRegistry, RAW_XML_CODEC } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const registry = createApplicationRegistry();
 * assertEquals(registry.get("xcap-caps")?.codec, RAW_XML_CODEC);
 * ```
 */
export function createApplicationRegistry(
  extra: Iterable<TypedApplicationUsage<unknown>> = [],
): ApplicationRegistry {
  const byAuid = new Map<string, TypedApplicationUsage<unknown>>();
  for (const u of KNOWN_APPLICATIONS.values()) {
    byAuid.set(u.auid, rawUsage(u) as TypedApplicationUsage<unknown>);
  }
  for (const u of TYPED) byAuid.set(u.auid, u);
  for (const u of extra) byAuid.set(u.auid, u);
  return new ApplicationRegistry(byAuid.values());
}

/**
 * The shared registry: every known usage, plus whatever {@linkcode registerApplicationUsage}
 * added.
 *
 * @example Usage
 * ```ts
 * import { APPLICATION_REGISTRY } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(APPLICATION_REGISTRY.get("rls-services")?.mimeType, "application/rls-services+xml");
 * ```
 */
export const APPLICATION_REGISTRY: ApplicationRegistry = createApplicationRegistry();

/** Options of {@linkcode registerApplicationUsage}. */
export interface RegisterApplicationUsageOptions extends RegisterUsageOptions {
  /** The registry to add to. @default {APPLICATION_REGISTRY} */
  readonly registry?: ApplicationRegistry;
}

/**
 * Register an application usage of your own: its facts, codec, uniqueness constraints and
 * selector prefixes. {@linkcode updateDocument} and the other typed operations take the returned
 * usage directly; the registry is for looking it up by AUID.
 *
 * @param usage The usage.
 * @param options `registry` (default the shared one) and `replace`.
 * @returns The frozen usage, or `InvalidArgument` saying what is wrong with it.
 *
 * @example A usage whose documents are handled as text
 * ```ts
 * import { createApplicationRegistry, RAW_XML_CODEC, registerApplicationUsage } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * const registry = createApplicationRegistry();
 * const usage = registerApplicationUsage({
 *   auid: "com.example.notes",
 *   mimeType: "application/vnd.example.notes+xml",
 *   defaultNamespace: "urn:example:notes",
 *   defaultDocumentName: "index",
 *   scope: "users",
 *   codec: RAW_XML_CODEC,
 *   uniqueness: [],
 *   prefixes: { n: "urn:example:notes" },
 * }, { registry });
 * assertEquals(usage.isOk(), true);
 * assertEquals(registry.get("com.example.notes")?.mimeType, "application/vnd.example.notes+xml");
 * assertEquals(registerApplicationUsage({ ...usage._unsafeUnwrap() }, { registry }).isErr(), true);
 * ```
 */
export function registerApplicationUsage<T>(
  usage: TypedApplicationUsage<T>,
  options: RegisterApplicationUsageOptions = {},
): Result<TypedApplicationUsage<T>, InvalidArgumentError> {
  const registry = options.registry ?? APPLICATION_REGISTRY;
  return registry.register(
    usage,
    options.replace === undefined ? {} : { replace: options.replace },
  );
}

/**
 * Look an application usage up by AUID.
 *
 * @param auid The application unique ID.
 * @param options `registry`. @default {APPLICATION_REGISTRY}
 * @returns The usage, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { getApplicationUsage } from "@xcap/xcap";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(getApplicationUsage("pidf-manipulation")?.defaultNamespace, "urn:ietf:params:xml:ns:pidf");
 * assertEquals(getApplicationUsage("com.example.nothing"), undefined);
 * ```
 */
export function getApplicationUsage(
  auid: string,
  options: { readonly registry?: ApplicationRegistry } = {},
): TypedApplicationUsage<unknown> | undefined {
  return (options.registry ?? APPLICATION_REGISTRY).get(auid);
}
