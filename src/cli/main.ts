/**
 * The `xcap` executable (`deno task xcap`): runs {@linkcode runCli} on the process's arguments
 * and exits with its code. The library side is `mod.ts` (`@xcap/xcap/cli`).
 *
 * @module
 */
import { denoCliIo, runCli } from "./mod.ts";
import { enterTaskDirectory } from "./deno_io.ts";

if (import.meta.main) {
  const problem = enterTaskDirectory();
  if (problem !== undefined) console.error(`xcap: warning: ${problem}`);
  Deno.exit(await runCli(Deno.args, denoCliIo()));
}
