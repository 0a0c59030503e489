/**
 * The client's default timeout (issue 10, item 10), on a real process: a script that calls
 * `XCAPClient.get()` with no options against a server that accepts the connection and never
 * answers must end by itself, with `Timeout`, after `DEFAULT_TIMEOUT_MS` (30 s). Before, it
 * waited forever. Bound: it ends between 30 and 33 s.
 *
 * ```sh
 * deno task soak default_timeout
 * ```
 *
 * @module
 */
import { DEFAULT_TIMEOUT_MS } from "../../src/client/executor.ts";
import { serveRaw } from "../_hostile_server.ts";

const REPO = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const server = serveRaw((conn) => conn.closing);
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--allow-net=127.0.0.1",
    `--import-map=${REPO}.ci/import_map.json`,
    `--lock=${REPO}.ci/deno.lock`,
    `${REPO}tests/soak/_default_get.ts`,
    `${server.origin}/xcap-root`,
  ],
  stdin: "null",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const started = performance.now();
const killer = setTimeout(() => child.kill("SIGKILL"), 2 * DEFAULT_TIMEOUT_MS);
const output = await child.output();
clearTimeout(killer);
const seconds = (performance.now() - started) / 1000;
await server.close();
const said = new TextDecoder().decode(output.stdout).trim();
console.log(`XCAPClient.get() with no options, silent server: ended after ${seconds.toFixed(1)} s`);
console.log(`  ${said || `(killed after ${2 * DEFAULT_TIMEOUT_MS / 1000} s, said nothing)`}`);
const held = said.startsWith("Timeout:") && seconds >= DEFAULT_TIMEOUT_MS / 1000 &&
  seconds < DEFAULT_TIMEOUT_MS / 1000 + 3;
console.log(held ? "default timeout: held" : "default timeout: FAILED");
Deno.exit(held ? 0 : 1);
