/**
 * The `xcap` executable (`deno task xcap`): runs {@linkcode runCli} on the process's arguments
 * and exits with its code. The library side is `mod.ts` (`@xcap/xcap/cli`).
 *
 * @module
 */
import { denoCliIo, runCli } from "./mod.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args, denoCliIo()));
}
