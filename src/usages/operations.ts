/**
 * The everyday operations, each one {@linkcode updateDocument} with a convergent change (applying
 * it twice is applying it once, so it may take several node operations): add, rename and remove
 * an entry or a list of a buddy list (resource-lists), allow, block or polite-block a watcher
 * (pres-rules), set a presence note (pidf-manipulation).
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { errAsync, type ResultAsync } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import type { XcapResourceClient } from "../client/client.ts";
import { invalidArgument, type InvalidArgumentError, type XcapError } from "../client/errors.ts";
import type { TypedApplicationUsage } from "./codec.ts";
import {
  RESOURCE_LISTS,
  type ResourceListPath,
  type ResourceLists,
  withEntry,
  withEntryDisplayName,
  withList,
  withListName,
  withoutEntry,
  withoutList,
} from "./resource_lists.ts";
import { PRES_RULES, type Ruleset, type SubHandling, withWatcherHandling } from "./pres_rules.ts";
import { PIDF_MANIPULATION, type Presence, withPresenceNote } from "./pidf.ts";
import { updateDocument, type UpdateOptions, type UpdateResult } from "./update.ts";

function convergent(options: UpdateOptions): UpdateOptions {
  return { convergent: true, ...options };
}

// RFC 3986 §3: a URI starts with a scheme (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"), and
// no URI holds white space or control characters (§2).
const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:./s;
function hasSpaceOrControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) return true;
  }
  return /\s/.test(value);
}

/** Why `value` cannot be the URI `field` of `operation` (an entry's, a watcher's), if it cannot. */
function checkUri(
  operation: string,
  field: string,
  value: unknown,
): InvalidArgumentError | undefined {
  if (typeof value !== "string") {
    return invalidArgument(
      field,
      `${operation}: ${field} must be a URI string, not ${typeof value}`,
    );
  }
  if (value === "") {
    return invalidArgument(
      field,
      `${operation}: ${field} is empty; give a URI such as "sip:bob@example.com"`,
    );
  }
  if (hasSpaceOrControl(value) || !URI_SCHEME.test(value)) {
    return invalidArgument(
      field,
      `${operation}: ${field} ${JSON.stringify(value)} is not a URI (RFC 3986 §3: a scheme, ` +
        `then ":", and no spaces), e.g. "sip:bob@example.com"`,
    );
  }
  return undefined;
}

/** Why `value` cannot be the list name `field` of `operation`, if it cannot. */
function checkName(
  operation: string,
  field: string,
  value: unknown,
): InvalidArgumentError | undefined {
  if (typeof value !== "string") {
    return invalidArgument(
      field,
      `${operation}: ${field} must be a list name, not ${typeof value}`,
    );
  }
  return value.trim() === ""
    ? invalidArgument(field, `${operation}: ${field} is empty; a list needs a name`)
    : undefined;
}

