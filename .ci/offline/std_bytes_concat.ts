// deno-lint-ignore-file no-import-prefix
// Typed facade over deno-std's JS build of @std/bytes/concat (JSR is unreachable in CI).
import * as m from "npm:deno-std@1.4.0/bytes/concat.js";
/** See `jsr:@std/bytes/concat`. */
export const concat: (buffers: readonly Uint8Array[]) => Uint8Array<ArrayBuffer> = m.concat;
