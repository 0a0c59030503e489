/**
 * The `resource-lists` application usage (RFC 4826 §3): buddy lists and other lists of URIs, as
 * typed data that parses from and builds to XML without losing what the model does not know.
 *
 * A document holds lists; a list has an optional `name` and display name and holds entries
 * (`<entry uri>`), references to entries elsewhere (`<entry-ref ref>`), references to lists
 * elsewhere (`<external anchor>`) and nested lists, in order.
 *
 * The pure `with…` functions change a value and return the new one; `updateDocument` and the
 * high-level operations (`addEntry`, …) apply them to the document on a server.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { KNOWN_APPLICATIONS } from "../client/media_types.ts";
import { invalidArgument, type InvalidArgumentError } from "../client/errors.ts";
import { parseXmlDocument, type XmlDocument } from "../xml/document.ts";
import {
  checkRoot,
  childOf,
  childrenNamed,
  modelError,
  originOf,
  renderDocument,
} from "./_model.ts";
import type { DocumentCodec, TypedApplicationUsage, XmlOrigin } from "./codec.ts";
import { listPlan, parseList } from "./_lists.ts";

/**
 * The resource-lists namespace (RFC 4826 §3.2).
 *
 * @example Usage
 * ```ts
 * import { RESOURCE_LISTS_NAMESPACE } from "@xcap/xcap/usages";
 * import { parseXmlDocument } from "@xcap/xcap/xml";
 * import { assertEquals } from "@std/assert";
 *
 * // A document is told by the namespace of its root element, whatever prefix it uses.
 * const doc = parseXmlDocument(`<p:resource-lists xmlns:p="${RESOURCE_LISTS_NAMESPACE}"/>`);
 * assertEquals(doc.isOk() && doc.value.root.namespace === RESOURCE_LISTS_NAMESPACE, true);
 * assertEquals(doc.isOk() && doc.value.root.localName, "resource-lists");
 * ```
 */
export const RESOURCE_LISTS_NAMESPACE = "urn:ietf:params:xml:ns:resource-lists";

const RL = RESOURCE_LISTS_NAMESPACE;

/** An `<entry>`: a URI with an optional display name. */
export interface ListEntry {
  /** Discriminant. */
  readonly kind: "entry";
  /** The resource's URI (unique among the entries of a list, RFC 4826 §3.4.5). */
  readonly uri: string;
  /** The `<display-name>`, if any. */
  readonly displayName?: string | undefined;
  /** Where it was parsed from; absent for a new entry. */
  readonly origin?: XmlOrigin | undefined;
}

/** An `<entry-ref>`: a reference to an entry in another list, by relative XCAP URI. */
export interface ListEntryRef {
  /** Discriminant. */
  readonly kind: "entry-ref";
  /** The relative XCAP URI of the referenced entry. */
  readonly ref: string;
  /** The `<display-name>`, if any. */
  readonly displayName?: string | undefined;
  /** Where it was parsed from; absent for a new one. */
  readonly origin?: XmlOrigin | undefined;
}

/** An `<external>`: a reference to a whole list elsewhere, by absolute XCAP URI. */
export interface ListExternal {
  /** Discriminant. */
  readonly kind: "external";
  /** The absolute HTTP URI of the referenced list. */
  readonly anchor?: string | undefined;
  /** The `<display-name>`, if any. */
  readonly displayName?: string | undefined;
  /** Where it was parsed from; absent for a new one. */
  readonly origin?: XmlOrigin | undefined;
}

/** A `<list>`: named, with a display name, holding entries, references and lists in order. */
export interface ResourceList {
  /** Discriminant. */
  readonly kind: "list";
  /** The list's name (unique among its sibling lists, RFC 4826 §3.4.5). */
  readonly name?: string | undefined;
  /** The `<display-name>`, if any. */
  readonly displayName?: string | undefined;
  /** The list's members, in document order. */
  readonly items: readonly ResourceListItem[];
  /** Where it was parsed from; absent for a new list. */
  readonly origin?: XmlOrigin | undefined;
}

/** What a list holds. */
export type ResourceListItem = ListEntry | ListEntryRef | ListExternal | ResourceList;

/** A resource-lists document. */
export interface ResourceLists {
  /** The top-level lists. */
  readonly lists: readonly ResourceList[];
  /** Where it was parsed from; absent for a new document. */
  readonly origin?: XmlOrigin | undefined;
}

const WHAT = "resource-lists";

