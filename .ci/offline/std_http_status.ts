// deno-lint-ignore-file no-import-prefix
// Typed facade over deno-std's JS build of @std/http/status (JSR is unreachable in CI).
import * as m from "npm:deno-std@1.4.0/http/status.js";
/** See `jsr:@std/http/status`. */
export const STATUS_TEXT: Readonly<Record<number, string>> = m.STATUS_TEXT;
