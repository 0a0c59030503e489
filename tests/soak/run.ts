/**
 * `deno task soak`: the checks that take longer than CI can afford. Runs every
 * `tests/soak/*_soak.ts` (or those named on the command line) one after the other, each in its
 * own process, and prints their figures. Each script measures real processes over 127.0.0.1 and
 * exits non-zero when a bound it checks does not hold.
 *
 * ```sh
 * deno task soak                    # all of them
 * deno task soak connections        # only tests/soak/connections_soak.ts
 * ```
 */
const HERE = decodeURIComponent(new URL(".", import.meta.url).pathname);
const REPO = decodeURIComponent(new URL("../..", import.meta.url).pathname);

const wanted = new Set(Deno.args);
const scripts = [...Deno.readDirSync(HERE)]
  .map((entry) => entry.name)
  .filter((name) => name.endsWith("_soak.ts"))
  .filter((name) => wanted.size === 0 || wanted.has(name.replace(/_soak\.ts$/, "")))
  .sort();
if (scripts.length === 0) {
  console.error(`soak: no script matches ${[...wanted].join(", ")}`);
  Deno.exit(2);
}
const failed: string[] = [];
for (const name of scripts) {
  console.log(`\n== ${name}`);
  const started = performance.now();
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "--allow-env",
      `--import-map=${REPO}.ci/import_map.json`,
      `--lock=${REPO}.ci/deno.lock`,
      `${HERE}${name}`,
    ],
    cwd: REPO,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`== ${name}: ${code === 0 ? "held" : `FAILED (exit ${code})`} in ${seconds} s`);
  if (code !== 0) failed.push(name);
}
console.log(`\nsoak: ${scripts.length - failed.length} held, ${failed.length} failed`);
Deno.exit(failed.length === 0 ? 0 : 1);