function toDocument(input: string | XmlDocument): Result<XmlDocument, InvalidArgumentError> {
  if (typeof input !== "string") return ok(input);
  return parseXmlDocument(input).mapErr((c) => modelError(WHAT, c.phrase ?? c.tag));
}

/**
 * Read a resource-lists document into typed data.
 *
 * Unknown elements, attributes and namespaces are not part of the value but stay reachable
 * through `origin`, so {@linkcode buildResourceLists} writes them back.
 *
 * @param input The document text, or an already parsed document.
 * @returns The lists, or `InvalidArgument` (argument `document`) saying what is wrong where.
 *
 * @example Usage
 * ```ts
 * import { parseResourceLists } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const lists = parseResourceLists(
 *   '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">' +
 *     '<list name="friends"><entry uri="sip:bob@example.com"><display-name>Bob</display-name>' +
 *     "</entry></list></resource-lists>",
 * )._unsafeUnwrap();
 * const friends = lists.lists[0]!;
 * assertEquals(friends.name, "friends");
 * assertEquals(friends.items.map((i) => i.kind === "entry" && [i.uri, i.displayName]), [
 *   ["sip:bob@example.com", "Bob"],
 * ]);
 * ```
 */
export function parseResourceLists(
  input: string | XmlDocument,
): Result<ResourceLists, InvalidArgumentError> {
  return toDocument(input).andThen((doc) =>
    checkRoot(doc, RL, "resource-lists", WHAT).andThen((root) =>
      Result.combine(
        childrenNamed(root, RL, "list")
          .map((child) => parseList(child, doc.text)),
      ).map((lists) => ({ lists, origin: originOf(root, doc.text) }))
    )
  );
}

/**
 * Write resource lists as a document. A value parsed by {@linkcode parseResourceLists} keeps
 * every byte its changes did not touch (comments, foreign elements and attributes, prefixes,
 * whitespace); new lists and entries are indented like their siblings.
 *
 * @param value The lists.
 * @returns The document text, or `InvalidArgument` when a value cannot be written (a character
 * XML does not allow).
 *
 * @example Adding an entry keeps the comment
 * ```ts
 * import { buildResourceLists, parseResourceLists, withEntry } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const text = '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">\n' +
 *   '  <list name="friends">\n    <!-- best friends first -->\n  </list>\n</resource-lists>';
 * const lists = parseResourceLists(text)._unsafeUnwrap();
 * const changed = withEntry(lists, "friends", { kind: "entry", uri: "sip:bob@example.com" });
 * assertEquals(
 *   buildResourceLists(changed._unsafeUnwrap())._unsafeUnwrap(),
 *   '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">\n' +
 *     '  <list name="friends">\n    <!-- best friends first -->\n' +
 *     '    <entry uri="sip:bob@example.com"/>\n  </list>\n</resource-lists>',
 * );
 * ```
 */
export function buildResourceLists(value: ResourceLists): Result<string, InvalidArgumentError> {
  return renderDocument({
    origin: value.origin,
    namespace: RL,
    localName: "resource-lists",
    preferredPrefix: "",
    isKnown: (e) => e.namespace === RL && e.localName === "list",
    children: (value.lists ?? []).map((l) => childOf(listPlan(l, RL))),
  });
}

// ---------------------------------------------------------------------------------------------
// Pure changes
// ---------------------------------------------------------------------------------------------

/** A list named by its path of names from the top level: `"friends"` or `["work", "team"]`. */
export type ResourceListPath = string | readonly string[];

function pathNames(path: ResourceListPath): readonly string[] {
  return typeof path === "string" ? [path] : path;
}

function pathText(path: ResourceListPath): string {
  return pathNames(path).map((n) => JSON.stringify(n)).join(" / ");
}

/**
 * The list at a path, if there is one.
 *
 * @param lists The document.
 * @param path The names from the top level.
 * @returns The list, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { findList, parseResourceLists } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const lists = parseResourceLists(
 *   '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="work">' +
 *     '<list name="team"/></list></resource-lists>',
 * )._unsafeUnwrap();
 * assertEquals(findList(lists, ["work", "team"])?.name, "team");
 * assertEquals(findList(lists, "nothing"), undefined);
 * ```
 */
export function findList(lists: ResourceLists, path: ResourceListPath): ResourceList | undefined {
  let candidates: readonly ResourceListItem[] = lists.lists;
  let found: ResourceList | undefined;
  for (const name of pathNames(path)) {
    found = candidates.find((i): i is ResourceList => i.kind === "list" && i.name === name);
    if (found === undefined) return undefined;
    candidates = found.items;
  }
  return found;
}

