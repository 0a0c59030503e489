/**
 * Memory probe (issue 6): fetch the document at the XCAP root's `resource-lists/users/
 * sip:bench@example.com/index`, process it as the mode says, keep the result alive, and print
 * `done`. `load.ts` runs it under `/usr/bin/time -f %M` for the process's peak resident set size
 * (Deno 2.9 refuses to read `/proc/self/status` without `--allow-all`).
 *
 * Modes: `runtime` (no request: Deno itself), `fetch` (bare `fetch()` and `text()`), `client`
 * (`XCAPClient.get()` alone), `xcap` (`XCAPClient.get()` and `parseXmlDocument()`), `fxp` (bare
 * `fetch()` and fast-xml-parser's `parse()`). Each mode imports only what it uses. Run with
 * `--v8-flags=--expose-gc` and it also prints `heap <bytes>`: the V8 heap in use after a full
 * collection, with the result still alive.
 *
 * ```sh
 * /usr/bin/time -f %M deno run --allow-net=127.0.0.1 --v8-flags=--expose-gc \
 *   tests/bench/memory_client.ts xcap URL
 * ```
 *
 * @module
 */
const [mode, root] = Deno.args;
const url = `${root}/resource-lists/users/sip:bench@example.com/index`;
let keep: unknown;
switch (mode) {
  case "runtime":
    break;
  case "fetch":
    keep = await (await fetch(url)).text();
    break;
  case "client": {
    const { XCAPClient } = await import("../../mod.ts");
    const got = await new XCAPClient(root!, "sip:bench@example.com").get("resource-lists");
    if (got.isErr()) throw new Error(got.error.message);
    keep = got.value;
    break;
  }
  case "xcap": {
    const { XCAPClient } = await import("../../mod.ts");
    const { parseXmlDocument } = await import("../../src/xml/mod.ts");
    const got = await new XCAPClient(root!, "sip:bench@example.com").get("resource-lists");
    if (got.isErr()) throw new Error(got.error.message);
    const doc = parseXmlDocument(got.value.body, { maxElements: 1_000_000 });
    if (doc.isErr()) throw new Error(doc.error.phrase ?? doc.error.tag);
    keep = doc.value;
    break;
  }
  case "fxp": {
    const { XMLParser } = await import("npm:fast-xml-parser@^5.12.1");
    const text = await (await fetch(url)).text();
    keep = new XMLParser({
      preserveOrder: true,
      ignoreAttributes: false,
      parseTagValue: false,
      parseAttributeValue: false,
      trimValues: false,
    }).parse(text);
    break;
  }
  default:
    console.error(`Unknown mode ${JSON.stringify(mode)}: runtime, fetch, client, xcap or fxp`);
    Deno.exit(2);
}
const collect = (globalThis as { gc?: () => void }).gc;
if (collect !== undefined) {
  collect();
  console.log(`heap ${Deno.memoryUsage().heapUsed}`);
}
console.log(`done ${keep === undefined ? 0 : 1}`);
