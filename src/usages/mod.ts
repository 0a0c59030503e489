/**
 * Typed XCAP documents and safe updates. Every application usage this module knows has a typed
 * model whose codec keeps what the model does not know (unknown elements, attributes,
 * namespaces, comments, order) byte for byte: resource-lists and rls-services (RFC 4826),
 * pres-rules (RFC 5025, on RFC 4745 common-policy) and OMA's, pidf-manipulation (RFC 4827),
 * OMA's xcap-directory, OpenXCAP's dialog-rules and watchers. Your own usage goes into an
 * {@linkcode ApplicationRegistry} with the same contract ({@linkcode DocumentCodec}).
 *
 * {@linkcode readDocument} reads a document as its typed model and ETag (the empty model when it
 * does not exist yet). {@linkcode updateDocument} reads a document with its ETag, applies a pure change to its typed
 * value and writes it back under `If-Match` (or `If-None-Match: *` when it is new) with the
 * smallest request that does the job, and on 412 reads again and re-applies. The everyday
 * operations ({@linkcode addEntry}, {@linkcode allowWatcher}, {@linkcode setPresenceNote}, …)
 * are built on it; {@linkcode discoverCapabilities} reads a server's `xcap-caps`. All of them
 * take an `XcapResourceClient` (an `XCAPClient`, or `createXcapResourceClient(executor, …)`).
 *
 * Neighbours: `@xcap/xcap` (the client these run on), `@xcap/xcap/xml` (the XML engine the codecs
 * and the update planner use), `@xcap/xcap/diff` (keeping cached documents in sync),
 * `@xcap/xcap/server` (serves and validates these usages).
 *
 * @example Add buddies and allow a watcher, whoever else is writing
 * ```ts
 * import { XCAPClient } from "@xcap/xcap";
 * import { addEntry, allowWatcher, findList, watcherHandling } from "@xcap/xcap/usages";
 * import { startXcapServer } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const server = (await startXcapServer())._unsafeUnwrap();
 * const client = new XCAPClient(server.xcapRoot, "sip:alice@example.com");
 *
 * const added = await Promise.all([
 *   addEntry(client, { list: "friends", uri: "sip:bob@example.com" }),
 *   addEntry(client, { list: "friends", uri: "sip:carol@example.com" }),
 * ]);
 * assertEquals(added.every((r) => r.isOk()), true);
 * const third = await addEntry(client, { list: "friends", uri: "sip:dave@example.com" });
 * const friends = third.map(({ value }) => findList(value, "friends")?.items.length);
 * assertEquals(friends.unwrapOr(0), 3);
 *
 * const allowed = await allowWatcher(client, "sip:bob@example.com");
 * const handling = allowed.map(({ value }) => watcherHandling(value, "sip:bob@example.com"));
 * assertEquals(handling.unwrapOr(undefined), "allow");
 * await server.close();
 * ```
 *
 * @module
 */
export {
  type DocumentCodec,
  type EmptyDocumentContext,
  RAW_XML_CODEC,
  type TypedApplicationUsage,
  type XmlOrigin,
} from "./codec.ts";
export {
  ApplicationRegistry,
  createApplicationRegistry,
  type RegisterUsageOptions,
} from "./registry.ts";
export {
  buildResourceLists,
  findList,
  type ListEntry,
  type ListEntryRef,
  type ListExternal,
  parseResourceLists,
  RESOURCE_LISTS,
  RESOURCE_LISTS_CODEC,
  RESOURCE_LISTS_NAMESPACE,
  type ResourceList,
  type ResourceListItem,
  type ResourceListPath,
  type ResourceLists,
  withEntry,
  withEntryDisplayName,
  type WithEntryOptions,
  withList,
  withListName,
  type WithListOptions,
  withoutEntry,
  withoutList,
} from "./resource_lists.ts";
export {
  buildRlsServices,
  parseRlsServices,
  RLS_SERVICES,
  RLS_SERVICES_CODEC,
  RLS_SERVICES_NAMESPACE,
  type RlsService,
  type RlsServices,
} from "./rls_services.ts";
export {
  buildRuleset,
  COMMON_POLICY_NAMESPACE,
  OMA_COMMON_POLICY_NAMESPACE,
  OMA_PRES_RULES,
  parseRuleset,
  type PolicyActions,
  type PolicyConditions,
  type PolicyIdentity,
  type PolicyIdentityExcept,
  type PolicyIdentityMany,
  type PolicyIdentityOne,
  type PolicyRule,
  type PolicyTransformations,
  PRES_RULES,
  PRES_RULES_NAMESPACE,
  type ProvidePermission,
  type ProvidePermissionItem,
  type Ruleset,
  rulesetCodec,
  type RulesetOptions,
  type SubHandling,
  type ValidityPeriod,
  watcherHandling,
  withWatcherHandling,
  type WithWatcherHandlingOptions,
} from "./pres_rules.ts";
export {
  buildPresence,
  parsePresence,
  PIDF_CODEC,
  PIDF_MANIPULATION,
  PIDF_NAMESPACE,
  type Presence,
  type PresenceContact,
  type PresenceNote,
  type PresenceTuple,
  withPresenceNote,
} from "./pidf.ts";
export {
  buildXcapDirectory,
  type DirectoryEntry,
  type DirectoryFolder,
  parseXcapDirectory,
  XCAP_DIRECTORY,
  XCAP_DIRECTORY_CODEC,
  XCAP_DIRECTORY_NAMESPACE,
  type XcapDirectory,
} from "./xcap_directory.ts";
export {
  buildWatchers,
  DIALOG_RULES_NAMESPACE,
  OPENXCAP_DIALOG_RULES,
  OPENXCAP_WATCHERS,
  type OpenXcapWatcher,
  type OpenXcapWatchers,
  parseWatchers,
  WATCHERS_CODEC,
  WATCHERS_NAMESPACE,
} from "./openxcap.ts";
export {
  type BackoffOptions,
  detectServerProfile,
  type DocumentChange,
  type DocumentChangeContext,
  type ElementChange,
  KAMAILIO_SERVER_PROFILE,
  RFC_SERVER_PROFILE,
  type ServerProfile,
  updateDocument,
  updateElement,
  type UpdateElementOptions,
  type UpdateElementResult,
  type UpdateOptions,
  type UpdateRequest,
  type UpdateResult,
  type UpdateStrategy,
} from "./update.ts";
export { readDocument, type ReadDocumentOptions, type ReadDocumentResult } from "./read.ts";
export {
  addEntry,
  type AddEntryRequest,
  addList,
  type AddListRequest,
  allowWatcher,
  blockWatcher,
  politeBlockWatcher,
  type PresenceNoteRequest,
  removeEntry,
  type RemoveEntryRequest,
  removeList,
  type RemoveListRequest,
  renameEntry,
  type RenameEntryRequest,
  renameList,
  type RenameListRequest,
  setPresenceNote,
  setWatcherHandling,
  type WatcherOptions,
} from "./operations.ts";
export {
  discoverCapabilities,
  type DiscoverCapabilitiesOptions,
  parseXcapCaps,
  supportsApplication,
  supportsNamespace,
  XCAP_CAPS_NAMESPACE,
  type XcapCapabilities,
} from "./caps.ts";
export {
  findUniquenessViolations,
  type UniquenessConstraint,
  type UniquenessViolation,
} from "./uniqueness.ts";