/** Why `value` cannot be the list (a name, or a path of names) `field` of `operation`. */
function checkListPath(
  operation: string,
  field: string,
  value: unknown,
): InvalidArgumentError | undefined {
  if (!Array.isArray(value)) return checkName(operation, field, value);
  if (value.length === 0) {
    return invalidArgument(field, `${operation}: ${field} is an empty path; name the list`);
  }
  for (const [index, name] of value.entries()) {
    const problem = checkName(operation, `${field}[${index}]`, name);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** The first problem found, as an error value; `undefined` when there is none. */
function refuse<T>(
  ...problems: readonly (InvalidArgumentError | undefined)[]
): ResultAsync<T, XcapError> | undefined {
  const problem = problems.find((p) => p !== undefined);
  return problem === undefined ? undefined : errAsync(problem);
}

/** `request` itself must be an object before its fields are looked at. */
function checkRequest(operation: string, request: unknown): InvalidArgumentError | undefined {
  return typeof request === "object" && request !== null
    ? undefined
    : invalidArgument("request", `${operation}: the request must be an object`);
}

/** What {@linkcode addEntry} adds. */
export interface AddEntryRequest {
  /** The list, by name or path of names (created when missing). */
  readonly list: ResourceListPath;
  /** The entry's URI. */
  readonly uri: string;
  /** Its display name. */
  readonly displayName?: string;
}

/**
 * Add an entry to a buddy list (resource-lists), once: the list is created when missing, an
 * entry with the same URI is kept (its display name updated when one is given), so concurrent
 * and repeated calls never duplicate it. On an RFC 4825 server this is one element PUT, e.g.
 * `PUT …/~~/resource-lists/list[@name="friends"]/entry[@uri="sip:bob@example.com"]` with
 * `If-Match`.
 *
 * @param client The client.
 * @param request The list, URI and display name.
 * @param options As for {@linkcode updateDocument}.
 * @returns The update's outcome.
 *
 * @example Usage
 * ```ts
 * import { XCAPClient } from "@xcap/xcap";
 * import { addEntry } from "@xcap/xcap/usages";
 * import { startXcapServer } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const started = await startXcapServer({ hostname: "127.0.0.1", port: 0 });
 * if (started.isErr()) throw new Error(started.error.message);
 * const server = started.value;
 * const client = new XCAPClient(server.xcapRoot, "sip:alice@example.com");
 * await addEntry(client, { list: "friends", uri: "sip:bob@example.com" });
 * const second = await addEntry(client, { list: "friends", uri: "sip:carol@example.com" });
 * assertEquals(second.map((r) => r.requests.map((q) => q.node)).unwrapOr(undefined), [
 *   '/resource-lists/list[@name="friends"]/entry[@uri="sip:carol@example.com"]',
 * ]);
 * await server.close();
 * ```
 */
export function addEntry(
  client: XcapResourceClient,
  request: AddEntryRequest,
  options: UpdateOptions = {},
): ResultAsync<UpdateResult<ResourceLists>, XcapError> {
  const refused = refuse<UpdateResult<ResourceLists>>(
    checkRequest("addEntry", request),
    ...(typeof request === "object" && request !== null
      ? [
        checkListPath("addEntry", "request.list", request.list),
        checkUri("addEntry", "request.uri", request.uri),
      ]
      : []),
  );
  if (refused !== undefined) return refused;
  return updateDocument(client, RESOURCE_LISTS, (lists) =>
    withEntry(lists, request.list, {
      kind: "entry",
      uri: request.uri,
      ...(request.displayName === undefined ? {} : { displayName: request.displayName }),
    }), convergent(options));
}

/** What {@linkcode removeEntry} removes. */
export interface RemoveEntryRequest {
  /** The list. */
  readonly list: ResourceListPath;
  /** The entry's URI. */
  readonly uri: string;
}

/**
 * Remove an entry from a buddy list; nothing is written when it is not there.
 *
 * @param client The client.
 * @param request The list and URI.
 * @param options As for {@linkcode updateDocument}.
 * @returns The update's outcome.
 *
 * @example Usage
 * ```ts
 * import { XCAPClient } from "@xcap/xcap";
 * import { addEntry, removeEntry } from "@xcap/xcap/usages";
 * import { startXcapServer } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const started = await startXcapServer({ hostname: "127.0.0.1", port: 0 });
 * if (started.isErr()) throw new Error(started.error.message);
 * const server = started.value;
 * const client = new XCAPClient(server.xcapRoot, "sip:alice@example.com");
 * await addEntry(client, { list: "friends", uri: "sip:bob@example.com" });
 * const removed = await removeEntry(client, { list: "friends", uri: "sip:bob@example.com" });
 * assertEquals(removed.map((r) => r.requests.map((q) => q.method)).unwrapOr([]), ["DELETE"]);
 * await server.close();
 * ```
 */
export function removeEntry(
  client: XcapResourceClient,
  request: RemoveEntryRequest,
  options: UpdateOptions = {},
): ResultAsync<UpdateResult<ResourceLists>, XcapError> {
  const refused = refuse<UpdateResult<ResourceLists>>(
    checkRequest("removeEntry", request),
    ...(typeof request === "object" && request !== null
      ? [
        checkListPath("removeEntry", "request.list", request.list),
        checkUri("removeEntry", "request.uri", request.uri),
      ]
      : []),
  );
  if (refused !== undefined) return refused;
  return updateDocument(
    client,
    RESOURCE_LISTS,
    (lists) => withoutEntry(lists, request.list, request.uri),
    convergent(options),
  );
}

/** What {@linkcode renameEntry} renames. */
export interface RenameEntryRequest {
  /** The list. */
  readonly list: ResourceListPath;
  /** The entry's URI. */
  readonly uri: string;
  /** The new display name; `undefined` removes it. */
  readonly displayName: string | undefined;
}

/**
 * Set (rename) an entry's display name.
 *
 * @param client The client.
 * @param request The list, URI and new display name.
 * @param options As for {@linkcode updateDocument}.
 * @returns The update's outcome; `InvalidArgument` when the list or entry does not exist.
 *
 * @example Usage
 * ```ts
 * import { XCAPClient } from "@xcap/xcap";
 * import { addEntry, renameEntry } from "@xcap/xcap/usages";
 * import { startXcapServer } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const started = await startXcapServer({ hostname: "127.0.0.1", port: 0 });
 * if (started.isErr()) throw new Error(started.error.message);
 * const server = started.value;
 * const client = new XCAPClient(server.xcapRoot, "sip:alice@example.com");
 * await addEntry(client, { list: "friends", uri: "sip:bob@example.com", displayName: "Bob" });
 * const renamed = await renameEntry(client, {
 *   list: "friends",
 *   uri: "sip:bob@example.com",
 *   displayName: "Robert",
 * });
 * assertEquals(renamed.map((r) => r.text.includes("<display-name>Robert</display-name>")).unwrapOr(undefined), true);
 * await server.close();
 * ```
 */
export function renameEntry(
  client: XcapResourceClient,
  request: RenameEntryRequest,
  options: UpdateOptions = {},
): ResultAsync<UpdateResult<ResourceLists>, XcapError> {
  const refused = refuse<UpdateResult<ResourceLists>>(
    checkRequest("renameEntry", request),
    ...(typeof request === "object" && request !== null
      ? [
        checkListPath("renameEntry", "request.list", request.list),
        checkUri("renameEntry", "request.uri", request.uri),
      ]
      : []),
  );
  if (refused !== undefined) return refused;
  return updateDocument(
    client,
    RESOURCE_LISTS,
    (lists) => withEntryDisplayName(lists, request.list, request.uri, request.displayName),
    convergent(options),
  );
}

/** What {@linkcode addList} adds. */
export interface AddListRequest {
  /** The new list's name. */
  readonly name: string;
  /** Its display name. */
  readonly displayName?: string;
  /** The list to add it to; absent: the top level. */
  readonly parent?: ResourceListPath;
}

/**
 * Add a list (kept when one with that name exists; missing parents are created).
 *
 * @param client The client.
 * @param request The name, display name and parent.
 * @param options As for {@linkcode updateDocument}.
 * @returns The update's outcome.
 *
 * @example Usage
 * ```ts
 * import { XCAPClient } from "@xcap/xcap";
 * import { addList, findList } from "@xcap/xcap/usages";
 * import { startXcapServer } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const started = await startXcapServer({ hostname: "127.0.0.1", port: 0 });
 * if (started.isErr()) throw new Error(started.error.message);
 * const server = started.value;
 * const client = new XCAPClient(server.xcapRoot, "sip:alice@example.com");
 * const added = await addList(client, { name: "family", displayName: "Family" });
 * assertEquals(added.map((r) => findList(r.value, "family")?.displayName).unwrapOr(undefined), "Family");
 * await server.close();
 * ```
 */
export function addList(
  client: XcapResourceClient,
  request: AddListRequest,
  options: UpdateOptions = {},
): ResultAsync<UpdateResult<ResourceLists>, XcapError> {
  const refused = refuse<UpdateResult<ResourceLists>>(
    checkRequest("addList", request),
    ...(typeof request === "object" && request !== null
      ? [
        checkName("addList", "request.name", request.name),
        request.parent === undefined
          ? undefined
          : checkListPath("addList", "request.parent", request.parent),
      ]
      : []),
  );
  if (refused !== undefined) return refused;
  return updateDocument(client, RESOURCE_LISTS, (lists) =>
    withList(lists, {
      kind: "list",
      name: request.name,
      ...(request.displayName === undefined ? {} : { displayName: request.displayName }),
      items: [],
    }, { parent: request.parent ?? [], createParents: true }), convergent(options));
}

/** What {@linkcode removeList} removes. */
export interface RemoveListRequest {
  /** The list. */
  readonly list: ResourceListPath;
}

/**
 * Remove a list with everything in it; nothing is written when it is not there.
 *
 * @param client The client.
 * @param request The list.
 * @param options As for {@linkcode updateDocument}.
 * @returns The update's outcome.
 *
 * @example Usage
 * ```ts
 * import { XCAPClient } from "@xcap/xcap";
 * import { addList, removeList } from "@xcap/xcap/usages";
 * import { startXcapServer } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const started = await startXcapServer({ hostname: "127.0.0.1", port: 0 });
 * if (started.isErr()) throw new Error(started.error.message);
 * const server = started.value;
 * const client = new XCAPClient(server.xcapRoot, "sip:alice@example.com");
 * await addList(client, { name: "family" });
 * const removed = await removeList(client, { list: "family" });
 * assertEquals(removed.map((r) => r.value.lists).unwrapOr(undefined), []);
 * await server.close();
 * ```
 */
export function removeList(
  client: XcapResourceClient,
  request: RemoveListRequest,
  options: UpdateOptions = {},
): ResultAsync<UpdateResult<ResourceLists>, XcapError> {
  const refused = refuse<UpdateResult<ResourceLists>>(
    checkRequest("removeList", request),
    ...(typeof request === "object" && request !== null
      ? [checkListPath("removeList", "request.list", request.list)]
      : []),
  );
  if (refused !== undefined) return refused;
  return updateDocument(
    client,
    RESOURCE_LISTS,
    (lists) => withoutList(lists, request.list),
    convergent(options),
  );
}

/** What {@linkcode renameList} renames. */
export interface RenameListRequest {
  /** The list. */
  readonly list: ResourceListPath;
  /** Its new name. */
  readonly name: string;
  /** Its new display name, if it changes too. */
  readonly displayName?: string;
}

/**
 * Rename a list (its `name`, and optionally its display name).
 *
 * @param client The client.
 * @param request The list, new name and display name.
 * @param options As for {@linkcode updateDocument}.
 * @returns The update's outcome; `InvalidArgument` when the list does not exist or the name is
 * taken.
 *
 * @example Usage
 * ```ts
 * import { XCAPClient } from "@xcap/xcap";
 * import { addList, findList, renameList } from "@xcap/xcap/usages";
 * import { startXcapServer } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const started = await startXcapServer({ hostname: "127.0.0.1", port: 0 });
 * if (started.isErr()) throw new Error(started.error.message);
 * const server = started.value;
 * const client = new XCAPClient(server.xcapRoot, "sip:alice@example.com");
 * await addList(client, { name: "work" });
 * const renamed = await renameList(client, { list: "work", name: "office" });
 * assertEquals(renamed.map((r) => findList(r.value, "office")?.name).unwrapOr(undefined), "office");
 * await server.close();
 * ```
 */
export function renameList(
  client: XcapResourceClient,
  request: RenameListRequest,
  options: UpdateOptions = {},
): ResultAsync<UpdateResult<ResourceLists>, XcapError> {
  const refused = refuse<UpdateResult<ResourceLists>>(
    checkRequest("renameList", request),
    ...(typeof request === "object" && request !== null
      ? [
        checkListPath("renameList", "request.list", request.list),
        checkName("renameList", "request.name", request.name),
      ]
      : []),
  );
  if (refused !== undefined) return refused;
  return updateDocument(
    client,
    RESOURCE_LISTS,
    (lists) =>
      withListName(
        lists,
        request.list,
        request.name,
        request.displayName === undefined ? {} : { displayName: request.displayName },
      ),
    convergent(options),
  );
}

/** Options of the watcher operations. */
export interface WatcherOptions extends UpdateOptions {
  /** The rules usage: `PRES_RULES` or `OMA_PRES_RULES`. @default {PRES_RULES} */
  readonly usage?: TypedApplicationUsage<Ruleset>;
  /** The id of a rule created for this handling. @default `"xcap-" + handling` */
  readonly ruleId?: string;
}

/**
 * Decide how a watcher's presence subscriptions are handled (RFC 5025 §3.2.1): the watcher is
 * moved into an identity rule with that `<sub-handling>` and out of the others (see
 * {@linkcode withWatcherHandling}). Usually a DELETE of its `<one>` and a PUT of a new one.
 *
 * @param client The client.
 * @param request The watcher's URI and the handling.
 * @param options As for {@linkcode updateDocument}, plus `usage` and `ruleId`.
 * @returns The update's outcome.
 *
 * @example Usage
 * ```ts
 * import { XCAPClient } from "@xcap/xcap";
 * import { setWatcherHandling, watcherHandling } from "@xcap/xcap/usages";
 * import { startXcapServer } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const started = await startXcapServer({ hostname: "127.0.0.1", port: 0 });
 * if (started.isErr()) throw new Error(started.error.message);
 * const server = started.value;
 * const client = new XCAPClient(server.xcapRoot, "sip:alice@example.com");
 * const result = await setWatcherHandling(client, {
 *   watcher: "sip:bob@example.com",
 *   handling: "confirm",
 * });
 * assertEquals(result.map((r) => watcherHandling(r.value, "sip:bob@example.com")).unwrapOr(undefined), "confirm");
 * await server.close();
 * ```
 */
export function setWatcherHandling(
  client: XcapResourceClient,
  request: { readonly watcher: string; readonly handling: SubHandling },
  options: WatcherOptions = {},
): ResultAsync<UpdateResult<Ruleset>, XcapError> {
  const refused = refuse<UpdateResult<Ruleset>>(
    checkRequest("setWatcherHandling", request),
    ...(typeof request === "object" && request !== null
      ? [checkUri("setWatcherHandling", "request.watcher", request.watcher)]
      : []),
  );
  if (refused !== undefined) return refused;
  const { usage = PRES_RULES, ruleId, ...rest } = options;
  return updateDocument(
    client,
    usage,
    (ruleset) =>
      withWatcherHandling(
        ruleset,
        request.watcher,
        request.handling,
        ruleId === undefined ? {} : { ruleId },
      ),
    convergent(rest),
  );
}

/**
 * Allow a watcher to see the user's presence (`<sub-handling>allow</sub-handling>`; a new rule
 * grants all services, persons, devices and attributes).
 *
 * @param client The client.
 * @param watcher The watcher's URI.
 * @param options As for {@linkcode setWatcherHandling}.
 * @returns The update's outcome.
 *
 * @example Usage
 * ```ts
 * import { XCAPClient } from "@xcap/xcap";
 * import { allowWatcher, watcherHandling } from "@xcap/xcap/usages";
 * import { startXcapServer } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const started = await startXcapServer({ hostname: "127.0.0.1", port: 0 });
 * if (started.isErr()) throw new Error(started.error.message);
 * const server = started.value;
 * const client = new XCAPClient(server.xcapRoot, "sip:alice@example.com");
 * const result = await allowWatcher(client, "sip:bob@example.com");
 * assertEquals(result.map((r) => watcherHandling(r.value, "sip:bob@example.com")).unwrapOr(undefined), "allow");
 * await server.close();
 * ```
 */
export function allowWatcher(
  client: XcapResourceClient,
  watcher: string,
  options: WatcherOptions = {},
): ResultAsync<UpdateResult<Ruleset>, XcapError> {
  return setHandlingOf("allowWatcher", client, watcher, "allow", options);
}

/**
 * Block a watcher: its subscriptions are rejected (`block`, RFC 5025 §3.2.1).
 *
 * @param client The client.
 * @param watcher The watcher's URI.
 * @param options As for {@linkcode setWatcherHandling}.
 * @returns The update's outcome.
 *
 * @example Usage
 * ```ts
 * import { XCAPClient } from "@xcap/xcap";
 * import { blockWatcher, watcherHandling } from "@xcap/xcap/usages";
 * import { startXcapServer } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const started = await startXcapServer({ hostname: "127.0.0.1", port: 0 });
 * if (started.isErr()) throw new Error(started.error.message);
 * const server = started.value;
 * const client = new XCAPClient(server.xcapRoot, "sip:alice@example.com");
 * const result = await blockWatcher(client, "sip:spam@example.com");
 * assertEquals(result.map((r) => watcherHandling(r.value, "sip:spam@example.com")).unwrapOr(undefined), "block");
 * await server.close();
 * ```
 */
export function blockWatcher(
  client: XcapResourceClient,
  watcher: string,
  options: WatcherOptions = {},
): ResultAsync<UpdateResult<Ruleset>, XcapError> {
  return setHandlingOf("blockWatcher", client, watcher, "block", options);
}

/**
 * Polite-block a watcher: its subscriptions are accepted but it only ever sees the user as
 * offline (`polite-block`, RFC 5025 §3.2.1).
 *
 * @param client The client.
 * @param watcher The watcher's URI.
 * @param options As for {@linkcode setWatcherHandling}.
 * @returns The update's outcome.
 *
 * @example Usage
 * ```ts
 * import { XCAPClient } from "@xcap/xcap";
 * import { politeBlockWatcher, watcherHandling } from "@xcap/xcap/usages";
 * import { startXcapServer } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const started = await startXcapServer({ hostname: "127.0.0.1", port: 0 });
 * if (started.isErr()) throw new Error(started.error.message);
 * const server = started.value;
 * const client = new XCAPClient(server.xcapRoot, "sip:alice@example.com");
 * const result = await politeBlockWatcher(client, "sip:ex@example.com");
 * assertEquals(result.map((r) => watcherHandling(r.value, "sip:ex@example.com")).unwrapOr(undefined), "polite-block");
 * await server.close();
 * ```
 */
export function politeBlockWatcher(
  client: XcapResourceClient,
  watcher: string,
  options: WatcherOptions = {},
): ResultAsync<UpdateResult<Ruleset>, XcapError> {
  return setHandlingOf("politeBlockWatcher", client, watcher, "polite-block", options);
}

/** The shortcuts' body: the watcher checked under the shortcut's own name, then the handling set. */
function setHandlingOf(
  operation: string,
  client: XcapResourceClient,
  watcher: string,
  handling: SubHandling,
  options: WatcherOptions,
): ResultAsync<UpdateResult<Ruleset>, XcapError> {
  const refused = refuse<UpdateResult<Ruleset>>(checkUri(operation, "watcher", watcher));
  if (refused !== undefined) return refused;
  return setWatcherHandling(client, { watcher, handling }, options);
}

/** What {@linkcode setPresenceNote} sets. */
export interface PresenceNoteRequest {
  /** The note; `undefined` removes it. */
  readonly note: string | undefined;
  /** Its language (`xml:lang`). */
  readonly lang?: string;
}

/**
 * Set the presence-level `<note>` of the user's pidf-manipulation document (RFC 4827), creating
 * the document (entity: the client's XUI) when there is none.
 *
 * @param client The client.
 * @param request The note and its language.
 * @param options As for {@linkcode updateDocument}.
 * @returns The update's outcome.
 *
 * @example Usage
 * ```ts
 * import { XCAPClient } from "@xcap/xcap";
 * import { setPresenceNote } from "@xcap/xcap/usages";
 * import { startXcapServer } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const started = await startXcapServer({ hostname: "127.0.0.1", port: 0 });
 * if (started.isErr()) throw new Error(started.error.message);
 * const server = started.value;
 * const client = new XCAPClient(server.xcapRoot, "sip:alice@example.com");
 * await setPresenceNote(client, { note: "In a meeting" });
 * const result = await setPresenceNote(client, { note: "At lunch" });
 * assertEquals(result.map((r) => r.value.notes.map((n) => n.value)).unwrapOr(undefined), ["At lunch"]);
 * assertEquals(result.map((r) => r.requests.length).unwrapOr(undefined), 1);
 * await server.close();
 * ```
 */
export function setPresenceNote(
  client: XcapResourceClient,
  request: PresenceNoteRequest,
  options: UpdateOptions = {},
): ResultAsync<UpdateResult<Presence>, XcapError> {
  return updateDocument(
    client,
    PIDF_MANIPULATION,
    (presence) =>
      withPresenceNote(
        presence,
        request.note,
        request.lang === undefined ? {} : { lang: request.lang },
      ),
    convergent(options),
  );
}
