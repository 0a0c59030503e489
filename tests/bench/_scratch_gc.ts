import { fxpParse, resourceListsDocument, xcapCycle, xcapParse } from "./_documents.ts";
import { median } from "./_stats.ts";
for (const n of [1000, 10000, 30000]) {
  const text = resourceListsDocument(n);
  for (let i = 0; i < 5; i++) xcapParse(text);
  const t: number[] = [];
  const f: number[] = [];
  const c: number[] = [];
  for (let i = 0; i < 20; i++) {
    let t0 = performance.now();
    xcapParse(text);
    t.push(performance.now() - t0);
    t0 = performance.now();
    fxpParse(text);
    f.push(performance.now() - t0);
    t0 = performance.now();
    xcapCycle(text, n / 2);
    c.push(performance.now() - t0);
  }
  console.log(
    n,
    "xcap parse",
    median(t).toFixed(2),
    "per entry ns",
    (median(t) * 1e6 / n).toFixed(0),
    "| fxp parse",
    median(f).toFixed(2),
    "| cycle",
    median(c).toFixed(2),
    "per entry",
    (median(c) * 1e6 / n).toFixed(0),
  );
}
