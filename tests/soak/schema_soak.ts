/**
 * Soak: 20,000 validating element PUTs (half of them invalid) into a 1,000-entry document on
 * `serve.ts`, each with a namespace and element names never seen before; prints RSS after each
 * tenth and the rate, and fails when RSS grows by more than 32 MiB over the second half (V8 sizes
 * its heap in steps during the first) or the server dies.
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
  const growth = figures.endRss - figures.rssByTenth[4]!;
  console.log(
    `requests ${figures.requests}, statuses ${JSON.stringify(figures.statuses)}, ` +
      `${figures.rate.toFixed(0)} req/s`,
  );
  console.log(
    `RSS by tenth (MiB): ${figures.rssByTenth.map((r) => (r / MIB).toFixed(0)).join(" ")}; ` +
      `second half growth ${(growth / MIB).toFixed(1)} MiB, peak ${
        (figures.peakRss / MIB).toFixed(1)
      } MiB`,
  );
  if (!server.alive()) {
    console.error("the server died");
    failed = true;
  }
  if (growth > 32 * MIB) {
    console.error(`RSS grew by ${(growth / MIB).toFixed(1)} MiB in the second half (bound 32 MiB)`);
    failed = true;
  }
} finally {
  await server.stop();
}
Deno.exit(failed ? 1 : 0);
