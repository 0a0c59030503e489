// deno-lint-ignore-file no-import-prefix
// Typed facade over deno-std's JS build of @std/text/closest-string (JSR is unreachable in CI).
import * as m from "npm:deno-std@1.4.0/text/closest_string.js";
/** See `jsr:@std/text/closest-string`. */
export const closestString: (
  givenWord: string,
  possibleWords: readonly string[],
  options?: {
    readonly caseSensitive?: boolean;
    readonly compareFn?: (a: string, b: string) => number;
  },
) => string = m.closestString;
