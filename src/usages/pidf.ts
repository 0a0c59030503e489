/**
 * The `pidf-manipulation` application usage (RFC 4827): a presentity's own presence document in
 * PIDF (RFC 3863), as typed data that parses from and builds to XML without losing what the
 * model does not know (RPID and data-model elements, for one, stay as they are).
 *
 * A document has an `entity`, tuples (each with a `<status>`/`<basic>`, an optional contact,
 * notes and a timestamp) and presence-level notes.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { KNOWN_APPLICATIONS } from "../client/media_types.ts";
import { invalidArgument, type InvalidArgumentError } from "../client/errors.ts";
import type { XmlDocument, XmlElement } from "../xml/document.ts";
import {
  attributeValue,
  checkRoot,
  childOf,
  type ChildPlan,
  childrenNamed,
  describePath,
  firstChild,
  modelError,
  originOf,
  readModelDocument,
  renderDocument,
  requiredAttribute,
  textContent,
  XML_NAMESPACE,
  xmlLang,
} from "./_model.ts";
import type { DocumentCodec, TypedApplicationUsage, XmlOrigin } from "./codec.ts";

/**
 * The PIDF namespace (RFC 3863 §4.4).
 *
 * @example Usage
 * ```ts
 * import { parsePresence, PIDF_NAMESPACE } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const presence = parsePresence(
 *   `<presence xmlns="${PIDF_NAMESPACE}" entity="pres:alice@example.com"><note>Away</note></presence>`,
 * );
 * assertEquals(presence.map((p) => p.notes.map((n) => n.value)).unwrapOr([]), ["Away"]);
 * ```
 */
export const PIDF_NAMESPACE = "urn:ietf:params:xml:ns:pidf";

const PIDF = PIDF_NAMESPACE;
const WHAT = "PIDF";

/** A `<note>`, with its language. */
export interface PresenceNote {
  /** The text. */
  readonly value: string;
  /** Its `xml:lang`, if any. */
  readonly lang?: string | undefined;
  /** Where it was parsed from. */
  readonly origin?: XmlOrigin | undefined;
}

/** A tuple's `<contact>`. */
export interface PresenceContact {
  /** The contact URI. */
  readonly uri: string;
  /** Its `priority` (a decimal from 0 to 1, as text). */
  readonly priority?: string | undefined;
}

/** A `<tuple>`. */
export interface PresenceTuple {
  /** The tuple's `id` (an `xs:ID`, unique in the document). */
  readonly id: string;
  /** `<status><basic>`: open or closed. */
  readonly basic?: "open" | "closed" | undefined;
  /** `<contact>`. */
  readonly contact?: PresenceContact | undefined;
  /** The tuple's notes. */
  readonly notes?: readonly PresenceNote[] | undefined;
  /** `<timestamp>` (an `xs:dateTime`, as text). */
  readonly timestamp?: string | undefined;
  /** Where it was parsed from. */
  readonly origin?: XmlOrigin | undefined;
}

/** A PIDF `<presence>` document. */
export interface Presence {
  /** The presentity's URI (`entity`). */
  readonly entity: string;
  /** The tuples. */
  readonly tuples: readonly PresenceTuple[];
  /** The presence-level notes. */
  readonly notes: readonly PresenceNote[];
  /** Where it was parsed from. */
  readonly origin?: XmlOrigin | undefined;
}

function parseNote(e: XmlElement, text: string): PresenceNote {
  const lang = xmlLang(e);
  return {
    value: textContent(e),
    ...(lang === undefined ? {} : { lang }),
    origin: originOf(e, text),
  };
}

function notesOf(e: XmlElement, text: string): PresenceNote[] {
  return childrenNamed(e, PIDF, "note").map((c) => parseNote(c, text));
}

function parseTuple(e: XmlElement, text: string): Result<PresenceTuple, InvalidArgumentError> {
  return requiredAttribute(e, "id", WHAT).andThen((id) => readTuple(e, text, id));
}

