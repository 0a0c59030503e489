/**
 * Soak: 20,000 validating element PUTs (half of them invalid) against `serve.ts`, each with a
 * namespace and element names never seen before; prints RSS and rate, and fails when RSS after
 * the warm-up grows by more than 32 MiB or the server dies.
 *
 * ```sh
 * deno task soak schema
 * ```
 */
import { spawnServer } from "../_server_process.ts";
import { validationWorkload } from "../_schema_workload.ts";

const MIB = 1024 * 1024;
const server = await spawnServer();
let failed = false;
try {
  const figures = await validationWorkload(server, 20_000, 1000);
  const growth = figures.endRss - figures.warmRss;
  console.log(
    `requests ${figures.requests}, statuses ${JSON.stringify(figures.statuses)}, ` +
      `${figures.rate.toFixed(0)} req/s`,
  );
  console.log(
    `RSS after warm-up ${(figures.warmRss / MIB).toFixed(1)} MiB, at the end ` +
      `${(figures.endRss / MIB).toFixed(1)} MiB (growth ${(growth / MIB).toFixed(1)} MiB), ` +
      `peak ${(figures.peakRss / MIB).toFixed(1)} MiB`,
  );
  if (!server.alive()) {
    console.error("the server died");
    failed = true;
  }
  if (growth > 32 * MIB) {
    console.error(`RSS grew by ${(growth / MIB).toFixed(1)} MiB (bound 32 MiB)`);
    failed = true;
  }
} finally {
  await server.stop();
}
Deno.exit(failed ? 1 : 0);
