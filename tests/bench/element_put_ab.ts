/**
 * Element PUT through `createXcapHandler` (memory store, the benchmark's 1,000-entry
 * resource-lists document, no HTTP) in two checkouts side by side in one process: blocks of ten
 * PUTs alternate between them, so load from elsewhere on the machine hits both alike. Prints the
 * median time per PUT of each and the median of the paired ratios (base time / this tree's
 * time: the throughput ratio). Run by hand:
 *
 * ```sh
 * git archive main | tar -x -C /tmp/xcap-main
 * deno run --allow-read --import-map=.ci/import_map.json --lock=.ci/deno.lock \
 *   tests/bench/element_put_ab.ts /tmp/xcap-main [pairs]
 * ```
 *
 * @module
 */
const HERE = decodeURIComponent(new URL("../..", import.meta.url).pathname).replace(/\/$/, "");
const base = Deno.args[0];
const pairs = Number(Deno.args[1] ?? 300);
if (base === undefined || !(pairs > 0)) {
  console.error("usage: element_put_ab.ts BASE_CHECKOUT [PAIRS]");
  Deno.exit(2);
}

/** One element PUT (a changed display name, round-robin over the entries) on a fresh handler. */
async function setup(tree: string): Promise<() => Promise<void>> {
  const server = await import(`${tree}/src/server/mod.ts`);
  const docs = await import(`${tree}/tests/bench/_documents.ts`);
  const handler: (r: Request) => Promise<Response> = server.createXcapHandler({
    store: new server.MemoryStore(),
  });
  const doc = "http://127.0.0.1/xcap-root/resource-lists/users/sip:bench@example.com/index";
  const created = await handler(
    new Request(doc, {
      method: "PUT",
      headers: { "content-type": "application/resource-lists+xml" },
      body: docs.resourceListsDocument(1000),
    }),
  );
  if (created.status !== 201) throw new Error(`${tree}: document PUT ${created.status}`);
  let n = 0;
  return async () => {
    const i = (n++ % 1000) + 1;
    const selector = encodeURIComponent(docs.entrySelectorText(i)).replaceAll("%2F", "/")
      .replaceAll("%40", "@").replaceAll("%3A", ":");
    const response = await handler(
      new Request(`${doc}/~~/${selector}`, {
        method: "PUT",
        headers: { "content-type": "application/xcap-el+xml" },
        body: docs.entryElement(i, `User ${i} v${n}`),
      }),
    );
    await response.body?.cancel();
    if (response.status !== 200) throw new Error(`${tree}: element PUT ${response.status}`);
  };
}

const runs = [await setup(base), await setup(HERE)];
for (let i = 0; i < 200; i++) for (const run of runs) await run();
const times: [number[], number[]] = [[], []];
const ratios: number[] = [];
for (let pair = 0; pair < pairs; pair++) {
  const took = [0, 0];
  for (const k of pair % 2 === 0 ? [0, 1] : [1, 0]) {
    const started = performance.now();
    for (let i = 0; i < 10; i++) await runs[k]!();
    took[k] = (performance.now() - started) / 10;
  }
  times[0].push(took[0]!);
  times[1].push(took[1]!);
  ratios.push(took[0]! / took[1]!);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `base ${median(times[0]).toFixed(3)} ms/PUT, this tree ${median(times[1]).toFixed(3)} ms/PUT, ` +
    `throughput ratio ${median(ratios).toFixed(3)} (median of ${pairs} paired blocks of 10)`,
);
