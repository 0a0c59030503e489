// deno-lint-ignore-file no-import-prefix
// Typed facade over deno-std's JS build of @std/encoding/base64url (JSR is unreachable in CI).
import * as m from "npm:deno-std@1.4.0/encoding/base64url.js";
/** See `jsr:@std/encoding/base64url`. */
export const encodeBase64Url: (data: ArrayBuffer | Uint8Array | string) => string =
  m.encodeBase64Url;
/** See `jsr:@std/encoding/base64url`. */
export const decodeBase64Url: (b64url: string) => Uint8Array<ArrayBuffer> = m.decodeBase64Url;
