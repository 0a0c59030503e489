/**
 * A registry of typed application usages (RFC 4825 §5): each usage's AUID, MIME type, default
 * namespace and document name (the facts of {@linkcode ApplicationUsage}), plus its uniqueness
 * constraints, the namespace prefixes selectors use, and a codec that parses documents into a
 * typed value and builds them back without losing what the model does not know.
 *
 * {@linkcode createApplicationRegistry} makes one with every usage of
 * {@linkcode KNOWN_APPLICATIONS}: the ones with a typed model with it, the others (`xcap-caps` for
 * one) with {@linkcode RAW_XML_CODEC}, whose value is the document text;
 * {@linkcode ApplicationRegistry.register} adds a caller's own usage. A registry is a value you
 * hold and pass on (its `applications()` is the client's `applications` option): there is no
 * shared, mutable one.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { type ApplicationUsage, KNOWN_APPLICATIONS } from "../client/media_types.ts";
import { invalidArgument, type InvalidArgumentError } from "../client/errors.ts";
import { RAW_XML_CODEC, type TypedApplicationUsage } from "./codec.ts";
import { RESOURCE_LISTS } from "./resource_lists.ts";
import { RLS_SERVICES } from "./rls_services.ts";
import { OMA_PRES_RULES, PRES_RULES } from "./pres_rules.ts";
import { PIDF_MANIPULATION } from "./pidf.ts";
import { XCAP_DIRECTORY } from "./xcap_directory.ts";
import { OPENXCAP_DIALOG_RULES, OPENXCAP_WATCHERS } from "./openxcap.ts";

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

/** Options of {@linkcode ApplicationRegistry.register}. */
export interface RegisterUsageOptions {
  /** Replace a usage already registered under the same AUID. @default false */
  readonly replace?: boolean;
}

/**
 * Application usages by AUID; {@linkcode createApplicationRegistry} makes one with every usage
 * this module knows.
 *
 * @example Usage
 * ```ts
 * import { createApplicationRegistry } from "@xcap/xcap/usages";
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
   * Register an application usage of your own, after checking its facts (AUID syntax, MIME type,
   * codec, uniqueness constraints, selector prefixes). {@linkcode updateDocument} and the other
   * typed operations take the returned usage directly; the registry is for looking it up by
   * AUID.
   *
   * @param usage The usage.
   * @param options `replace`: allow replacing one with the same AUID.
   * @returns The frozen usage, or `InvalidArgument` (argument `usage`) saying what is wrong.
   *
   * @example A usage whose documents are handled as text
   * ```ts
   * import { createApplicationRegistry, RAW_XML_CODEC } from "@xcap/xcap/usages";
   * import { assertEquals } from "@std/assert";
   *
   * const registry = createApplicationRegistry();
   * const usage = registry.register({
   *   auid: "com.example.notes",
   *   mimeType: "application/vnd.example.notes+xml",
   *   defaultNamespace: "urn:example:notes",
   *   defaultDocumentName: "index",
   *   scope: "users",
   *   codec: RAW_XML_CODEC,
   *   uniqueness: [],
   *   prefixes: { n: "urn:example:notes" },
   * });
   * assertEquals(usage.isOk(), true);
   * assertEquals(registry.get("com.example.notes")?.mimeType, "application/vnd.example.notes+xml");
   * assertEquals(registry.register({ ...usage._unsafeUnwrap() }).isErr(), true);
   * ```
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
 * import { createApplicationRegistry, RAW_XML_CODEC } from "@xcap/xcap/usages";
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
