// deno-lint-ignore-file no-import-prefix
// Typed facade over deno-std's JS build of @std/crypto/timing-safe-equal (JSR is unreachable in CI).
import * as m from "npm:deno-std@1.4.0/crypto/timing_safe_equal.js";
/** See `jsr:@std/crypto/timing-safe-equal`. */
export const timingSafeEqual: (
  a: ArrayBufferView | ArrayBufferLike | DataView,
  b: ArrayBufferView | ArrayBufferLike | DataView,
) => boolean = m.timingSafeEqual;