/** Replace the list at `path` with `change(list)`; `undefined` from `change` removes it. */
function mapList(
  lists: ResourceLists,
  path: ResourceListPath,
  change: (list: ResourceList) => ResourceList | undefined,
): ResourceLists | undefined {
  const names = pathNames(path);
  if (names.length === 0) return undefined;
  const walk = (
    items: readonly ResourceListItem[],
    depth: number,
  ): ResourceListItem[] | undefined => {
    const index = items.findIndex((i) => i.kind === "list" && i.name === names[depth]);
    if (index < 0) return undefined;
    const list = items[index] as ResourceList;
    let replacement: ResourceList | undefined;
    if (depth === names.length - 1) replacement = change(list);
    else {
      const inner = walk(list.items, depth + 1);
      if (inner === undefined) return undefined;
      replacement = { ...list, items: inner };
    }
    const out = [...items];
    if (replacement === undefined) out.splice(index, 1);
    else out[index] = replacement;
    return out;
  };
  const top = walk(lists.lists, 0);
  return top === undefined ? undefined : { ...lists, lists: top as ResourceList[] };
}

function noList(argument: string, path: ResourceListPath, what: string): InvalidArgumentError {
  return invalidArgument(argument, `Cannot ${what}: there is no list ${pathText(path)}`);
}

/** Options of {@linkcode withEntry}. */
export interface WithEntryOptions {
  /** Create the list (at the top level, or inside its parent) when it does not exist. @default true */
  readonly createList?: boolean;
}

/**
 * The lists with an entry added to a list, or its display name updated when the list already
 * has an entry with that URI (entry URIs are unique in a list, RFC 4826 §3.4.5). Adding an entry
 * that is already there unchanged changes nothing, so the change can be applied again safely.
 *
 * @param lists The document.
 * @param path The list.
 * @param entry The entry.
 * @param options `createList`.
 * @returns The new value, or `InvalidArgument` when the list does not exist and may not be
 * created.
 *
 * @example Usage
 * ```ts
 * import { findList, withEntry } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const once = withEntry({ lists: [] }, "friends", { kind: "entry", uri: "sip:bob@example.com" })
 *   ._unsafeUnwrap();
 * const twice = withEntry(once, "friends", { kind: "entry", uri: "sip:bob@example.com" })
 *   ._unsafeUnwrap();
 * assertEquals(findList(twice, "friends")?.items.length, 1);
 * ```
 */
export function withEntry(
  lists: ResourceLists,
  path: ResourceListPath,
  entry: ListEntry,
  options: WithEntryOptions = {},
): Result<ResourceLists, InvalidArgumentError> {
  const names = pathNames(path);
  if (findList(lists, names) === undefined) {
    if (!(options.createList ?? true)) return err(noList("path", path, "add the entry"));
    const parent = names.slice(0, -1);
    if (names.length === 0) {
      return err(invalidArgument("path", "Cannot add the entry: the list path is empty"));
    }
    const created = withList(lists, { kind: "list", name: names[names.length - 1]!, items: [] }, {
      parent,
      createParents: true,
    });
    if (created.isErr()) return err(created.error);
    lists = created.value;
  }
  const result = mapList(lists, names, (list) => {
    const index = list.items.findIndex((i) => i.kind === "entry" && i.uri === entry.uri);
    if (index < 0) return { ...list, items: [...list.items, entry] };
    const existing = list.items[index] as ListEntry;
    if (entry.displayName === undefined || existing.displayName === entry.displayName) return list;
    const items = [...list.items];
    items[index] = { ...existing, displayName: entry.displayName };
    return { ...list, items };
  });
  return result === undefined ? err(noList("path", path, "add the entry")) : ok(result);
}

/**
 * The lists without the entry with that URI. Removing an entry that is not there (or from a
 * list that does not exist) changes nothing.
 *
 * @param lists The document.
 * @param path The list.
 * @param uri The entry's URI.
 * @returns The new value.
 *
 * @example Usage
 * ```ts
 * import { findList, withEntry, withoutEntry } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const lists = withEntry({ lists: [] }, "friends", { kind: "entry", uri: "sip:bob@example.com" })
 *   ._unsafeUnwrap();
 * assertEquals(findList(withoutEntry(lists, "friends", "sip:bob@example.com"), "friends")?.items, []);
 * ```
 */
