/**
 * Entity-tags for conditional requests (RFC 7232 §2.3).
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { invalidArgument, type InvalidArgumentError } from "./errors.ts";

// entity-tag = [ weak ] opaque-tag ; opaque-tag = DQUOTE *etagc DQUOTE
// etagc = %x21 / %x23-7E / obs-text (RFC 7232 §2.3)
const OPAQUE_CONTENT = /^[\x21\x23-\x7e\x80-\xff]*$/;

/**
 * Turn an entity-tag as a caller holds it into its wire form for `If-Match`/`If-None-Match`.
 *
 * Servers differ in what they hand out (Kamailio and OpenXCAP send quoted tags, some servers
 * unquoted ones), and Kamailio only understands quoted tags in preconditions, so the tag is
 * quoted unless it already is. `W/"x"` is kept as it is, and so is `*` when `allowStar` is set.
 *
 * @param tag The entity-tag, quoted or not.
 * @param options `argument`: the name used in error messages; `allowStar`: accept `*`.
 * @returns The quoted entity-tag, or `InvalidArgument` when it contains characters an
 * entity-tag cannot carry (a `"` inside, spaces, control characters such as CR or LF).
 *
 * @example Usage
 * ```ts
 * import { formatEntityTag } from "./etag.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(formatEntityTag("abc")._unsafeUnwrap(), '"abc"');
 * assertEquals(formatEntityTag('"abc"')._unsafeUnwrap(), '"abc"');
 * assertEquals(formatEntityTag('W/"abc"')._unsafeUnwrap(), 'W/"abc"');
 * assertEquals(formatEntityTag("*", { allowStar: true })._unsafeUnwrap(), "*");
 * assertEquals(formatEntityTag("a b").isErr(), true);
 * ```
 */
export function formatEntityTag(
  tag: string,
  options: { readonly argument?: string; readonly allowStar?: boolean } = {},
): Result<string, InvalidArgumentError> {
  const argument = options?.argument ?? "etag";
  if (typeof tag !== "string") return err(invalidArgument(argument, "Entity-tag is not a string"));
  const trimmed = tag.trim();
  if (trimmed === "*") {
    return options.allowStar
      ? ok("*")
      : err(invalidArgument(argument, `Entity-tag "*" is only allowed in If-None-Match`));
  }
  const weak = trimmed.startsWith("W/");
  const rest = weak ? trimmed.slice(2) : trimmed;
  const quoted = rest.length >= 2 && rest.startsWith('"') && rest.endsWith('"');
  const opaque = quoted ? rest.slice(1, -1) : rest;
  if (opaque.length === 0 && !quoted) {
    return err(invalidArgument(argument, "Entity-tag is empty"));
  }
  if (!OPAQUE_CONTENT.test(opaque)) {
    return err(
      invalidArgument(
        argument,
        `Entity-tag ${JSON.stringify(tag)} contains a character an entity-tag cannot carry ` +
          `(a double quote, space or control character)`,
      ),
    );
  }
  return ok(`${weak ? "W/" : ""}"${opaque}"`);
}
