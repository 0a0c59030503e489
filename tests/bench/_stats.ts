/**
 * Benchmark helpers: interleaved sampling (so drift on a noisy machine hits every contender
 * alike), medians, and plain-text tables.
 *
 * @module
 */

/** The median of some numbers (`NaN` for none). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The `q` quantile (0..1) by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Options of {@linkcode sampleInterleaved}. */
export interface SampleOptions {
  /** Samples per contender at least. @default 30 */
  readonly minSamples?: number;
  /** Keep sampling until this much time went by in total. @default 2000 */
  readonly minTimeMs?: number;
  /** Stop after this many samples per contender. @default 1000 */
  readonly maxSamples?: number;
  /** Untimed rounds first (JIT warm-up). @default 5 */
  readonly warmup?: number;
  /** Aim for samples that take at least this long (calls are batched). @default 2 */
  readonly minSampleMs?: number;
}

/**
 * Time synchronous functions round-robin, one sample of each per round, and return the
 * per-call times in milliseconds of each. Fast calls are batched so a sample lasts at least
 * `minSampleMs`.
 */
export function sampleInterleaved(
  fns: readonly (() => unknown)[],
  options: SampleOptions = {},
): number[][] {
  const warmup = options.warmup ?? 5;
  const minSamples = options.minSamples ?? 30;
  const maxSamples = options.maxSamples ?? 1000;
  const minTime = options.minTimeMs ?? 2000;
  const minSampleMs = options.minSampleMs ?? 2;
  let sink = 0;
  const batches = fns.map((fn) => {
    for (let i = 0; i < warmup; i++) sink ^= typeof fn() === "string" ? 1 : 0;
    let batch = 1;
    for (;;) {
      const t0 = performance.now();
      for (let i = 0; i < batch; i++) fn();
      if (performance.now() - t0 >= minSampleMs || batch >= 1 << 16) return batch;
      batch *= 2;
    }
  });
  const samples: number[][] = fns.map(() => []);
  const started = performance.now();
  for (let round = 0; round < maxSamples; round++) {
    if (round >= minSamples && performance.now() - started >= minTime) break;
    fns.forEach((fn, k) => {
      const batch = batches[k]!;
      const t0 = performance.now();
      for (let i = 0; i < batch; i++) fn();
      samples[k]!.push((performance.now() - t0) / batch);
    });
  }
  if (sink === -1) console.log(sink);
  return samples;
}

/** A table: a header row and rows of cells, printed with aligned columns. */
export interface Table {
  /** Title line printed above the table. */
  readonly title: string;
  /** Column names. */
  readonly header: readonly string[];
  /** Rows of cells. */
  readonly rows: readonly (readonly string[])[];
  /** Notes printed under the table. */
  readonly notes?: readonly string[];
}

/** Render a table as GitHub-flavoured Markdown (readable as plain text too). */
export function formatTable(table: Table): string {
  const widths = table.header.map((h, i) =>
    Math.max(h.length, ...table.rows.map((r) => (r[i] ?? "").length))
  );
  const line = (cells: readonly string[]) =>
    `| ${
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")
    } |`;
  const rule = `|${
    widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")
  }|`;
  const out = [`### ${table.title}`, "", line(table.header), rule, ...table.rows.map(line)];
  if (table.notes !== undefined && table.notes.length > 0) out.push("", ...table.notes);
  return out.join("\n");
}

/** Format milliseconds with a sensible unit. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "n/a";
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(1)} µs`;
}

/** Format a rate (per second). */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return "n/a";
  return perSecond >= 100 ? Math.round(perSecond).toLocaleString("en-US") : perSecond.toFixed(1);
}

/** Format a ratio as `1.23x`. */
export function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : "n/a";
}

/** Format bytes with a binary unit. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return "n/a";
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** `met` / `MISSED` for a target check. */
export function verdict(ok: boolean): string {
  return ok ? "met" : "MISSED";
}