export function withoutEntry(
  lists: ResourceLists,
  path: ResourceListPath,
  uri: string,
): ResourceLists {
  const list = findList(lists, path);
  if (list === undefined || !list.items.some((i) => i.kind === "entry" && i.uri === uri)) {
    return lists;
  }
  return mapList(lists, path, (l) => ({
    ...l,
    items: l.items.filter((i) => !(i.kind === "entry" && i.uri === uri)),
  })) ?? lists;
}

/**
 * The lists with an entry's display name set (`undefined` removes it).
 *
 * @param lists The document.
 * @param path The list.
 * @param uri The entry's URI.
 * @param displayName The new display name.
 * @returns The new value, or `InvalidArgument` when the list or the entry does not exist.
 *
 * @example Usage
 * ```ts
 * import { findList, withEntry, withEntryDisplayName } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const lists = withEntry({ lists: [] }, "friends", { kind: "entry", uri: "sip:bob@example.com" })
 *   ._unsafeUnwrap();
 * const renamed = withEntryDisplayName(lists, "friends", "sip:bob@example.com", "Bobby")
 *   ._unsafeUnwrap();
 * const bob = findList(renamed, "friends")?.items[0];
 * assertEquals(bob?.kind === "entry" && bob.displayName, "Bobby");
 * ```
 */
export function withEntryDisplayName(
  lists: ResourceLists,
  path: ResourceListPath,
  uri: string,
  displayName: string | undefined,
): Result<ResourceLists, InvalidArgumentError> {
  const list = findList(lists, path);
  if (list === undefined) return err(noList("path", path, `rename entry ${JSON.stringify(uri)}`));
  const index = list.items.findIndex((i) => i.kind === "entry" && i.uri === uri);
  if (index < 0) {
    return err(invalidArgument(
      "uri",
      `Cannot rename entry ${JSON.stringify(uri)}: list ${pathText(path)} has no such entry`,
    ));
  }
  const existing = list.items[index] as ListEntry;
  if (existing.displayName === displayName) return ok(lists);
  return ok(
    mapList(lists, path, (l) => {
      const items = [...l.items];
      items[index] = { ...existing, displayName };
      return { ...l, items };
    })!,
  );
}

/** Options of {@linkcode withList}. */
export interface WithListOptions {
  /** The path of the list to add it to. @default [] (the top level) */
  readonly parent?: ResourceListPath;
  /** Create missing parent lists. @default false */
  readonly createParents?: boolean;
}

/**
 * The lists with a list added. A list with the same name already there is kept (its display
 * name updated when `list` has one), so adding again changes nothing.
 *
 * @param lists The document.
 * @param list The list to add (name required).
 * @param options `parent`, `createParents`.
 * @returns The new value, or `InvalidArgument` (no name, or a missing parent).
 *
 * @example Usage
 * ```ts
 * import { findList, withList } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const lists = withList({ lists: [] }, { kind: "list", name: "work", items: [] })._unsafeUnwrap();
 * const nested = withList(lists, { kind: "list", name: "team", items: [] }, { parent: "work" })
 *   ._unsafeUnwrap();
 * assertEquals(findList(nested, ["work", "team"])?.name, "team");
 * ```
 */
export function withList(
  lists: ResourceLists,
  list: ResourceList,
  options: WithListOptions = {},
): Result<ResourceLists, InvalidArgumentError> {
  if (typeof list.name !== "string") {
    return err(invalidArgument("list", "Cannot add the list: it has no name"));
  }
  const parent = pathNames(options.parent ?? []);
  const merge = (items: readonly ResourceListItem[]): ResourceListItem[] => {
    const index = items.findIndex((i) => i.kind === "list" && i.name === list.name);
    if (index < 0) return [...items, list];
    const existing = items[index] as ResourceList;
    if (list.displayName === undefined || existing.displayName === list.displayName) {
      return items as ResourceListItem[];
    }
    const out = [...items];
    out[index] = { ...existing, displayName: list.displayName };
    return out;
  };
  if (parent.length === 0) {
    const merged = merge(lists.lists);
    return ok(merged === lists.lists ? lists : { ...lists, lists: merged as ResourceList[] });
  }
  if (findList(lists, parent) === undefined) {
    if (!(options.createParents ?? false)) {
      return err(noList("parent", parent, `add list ${JSON.stringify(list.name)}`));
    }
    const created = withList(lists, { kind: "list", name: parent[parent.length - 1]!, items: [] }, {
      parent: parent.slice(0, -1),
      createParents: true,
    });
    if (created.isErr()) return err(created.error);
    lists = created.value;
  }
  const result = mapList(lists, parent, (p) => {
    const merged = merge(p.items);
    return merged === p.items ? p : { ...p, items: merged };
  });
  return ok(result ?? lists);
}

