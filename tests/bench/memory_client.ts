/**
 * Memory probe (issue 6): fetch the document at the XCAP root's `resource-lists/users/
 * sip:bench@example.com/index`, process it as `--mode` says, and print the process's peak
 * resident set size (`VmHWM` of `/proc/self/status`, Linux) as `peak-rss <bytes>`.
 *
 * Modes: `runtime` (no request: Deno itself), `fetch` (bare `fetch()` and `text()`), `xcap`
 * (`XCAPClient.get()` and `parseXmlDocument()`), `fxp` (bare `fetch()` and fast-xml-parser's
 * `parse()`). Each mode imports only what it uses.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-read=/proc tests/bench/memory_client.ts xcap URL
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
  case "xcap": {
    const { parseXmlDocument, XCAPClient } = await import("../../mod.ts");
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
    console.error(`Unknown mode ${JSON.stringify(mode)}: runtime, fetch, xcap or fxp`);
    Deno.exit(2);
}
const status = await Deno.readTextFile("/proc/self/status");
const kib = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
console.log(`peak-rss ${kib * 1024} ${keep === undefined ? 0 : 1}`);