function readTuple(
  e: XmlElement,
  text: string,
  id: string,
): Result<PresenceTuple, InvalidArgumentError> {
  const status = firstChild(e, PIDF, "status");
  const basicElement = status === undefined ? undefined : firstChild(status, PIDF, "basic");
  let basic: "open" | "closed" | undefined;
  if (basicElement !== undefined) {
    const value = textContent(basicElement).trim();
    if (value !== "open" && value !== "closed") {
      return err(modelError(
        WHAT,
        `<basic> at ${describePath(basicElement)} is ${
          JSON.stringify(value)
        }, not "open" or "closed" (RFC 3863 §4.1.4)`,
      ));
    }
    basic = value;
  }
  const contactElement = firstChild(e, PIDF, "contact");
  const priority = contactElement === undefined
    ? undefined
    : attributeValue(contactElement, "priority");
  const timestamp = firstChild(e, PIDF, "timestamp");
  return ok({
    id,
    ...(basic === undefined ? {} : { basic }),
    ...(contactElement === undefined ? {} : {
      contact: {
        uri: textContent(contactElement).trim(),
        ...(priority === undefined ? {} : { priority }),
      },
    }),
    notes: notesOf(e, text),
    ...(timestamp === undefined ? {} : { timestamp: textContent(timestamp).trim() }),
    origin: originOf(e, text),
  });
}

/**
 * Read a PIDF document into typed data.
 *
 * @param input The document text, or a parsed document.
 * @returns The presence, or `InvalidArgument` (argument `document`).
 *
 * @example Usage
 * ```ts
 * import { parsePresence } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const presence = parsePresence(
 *   '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:someone@example.com">' +
 *     '<tuple id="t1"><status><basic>open</basic></status></tuple>' +
 *     "<note>I'll be in Tokyo next week</note></presence>",
 * )._unsafeUnwrap();
 * assertEquals(presence.tuples[0]?.basic, "open");
 * assertEquals(presence.notes.map((n) => n.value), ["I'll be in Tokyo next week"]);
 * ```
 */
export function parsePresence(input: string | XmlDocument): Result<Presence, InvalidArgumentError> {
  const doc = readModelDocument(input, WHAT);
  return doc.andThen((d) =>
    checkRoot(d, PIDF, "presence", WHAT).andThen((root) =>
      requiredAttribute(root, "entity", WHAT).andThen((entity) =>
        Result.combine(
          childrenNamed(root, PIDF, "tuple")
            .map((c) => parseTuple(c, d.text)),
        ).map((tuples) => ({
          entity,
          tuples,
          notes: notesOf(root, d.text),
          origin: originOf(root, d.text),
        }))
      )
    )
  );
}

function isFirst(e: XmlElement, local: string): boolean {
  return e.namespace === PIDF && e.localName === local && e.parent !== undefined &&
    firstChild(e.parent, PIDF, local) === e;
}

function notePlan(note: PresenceNote): ChildPlan {
  return childOf({
    origin: note.origin,
    namespace: PIDF,
    localName: "note",
    preferredPrefix: "pidf",
    attributes: [{ namespace: XML_NAMESPACE, localName: "lang", value: note.lang }],
    text: note.value,
  });
}

function leafOf(
  parent: XmlOrigin | undefined,
  local: string,
  value: string,
  attributes: { localName: string; value: string | undefined }[] = [],
): ChildPlan {
  const e = parent === undefined ? undefined : firstChild(parent.element, PIDF, local);
  return childOf({
    origin: e === undefined ? undefined : originOf(e, parent!.text),
    namespace: PIDF,
    localName: local,
    preferredPrefix: "pidf",
    attributes,
    text: e !== undefined && textContent(e).trim() === value ? textContent(e) : value,
  });
}

function tuplePlan(tuple: PresenceTuple): ChildPlan {
  const origin = tuple.origin;
  const statusElement = origin === undefined
    ? undefined
    : firstChild(origin.element, PIDF, "status");
  const statusOrigin = statusElement === undefined
    ? undefined
    : originOf(statusElement, origin!.text);
  const status = childOf({
    origin: statusOrigin,
    namespace: PIDF,
    localName: "status",
    preferredPrefix: "pidf",
    isKnown: (e) => isFirst(e, "basic"),
    children: tuple.basic === undefined ? [] : [leafOf(statusOrigin, "basic", tuple.basic)],
  });
  return childOf({
    origin,
    namespace: PIDF,
    localName: "tuple",
    preferredPrefix: "pidf",
    attributes: [{ localName: "id", value: tuple.id }],
    isKnown: (e) =>
      isFirst(e, "status") || isFirst(e, "contact") || isFirst(e, "timestamp") ||
      (e.namespace === PIDF && e.localName === "note"),
    children: [
      status,
      ...(tuple.contact === undefined ? [] : [leafOf(origin, "contact", tuple.contact.uri, [{
        localName: "priority",
        value: tuple.contact.priority,
      }])]),
      ...(tuple.notes ?? []).map(notePlan),
      ...(tuple.timestamp === undefined ? [] : [leafOf(origin, "timestamp", tuple.timestamp)]),
    ],
  });
}