/**
 * The lists without the list at `path`. Removing a list that is not there changes nothing.
 *
 * @param lists The document.
 * @param path The list.
 * @returns The new value.
 *
 * @example Usage
 * ```ts
 * import { withList, withoutList } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const lists = withList({ lists: [] }, { kind: "list", name: "work", items: [] })._unsafeUnwrap();
 * assertEquals(withoutList(lists, "work").lists, []);
 * ```
 */
export function withoutList(lists: ResourceLists, path: ResourceListPath): ResourceLists {
  if (findList(lists, path) === undefined) return lists;
  return mapList(lists, path, () => undefined) ?? lists;
}

/**
 * The lists with a list renamed (its `name` attribute) and, optionally, its display name set.
 *
 * @param lists The document.
 * @param path The list.
 * @param name The new name.
 * @param options `displayName`: also set the display name.
 * @returns The new value, or `InvalidArgument` when the list does not exist or a sibling list
 * already has the name.
 *
 * @example Usage
 * ```ts
 * import { findList, withList, withListName } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * const lists = withList({ lists: [] }, { kind: "list", name: "work", items: [] })._unsafeUnwrap();
 * assertEquals(findList(withListName(lists, "work", "office")._unsafeUnwrap(), "office")?.name, "office");
 * ```
 */
export function withListName(
  lists: ResourceLists,
  path: ResourceListPath,
  name: string,
  options: { readonly displayName?: string } = {},
): Result<ResourceLists, InvalidArgumentError> {
  const names = pathNames(path);
  const list = findList(lists, names);
  if (list === undefined) return err(noList("path", path, `rename it to ${JSON.stringify(name)}`));
  const siblings = names.length === 1 ? lists.lists : findList(lists, names.slice(0, -1))!.items;
  if (name !== list.name && siblings.some((i) => i.kind === "list" && i.name === name)) {
    return err(invalidArgument(
      "name",
      `Cannot rename list ${pathText(path)} to ${
        JSON.stringify(name)
      }: a sibling list already has that name (RFC 4826 §3.4.5)`,
    ));
  }
  const displayName = options.displayName ?? list.displayName;
  if (name === list.name && displayName === list.displayName) return ok(lists);
  return ok(mapList(lists, names, (l) => ({ ...l, name, displayName }))!);
}

/**
 * The codec of resource-lists documents.
 *
 * @example Usage
 * ```ts
 * import { RESOURCE_LISTS_CODEC } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(RESOURCE_LISTS_CODEC.empty({}), { lists: [] });
 * ```
 */
export const RESOURCE_LISTS_CODEC: DocumentCodec<ResourceLists> = Object.freeze({
  parse: (document: XmlDocument) => parseResourceLists(document),
  build: (value: ResourceLists) => buildResourceLists(value),
  empty: (): ResourceLists => ({ lists: [] }),
});

/**
 * The `resource-lists` application usage (RFC 4826 §3.4) with its typed codec: list names,
 * entry URIs, entry-ref refs and external anchors are unique among their siblings (§3.4.5).
 *
 * @example Usage
 * ```ts
 * import { RESOURCE_LISTS } from "@xcap/xcap/usages";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(RESOURCE_LISTS.auid, "resource-lists");
 * assertEquals(RESOURCE_LISTS.uniqueness.map((u) => `${u.localName}@${u.attribute}`), [
 *   "list@name",
 *   "entry@uri",
 *   "entry-ref@ref",
 *   "external@anchor",
 * ]);
 * ```
 */
export const RESOURCE_LISTS: TypedApplicationUsage<ResourceLists> = Object.freeze({
  ...KNOWN_APPLICATIONS.get("resource-lists")!,
  codec: RESOURCE_LISTS_CODEC,
  uniqueness: [
    {
      namespace: RL,
      localName: "list",
      attribute: "name",
      scope: "siblings" as const,
      suggestAlternatives: true,
    },
    { namespace: RL, localName: "entry", attribute: "uri", scope: "siblings" as const },
    { namespace: RL, localName: "entry-ref", attribute: "ref", scope: "siblings" as const },
    { namespace: RL, localName: "external", attribute: "anchor", scope: "siblings" as const },
  ],
  prefixes: { rl: RL },
});
