/**
 * `xcap`: a command-line XCAP client (RFC 4825), the successor of python-xcaplib's
 * `xcapclient`. Run it straight from JSR or install it:
 *
 * ```sh
 * deno run --allow-net --allow-read --allow-write --allow-env jsr:@xcap/xcap/cli get --help
 * deno install -g --allow-net --allow-read --allow-write --allow-env -n xcap jsr:@xcap/xcap/cli
 * xcap --xcap-root https://xcap.example.com/xcap-root --sip-address alice@example.com \
 *   get /resource-lists/list
 * ```
 *
 * A program that embeds the tool calls {@linkcode runCli} with the arguments and a
 * {@linkcode CliIo} (the files, streams, environment and `fetch` it may use; {@linkcode denoCliIo}
 * is the real ones) and gets the exit code back (see {@linkcode EXIT_CODES}). Importing this
 * module runs nothing unless it is the main module.
 *
 * Neighbours: `@xcap/xcap` (the client the tool is built on), `@xcap/xcap/server` (a server to
 * try it against: `deno task serve`).
 *
 * @example Run `xcap` in-process with a stand-in server
 * ```ts
 * import { EXIT_CODES, runCli } from "@xcap/xcap/cli";
 * import { assertEquals } from "@std/assert";
 *
 * const out: string[] = [];
 * const code = await runCli(["get", "/resource-lists/list/@name"], {
 *   env: (name) => ({ XCAP_ROOT: "http://127.0.0.1:1/xcap-root", XCAP_SIP_ADDRESS: "alice@x" })[name],
 *   readFile: () => Promise.reject(new Deno.errors.NotFound("no account file")),
 *   writeFile: () => Promise.resolve(),
 *   readStdin: () => Promise.resolve(new Uint8Array()),
 *   writeStdout: async (data) => void out.push(new TextDecoder().decode(data)),
 *   writeStderr: () => Promise.resolve(),
 *   isTerminal: { stdin: false, stdout: false, stderr: false },
 *   fetch: async () => new Response("friends", { headers: { etag: '"e1"' } }),
 * });
 * assertEquals(code, EXIT_CODES.ok);
 * assertEquals(out.join("").trim(), "friends");
 * ```
 *
 * @module
 */
export { type CliIo, runCli } from "./run.ts";
export { denoCliIo } from "./deno_io.ts";
export { EXIT_CODES } from "./output.ts";
export { VERSION } from "./help.ts";

import { denoCliIo } from "./deno_io.ts";
import { runCli } from "./run.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args, denoCliIo()));
}
