/**
 * `deno bench` suite for the pure part of issue 6: the document cycle (parse, select one entry
 * by attribute predicate, change it, serialize) against fast-xml-parser's parse plus build of
 * the same resource-lists document, at 10, 1,000 and 10,000 entries. One group per size, with
 * fast-xml-parser as the baseline, so `deno bench` prints the ratios.
 *
 * ```sh
 * deno bench --import-map=.ci/import_map.json --lock=.ci/deno.lock tests/bench/document_bench.ts
 * ```
 *
 * @module
 */
import {
  fxpCycle,
  fxpParse,
  fxpParseBuild,
  resourceListsDocument,
  xcapCycle,
  xcapParse,
} from "./_documents.ts";

for (const entries of [10, 1_000, 10_000]) {
  const text = resourceListsDocument(entries);
  const target = Math.ceil(entries / 2);
  const group = `resource-lists, ${entries.toLocaleString("en-US")} entries`;
  Deno.bench({
    name: `fast-xml-parser parse + build (${entries})`,
    group,
    baseline: true,
    fn: () => {
      fxpParseBuild(text);
    },
  });
  Deno.bench({
    name: `xcap parse + select + change + serialize (${entries})`,
    group,
    fn: () => {
      xcapCycle(text, target);
    },
  });
  Deno.bench({
    name: `xcap parse only (${entries})`,
    group,
    fn: () => {
      xcapParse(text);
    },
  });
  Deno.bench({
    name: `fast-xml-parser parse only (${entries})`,
    group,
    fn: () => {
      fxpParse(text);
    },
  });
  Deno.bench({
    name: `fast-xml-parser select + change + build by hand (${entries})`,
    group,
    fn: () => {
      fxpCycle(text, target);
    },
  });
}
