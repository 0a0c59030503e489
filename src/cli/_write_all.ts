/**
 * `writeAll` for the CLI's Deno edge (`deno_io.ts`, `prompt.ts`): `@std/io`'s `writeAll`, which
 * the offline std build used in CI (`deno-std`) does not carry, so it lives here, once.
 *
 * @module
 */

/**
 * Write every byte of `data`, however many calls the writer needs.
 *
 * @param writer A writer such as `Deno.stdout`.
 * @param data The bytes.
 *
 * @example Usage
 * ```ts
 * import { writeAll } from "./_write_all.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const chunks: number[][] = [];
 * const twoAtATime = { write: (p: Uint8Array) => (chunks.push([...p.subarray(0, 2)]), Promise.resolve(Math.min(2, p.length))) };
 * await writeAll(twoAtATime, new Uint8Array([1, 2, 3, 4, 5]));
 * assertEquals(chunks, [[1, 2], [3, 4], [5]]);
 * ```
 */
export async function writeAll(
  writer: { write(p: Uint8Array): Promise<number> },
  data: Uint8Array,
): Promise<void> {
  let offset = 0;
  while (offset < data.byteLength) offset += await writer.write(data.subarray(offset));
}
