/**
 * `xcap` as `src/cli/main.ts` runs it (`runCli` with the real Deno I/O), followed by one more
 * stderr line, `peak-rss-bytes N`: the process's peak resident set size (`VmHWM` of
 * `/proc/PID/status`) when the run ended. Deno grants reads below `/proc` only with
 * `--allow-all`, so `/bin/cat` reads it (`--allow-run=/bin/cat`). Used by tests that measure what a
 * response costs the CLI (`runXcapMeasured` in `tests/_cli.ts`); helpers only, no tests.
 *
 * @module
 */
import { denoCliIo, runCli } from "../src/cli/mod.ts";

const code = await runCli(Deno.args, denoCliIo());
const status = await new Deno.Command("/bin/cat", {
  args: [`/proc/${Deno.pid}/status`],
  stdout: "piped",
  stderr: "inherit",
}).output();
const kb = /^VmHWM:\s+(\d+) kB/m.exec(new TextDecoder().decode(status.stdout))?.[1];
console.error(`peak-rss-bytes ${Number(kb) * 1024}`);
Deno.exit(code);