/**
 * Write a presence document, keeping what the model does not know.
 *
 * @param value The presence.
 * @returns The document text, or `InvalidArgument`.
 *
 * @example Changing the note keeps the person element
 * ```ts
 * import { buildPresence, parsePresence } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const presence = parsePresence(
 *   '<presence xmlns="urn:ietf:params:xml:ns:pidf" ' +
 *     'xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" entity="sip:a@example.com">' +
 *     '<dm:person id="p1"/><note>Old</note></presence>',
 * )._unsafeUnwrap();
 * assertEquals(
 *   buildPresence({ ...presence, notes: [{ value: "At lunch" }] })._unsafeUnwrap(),
 *   '<presence xmlns="urn:ietf:params:xml:ns:pidf" ' +
 *     'xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" entity="sip:a@example.com">' +
 *     '<dm:person id="p1"/><note>At lunch</note></presence>',
 * );
 * ```
 */
export function buildPresence(value: Presence): Result<string, InvalidArgumentError> {
  return renderDocument({
    origin: value.origin,
    namespace: PIDF,
    localName: "presence",
    preferredPrefix: "",
    attributes: [{ localName: "entity", value: value.entity }],
    isKnown: (e) => e.namespace === PIDF && (e.localName === "tuple" || e.localName === "note"),
    children: [...(value.tuples ?? []).map(tuplePlan), ...(value.notes ?? []).map(notePlan)],
  });
}

/**
 * The presence with its presence-level note in a language set: notes with that `xml:lang` (or,
 * with no `lang`, notes without one) are replaced by one with `note`; `undefined` removes them.
 * Setting the note it already has changes nothing.
 *
 * @param presence The presence.
 * @param note The note, or `undefined` to remove it.
 * @param options `lang`: the note's language.
 * @returns The new presence.
 *
 * @example Usage
 * ```ts
 * import { withPresenceNote } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const presence = withPresenceNote({ entity: "sip:a@example.com", tuples: [], notes: [] }, "Busy");
 * assertEquals(presence.notes.map((n) => n.value), ["Busy"]);
 * assertEquals(withPresenceNote(presence, undefined).notes, []);
 * ```
 */
export function withPresenceNote(
  presence: Presence,
  note: string | undefined,
  options: { readonly lang?: string } = {},
): Presence {
  const lang = options.lang;
  const same = presence.notes.filter((n) => n.lang === lang);
  if (note === undefined ? same.length === 0 : same.length === 1 && same[0]!.value === note) {
    return presence;
  }
  const notes: PresenceNote[] = [];
  let placed = false;
  for (const n of presence.notes) {
    if (n.lang !== lang) notes.push(n);
    else if (!placed && note !== undefined) {
      notes.push({ ...n, value: note });
      placed = true;
    }
  }
  if (!placed && note !== undefined) {
    notes.push({ value: note, ...(lang === undefined ? {} : { lang }) });
  }
  return { ...presence, notes };
}

/**
 * The codec of PIDF documents; a missing document starts as an empty `<presence>` whose entity
 * is the user's XUI.
 *
 * @example Usage
 * ```ts
 * import { PIDF_CODEC } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(PIDF_CODEC.empty({ xui: "sip:a@example.com" }), {
 *   entity: "sip:a@example.com",
 *   tuples: [],
 *   notes: [],
 * });
 * ```
 */
export const PIDF_CODEC: DocumentCodec<Presence> = Object.freeze({
  parse: (document: XmlDocument) => parsePresence(document),
  build: (value: Presence) =>
    typeof value.entity === "string" && value.entity !== ""
      ? buildPresence(value)
      : err(invalidArgument("value", "Cannot build the PIDF document: its entity is empty")),
  empty: (context: { readonly xui?: string }): Presence => ({
    entity: context.xui ?? "",
    tuples: [],
    notes: [],
  }),
});

/**
 * The `pidf-manipulation` application usage (RFC 4827 §4): tuple ids are unique in the
 * document (RFC 3863 §4.1.2).
 *
 * @example Usage
 * ```ts
 * import { PIDF_MANIPULATION } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(PIDF_MANIPULATION.mimeType, "application/pidf+xml");
 * ```
 */
export const PIDF_MANIPULATION: TypedApplicationUsage<Presence> = Object.freeze({
  ...KNOWN_APPLICATIONS.get("pidf-manipulation")!,
  codec: PIDF_CODEC,
  uniqueness: [{
    namespace: PIDF,
    localName: "tuple",
    attribute: "id",
    scope: "document" as const,
  }],
  prefixes: { pidf: PIDF },
});
