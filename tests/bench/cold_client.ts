/**
 * Cold-start probe (issue 6): a script that imports `mod.ts`, builds an `XCAPClient` and GETs one
 * document, then prints `done` — `load.ts` times process start to that line. Counterpart:
 * `cold_fetch.ts`.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 tests/bench/cold_client.ts http://127.0.0.1:PORT/xcap-root
 * ```
 *
 * @module
 */
import { XCAPClient } from "../../mod.ts";

const client = new XCAPClient(Deno.args[0]!, "sip:bench@example.com");
const got = await client.get("resource-lists");
if (got.isErr()) {
  console.error(got.error.message);
  Deno.exit(1);
}
console.log(`done ${got.value.body.length}`);
