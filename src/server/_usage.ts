/**
 * Per-user usage and quota arithmetic shared by the document stores.
 *
 * Private module (not exported from the package). Pure: Web APIs only.
 *
 * @module
 */
import type { DocumentKey, QuotaExceededError, UserQuota, UserUsage } from "./store.ts";

/** No documents. */
export const NO_USAGE: UserUsage = Object.freeze({ documents: 0, bytes: 0 });

/** The UTF-8 length of a string, without encoding it (a lone surrogate counts as U+FFFD). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      // A surrogate pair: 4 bytes for 2 code units; a lone surrogate: U+FFFD, 3 bytes.
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2;
        i++;
      } else {
        bytes += 2;
      }
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

/**
 * The usage after a document of `before` bytes (`undefined`: none) becomes one of `after`
 * bytes (`undefined`: deleted). Never below zero: a store that began counting after some
 * documents were written may meet documents it never counted.
 */
export function nextUsage(
  usage: UserUsage,
  before: number | undefined,
  after: number | undefined,
): UserUsage {
  return Object.freeze({
    documents: Math.max(
      0,
      usage.documents + (after === undefined ? 0 : 1) - (before === undefined ? 0 : 1),
    ),
    bytes: Math.max(0, usage.bytes + (after ?? 0) - (before ?? 0)),
  });
}

/**
 * The error when going from `current` to `next` takes the user's tree past `quota`; a change
 * that does not grow what is over a limit passes, so a user over a lowered quota can shrink.
 */
export function quotaExceeded(
  key: DocumentKey,
  current: UserUsage,
  next: UserUsage,
  quota: UserQuota | undefined,
): QuotaExceededError | undefined {
  if (quota === undefined || key.tree !== "users") return undefined;
  const user = JSON.stringify(key.xui ?? "");
  if (next.documents > quota.maxDocuments && next.documents > current.documents) {
    return Object.freeze({
      _tag: "QuotaExceeded",
      message: `User ${user} would have ${next.documents} documents; the quota is ` +
        `${quota.maxDocuments}`,
      limit: "documents",
      quota: quota.maxDocuments,
      wouldUse: next.documents,
    });
  }
  if (next.bytes > quota.maxBytes && next.bytes > current.bytes) {
    return Object.freeze({
      _tag: "QuotaExceeded",
      message: `The documents of user ${user} would take ${next.bytes} bytes; the quota is ` +
        `${quota.maxBytes}`,
      limit: "bytes",
      quota: quota.maxBytes,
      wouldUse: next.bytes,
    });
  }
  return undefined;
}
