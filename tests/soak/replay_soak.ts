/**
 * Replay after flooding (issue 10.4), at full size: a server process with the default bounds;
 * Alice's PUT is recorded, then anonymous requests, wrong passwords and successful
 * authentications from many accounts flood it past every bound (65,536 nonces over all users,
 * 1,024 per user); the recorded PUT is replayed. Prints the server's RSS after each phase and
 * exits non-zero when the replay is accepted, Alice's document changed, the server died, or the
 * authentications grew RSS by more than the bound below over the same number of wrong passwords
 * (which leave no state).
 *
 * ```sh
 * deno task soak replay                   # 80,000 authentications from 100 accounts
 * deno run -A --import-map=.ci/import_map.json --lock=.ci/deno.lock tests/soak/replay_soak.ts 20000
 * ```
 */
import { spawnServer } from "../_server_process.ts";
import { digestFetch } from "../_digest_peer.ts";

const AUTHENTICATIONS = Number(Deno.args[0] ?? 80_000);
const ACCOUNTS = 100;
const ANONYMOUS = 20_000;
const CONCURRENCY = 8;
/**
 * Most the successful authentications may add to the server's RSS after the same number of
 * wrong passwords (the same requests, without state) warmed its heap up: the nonce table at its
 * bound (65,536 × ~200 bytes, 13 MiB) plus slack for the garbage collector.
 */
const MAX_STATE_GROWTH = 48 * 1024 * 1024;

const ALICE = "sip:alice@example.com";
const RL = "urn:ietf:params:xml:ns:resource-lists";
const lists = (name: string) =>
  `<resource-lists xmlns="${RL}"><list name="${name}"/></resource-lists>`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/**
 * A field of `/proc/PID/status` in bytes, read with `cat`: Deno 2.9 wants --allow-all for
 * another process's /proc files, so `ServerProcess.rssBytes()` fails under `deno task soak`.
 */
async function statusBytes(pid: number, field: "VmRSS" | "VmHWM"): Promise<number> {
  const { stdout } = await new Deno.Command("cat", {
    args: [`/proc/${pid}/status`],
    stdout: "piped",
  }).output();
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(new TextDecoder().decode(stdout));
  if (match === null) throw new Error(`no ${field} for process ${pid}`);
  return Number(match[1]) * 1024;
}

async function parallel(count: number, one: (i: number) => Promise<boolean>): Promise<number> {
  let next = 0;
  let good = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    for (let i = next++; i < count; i = next++) if (await one(i)) good++;
  }));
  return good;
}

const dir = await Deno.makeTempDir({ prefix: "xcap-replay-soak-" });
const users = [`${ALICE} password alice-pw`];
for (let i = 0; i < ACCOUNTS; i++) users.push(`sip:user${i}@example.com password user-pw`);
await Deno.writeTextFile(`${dir}/users`, users.join("\n"));
await Deno.chmod(`${dir}/users`, 0o600);
const server = await spawnServer({ args: ["--users-file", `${dir}/users`] });
const failures: string[] = [];
try {
  const url = `${server.xcapRoot}/resource-lists/users/${ALICE}/index`;
  const alice = { username: "alice", password: "alice-pw" };
  const put = (name: string) =>
    digestFetch(url, {
      ...alice,
      method: "PUT",
      body: lists(name),
      contentType: "application/resource-lists+xml",
    });
  const recorded = await put("old");
  await put("new");
  const start = await statusBytes(server.pid, "VmRSS");
  console.log(`start: RSS ${mib(start)}`);

  let started = performance.now();
  const anonymous = await parallel(ANONYMOUS, async () => {
    const response = await fetch(url);
    await response.body?.cancel();
    return response.status === 401;
  });
  console.log(
    `${anonymous} anonymous requests answered 401 in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s: RSS ${mib(await statusBytes(server.pid, "VmRSS"))}`,
  );

  started = performance.now();
  const wrong = await parallel(AUTHENTICATIONS, async (i) => {
    const response = await digestFetch(
      `${server.xcapRoot}/resource-lists/users/sip:user${i % ACCOUNTS}@example.com/index`,
      { username: `user${i % ACCOUNTS}`, password: "guess" },
    );
    return response.status === 401;
  });
  const warm = await statusBytes(server.pid, "VmRSS");
  console.log(
    `${wrong} wrong passwords answered 401 in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s: RSS ${mib(warm)}`,
  );

  started = performance.now();
  const authenticated = await parallel(AUTHENTICATIONS, async (i) => {
    const user = `user${i % ACCOUNTS}`;
    const response = await digestFetch(
      `${server.xcapRoot}/resource-lists/users/sip:${user}@example.com/index`,
      { username: user, password: "user-pw" },
    );
    return response.status === 404;
  });
  const seconds = (performance.now() - started) / 1000;
  const end = await statusBytes(server.pid, "VmRSS");
  console.log(
    `${authenticated} authentications from ${ACCOUNTS} accounts in ${seconds.toFixed(1)} s ` +
      `(${(authenticated / seconds).toFixed(0)}/s): RSS ${mib(end)}, peak ${
        mib(await statusBytes(server.pid, "VmHWM"))
      }; ${mib(end - warm)} more than after the wrong passwords, ${
        mib(end - start)
      } since the start`,
  );
  if (authenticated !== AUTHENTICATIONS) {
    failures.push(`${AUTHENTICATIONS - authenticated} flooding requests did not authenticate`);
  }
  if (end - warm > MAX_STATE_GROWTH) {
    failures.push(
      `RSS grew by ${mib(end - warm)} during the authentications (bound ${mib(MAX_STATE_GROWTH)})`,
    );
  }

  const replay = await fetch(url, { method: "PUT", headers: recorded.headers, body: lists("old") });
  const stale = replay.headers.get("www-authenticate")?.includes("stale=true") ?? false;
  await replay.body?.cancel();
  console.log(`replay of Alice's recorded PUT: ${replay.status}${stale ? ", stale=true" : ""}`);
  if (replay.status !== 401 || !stale) failures.push(`the replay got ${replay.status}`);
  const read = await digestFetch(url, alice);
  const kept = read.status === 200 && read.body === lists("new");
  console.log(`Alice's document ${kept ? "unchanged" : `CHANGED: ${read.status} ${read.body}`}`);
  if (!kept) failures.push("Alice's document changed");
  if (!server.alive()) failures.push("the server died");
} finally {
  await server.stop();
  await Deno.remove(dir, { recursive: true });
}
if (failures.length > 0) {
  console.error(`replay soak failed: ${failures.join("; ")}`);
  Deno.exit(1);
}
console.log("replay soak: held");
