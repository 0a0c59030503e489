/**
 * xcap-diff (RFC 5874, `application/xcap-diff+xml`): parse and build the change notifications
 * an XCAP server sends (through SIP, RFC 5875), and apply them to cached copies of documents so
 * a client stays in sync without fetching every document again. What cannot be applied safely
 * is listed as documents to fetch again, with the reason; a cache entry's text and ETag always
 * agree.
 *
 * Pure: Web APIs only; nothing throws. Neighbours: `@xcap/xcap` (the client that fetches what
 * must be fetched again), `@xcap/xcap/xml` (the engine that applies the RFC 5261 patches of
 * `<document>` entries), `@xcap/xcap/usages` (the typed documents).
 *
 * @example Keep a cache in sync
 * ```ts
 * import { applyXcapDiff } from "@xcap/xcap/diff";
 * import { assertEquals } from "@std/assert";
 *
 * const sel = "resource-lists/users/sip:alice@example.com/index";
 * const cache = new Map([[sel, { text: "<doc><a/></doc>", etag: '"e1"' }]]);
 * const notification = '<d:xcap-diff xmlns:d="urn:ietf:params:xml:ns:xcap-diff" xcap-root="http://x/">' +
 *   `<d:document sel="${sel}" previous-etag="e1" new-etag="e2">` +
 *   '<d:add sel="*"><b/></d:add></d:document></d:xcap-diff>';
 * const synced = applyXcapDiff(cache, notification).match(
 *   ({ cache, refetch }) => ({ document: cache.get(sel), refetch }),
 *   (error) => error.message,
 * );
 * assertEquals(synced, {
 *   document: { text: "<doc><a/><b/></doc>", etag: '"e2"' },
 *   refetch: [],
 * });
 * ```
 *
 * @module
 */
export {
  applyXcapDiff,
  type ApplyXcapDiffOptions,
  buildXcapDiff,
  type BuildXcapDiffOptions,
  type CachedXcapDocument,
  parseXcapDiff,
  XCAP_DIFF_MIME_TYPE,
  XCAP_DIFF_NAMESPACE,
  type XcapDiff,
  type XcapDiffAttribute,
  type XcapDiffDocument,
  type XcapDiffDocumentStatus,
  type XcapDiffElement,
  type XcapDiffEntry,
  type XcapDiffRefetch,
  type XcapDiffRefetchReason,
  type XcapDiffResult,
  type XcapDocumentCache,
} from "./xcap_diff.ts";
