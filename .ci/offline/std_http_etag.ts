// deno-lint-ignore-file no-import-prefix
// Typed facade over deno-std's JS build of @std/http/etag (JSR is unreachable in CI).
import * as m from "npm:deno-std@1.4.0/http/etag.js";
/** See `jsr:@std/http/etag`. */
export const ifMatch: (value: string | null, etag: string | undefined) => boolean = m.ifMatch;
/** See `jsr:@std/http/etag`. */
export const ifNoneMatch: (value: string | null, etag: string | undefined) => boolean =
  m.ifNoneMatch;
