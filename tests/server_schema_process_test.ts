/**
 * Schema validation in a real server process: many validating writes, each with names and
 * namespaces never seen before, leave the process alive and its memory bounded. (The precise
 * check that the validator's caches do not grow with documents is in server_schema_test.ts;
 * RSS only catches gross leaks: V8 grows its heap in steps of 20-30 MiB for a while.)
 */
import { assert, assertEquals } from "@std/assert";
import { spawnServer } from "./_server_process.ts";
import { validationWorkload } from "./_schema_workload.ts";

const MIB = 1024 * 1024;

Deno.test("serve.ts validates 3,000 element PUTs with ever new namespaces in bounded memory", async () => {
  const server = await spawnServer();
  try {
    const figures = await validationWorkload(server, 3000);
    assertEquals(figures.statuses, { 200: 1500, 409: 1500 });
    assert(server.alive());
    // Measured here: 92 MiB after 300 PUTs, 124 MiB after 1,500, 126 MiB at the end (the same
    // workload without validation ends at about the same RSS). A document kept per request
    // would add well over 100 MiB.
    const growth = figures.endRss - figures.warmRss;
    assert(growth < 80 * MIB, `RSS grew by ${(growth / MIB).toFixed(1)} MiB after the warm-up`);
    const secondHalf = figures.endRss - figures.rssByTenth[4]!;
    assert(
      secondHalf < 48 * MIB,
      `RSS grew by ${(secondHalf / MIB).toFixed(1)} MiB in the second half`,
    );
  } finally {
    await server.stop();
  }
});
