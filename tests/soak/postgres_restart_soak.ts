/**
 * `deno task soak postgres_restart`: three server processes (`serve.ts --postgres`) on one
 * PostgreSQL database under a steady GET and PUT load while PostgreSQL is stopped and started
 * again, ten times by default (`--restarts N`), alternately as a crash (`-m immediate`) and
 * cleanly (`-m fast`). Every answer must be 200 or 503 (with `Retry-After`), every server must
 * survive, and after each restart each server must answer 200 again within 10 s by itself.
 * Postgres.js 3.4.10 failed this: a query sent on a connection that had closed inside a
 * transaction threw in a `setImmediate`, uncaught, and the process died.
 *
 * Prints the figures; exits 1 when a bound does not hold.
 */
import { startPostgres } from "../_postgres.ts";
import { spawnServer } from "../_server_process.ts";

const RESTARTS = Number(Deno.args[Deno.args.indexOf("--restarts") + 1] ?? 10) || 10;
const RECOVERY_BOUND_MS = 10_000;
const PATH = "/resource-lists/users/sip:soak@example.com/index";
const TYPE = "application/resource-lists+xml";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const doc = (n: number) =>
  `<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="a">${
    Array.from({ length: n % 7 }, (_, i) => `<entry uri="sip:e${i}@example.com"/>`).join("")
  }</list></resource-lists>`;

const pg = await startPostgres();
const url = await pg.createDatabase();
const servers = await Promise.all([0, 1, 2].map(() => spawnServer({ args: ["--postgres", url] })));
const problems: string[] = [];
const statuses: Record<string, number> = {};
const recoveries: number[] = [];
try {
  const created = await fetch(`${servers[0]!.xcapRoot}${PATH}`, {
    method: "PUT",
    headers: { "content-type": TYPE },
    body: doc(0),
  });
  await created.body?.cancel();
  let stop = false;
  const loops = Array.from({ length: 12 }, async (_, w) => {
    for (let i = 0; !stop; i++) {
      const root = servers[w % 3]!.xcapRoot;
      const put = w % 2 === 1;
      try {
        const response = await fetch(
          `${root}${PATH}`,
          put
            ? { method: "PUT", headers: { "content-type": TYPE }, body: doc(i) }
            : { signal: AbortSignal.timeout(30_000) },
        );
        const text = await response.text();
        const what = `${put ? "PUT" : "GET"} ${response.status}`;
        statuses[what] = (statuses[what] ?? 0) + 1;
        if (response.status === 503) {
          if (response.headers.get("retry-after") === null) {
            problems.push("503 without Retry-After");
          }
          await sleep(50);
        } else if (response.status !== 200) {
          problems.push(`${what}: ${text.slice(0, 200)}`);
        }
      } catch (e) {
        statuses["network error"] = (statuses["network error"] ?? 0) + 1;
        problems.push(`${put ? "PUT" : "GET"} ${root}: ${e instanceof Error ? e.message : e}`);
        await sleep(200);
      }
    }
  });
  for (let k = 0; k < RESTARTS; k++) {
    await sleep(1_500);
    await pg.stop(k % 2 === 0 ? "immediate" : "fast");
    await sleep(700);
    await pg.start();
    const started = performance.now();
    for (const server of servers) {
      for (;;) {
        const response = await fetch(`${server.xcapRoot}${PATH}`).catch(() => undefined);
        await response?.body?.cancel();
        if (response?.status === 200) break;
        if (performance.now() - started > RECOVERY_BOUND_MS) {
          problems.push(`restart ${k + 1}: ${server.xcapRoot} not back within 10 s`);
          break;
        }
        await sleep(50);
      }
    }
    recoveries.push(performance.now() - started);
  }
  stop = true;
  await Promise.all(loops);
  for (const server of servers) {
    if (!server.alive()) {
      problems.push(`server ${server.pid} died: ${server.stderr().slice(0, 500)}`);
    }
  }
} finally {
  for (const server of servers) await server.stop();
  await pg.destroy();
}

recoveries.sort((a, b) => a - b);
console.log(`restarts of PostgreSQL: ${RESTARTS} (alternately -m immediate and -m fast)`);
console.log(`answers: ${JSON.stringify(statuses)}`);
console.log(
  `back to 200 on all 3 servers after a start: median ${
    Math.round(recoveries[recoveries.length >> 1] ?? NaN)
  } ms, worst ${Math.round(recoveries.at(-1) ?? NaN)} ms (bound ${RECOVERY_BOUND_MS} ms)`,
);
if (problems.length > 0) {
  console.log(
    `FAILED: ${problems.length} problems, first ones:\n${problems.slice(0, 5).join("\n")}`,
  );
  Deno.exit(1);
}
console.log(
  "held: every answer 200 or 503 with Retry-After, every server alive and back by itself",
);
