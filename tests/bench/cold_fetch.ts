/**
 * Cold-start probe (issue 6): the same request as `cold_client.ts` with a bare `fetch()` and no
 * imports, then `done`.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 tests/bench/cold_fetch.ts http://127.0.0.1:PORT/xcap-root
 * ```
 *
 * @module
 */
const response = await fetch(`${Deno.args[0]}/resource-lists/users/sip:bench@example.com/index`);
const body = await response.text();
if (!response.ok) {
  console.error(`GET answered ${response.status}`);
  Deno.exit(1);
}
console.log(`done ${body.length}`);
