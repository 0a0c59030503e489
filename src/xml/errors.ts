/**
 * The error of the XML engine's node operations: why selecting, reading, writing or deleting a
 * node failed, in terms an XCAP server maps to a status.
 *
 * @module
 */
import type { ConflictCondition } from "../client/errors.ts";
import type { NodeSelector } from "../client/selector.ts";

/**
 * Why a node operation failed; the server maps `kind` to a status: `not-found` 404, `conflict`
 * 409 with an `application/xcap-error+xml` body for `condition`, `not-allowed` 405 with an
 * `Allow` header, `bad-request` 400.
 *
 * For `no-parent`, `condition.ancestor` holds the node selector text of the closest existing
 * ancestor element (as `formatNodeSelector` writes it, e.g.
 * `/resource-lists/list[@name="friends"]`), or `""` when only the document itself exists; the
 * server makes it an absolute URI (document URI, then `/~~` and the percent-encoded selector
 * unless it is empty, plus the `xmlns()` query for any prefix it uses). `ancestor` carries the
 * same as a selector value.
 */
export type NodeOperationError =
  | { readonly kind: "not-found"; readonly message: string }
  | {
    readonly kind: "conflict";
    readonly condition: ConflictCondition;
    readonly message: string;
    readonly ancestor?: NodeSelector;
  }
  | { readonly kind: "not-allowed"; readonly message: string; readonly allow: readonly string[] }
  | { readonly kind: "bad-request"; readonly message: string };
