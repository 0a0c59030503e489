/**
 * Schema validation in a real server process: many validating writes, each with names and
 * namespaces never seen before, leave the process alive and its memory where it was.
 */
import { assert, assertEquals } from "@std/assert";
import { spawnServer } from "./_server_process.ts";
import { validationWorkload } from "./_schema_workload.ts";

Deno.test("serve.ts validates 1,500 element PUTs with ever new namespaces without growing", async () => {
  const server = await spawnServer();
  try {
    const figures = await validationWorkload(server, 1500);
    assertEquals(figures.statuses, { 200: 750, 409: 750 });
    assert(server.alive());
    // The validator's caches are bounded by the schemas, not by the documents: after the
    // warm-up, RSS moves by garbage collector noise only (measured: a few MiB).
    const growth = figures.endRss - figures.warmRss;
    assert(
      growth < 24 * 1024 * 1024,
      `RSS grew by ${(growth / 1048576).toFixed(1)} MiB after the warm-up`,
    );
  } finally {
    await server.stop();
  }
});
