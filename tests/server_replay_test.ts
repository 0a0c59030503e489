/**
 * Digest replay protection (issue 10.4): a recorded request of Alice's stays refused however
 * much another account authenticates, the state stays bounded, and what it forgets fails closed.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { NC_WINDOW, ReplayGuard } from "../src/server/_replay.ts";
import { spawnServer } from "./_server_process.ts";
import { digestChallenges, digestFetch } from "./_digest_peer.ts";

const LIFETIME = 360_000;
const NOW = 1_800_000_000_000;

Deno.test("ReplayGuard.use() refuses a nonce count used before, in any order within the window", () => {
  const guard = new ReplayGuard({ maxNonces: 16, maxNoncesPerAccount: 4, lifetimeMs: LIFETIME });
  assertEquals(guard.use("alice", "n1", NOW, 1, NOW), "fresh");
  assertEquals(guard.use("alice", "n1", NOW, 1, NOW), "replayed");
  assertEquals(guard.use("alice", "n1", NOW, 5, NOW), "fresh");
  assertEquals(guard.use("alice", "n1", NOW, 3, NOW), "fresh");
  assertEquals(guard.use("alice", "n1", NOW, 3, NOW), "replayed");
  assertEquals(guard.use("alice", "n1", NOW, 2, NOW), "fresh");
  assertEquals(guard.use("alice", "n1", NOW, 5, NOW), "replayed");
  // The same nonce and count for another account is that account's own.
  assertEquals(guard.use("bob", "n1", NOW, 1, NOW), "fresh");
  // Far ahead: the window moves; what falls below it can no longer be checked.
  assertEquals(guard.use("alice", "n1", NOW, 5 + NC_WINDOW, NOW), "fresh");
  assertEquals(guard.use("alice", "n1", NOW, 4, NOW), "forgotten");
  assertEquals(guard.use("alice", "n1", NOW, 5, NOW), "forgotten");
  assertEquals(guard.use("alice", "n1", NOW, 6, NOW), "fresh");
  assertEquals(guard.use("alice", "n1", NOW, 6, NOW), "replayed");
  assertEquals(guard.use("alice", "n1", NOW, 5 + NC_WINDOW, NOW), "replayed");
});

Deno.test("ReplayGuard.use() keeps an account's state whatever another account does", () => {
  const guard = new ReplayGuard({
    maxNonces: 65_536,
    maxNoncesPerAccount: 1_024,
    lifetimeMs: LIFETIME,
  });
  assertEquals(guard.use("alice", "alice-nonce", NOW, 1, NOW), "fresh");
  for (let i = 0; i < 100_000; i++) {
    assertEquals(guard.use("mallory", `m${i}`, NOW + i, 1, NOW + i), "fresh");
  }
  assertEquals(guard.size, 1_025);
  assertEquals(guard.use("alice", "alice-nonce", NOW, 1, NOW + 100_000), "replayed");
  // Mallory's own early nonces fail closed, never fresh.
  assertEquals(guard.use("mallory", "m0", NOW, 1, NOW + 100_000), "forgotten");
  assertEquals(guard.use("mallory", "m0", NOW, 2, NOW + 100_000), "forgotten");
});

Deno.test("ReplayGuard.use() stays within its bounds and fails closed past them", () => {
  const guard = new ReplayGuard({
    maxNonces: 4_096,
    maxNoncesPerAccount: 64,
    lifetimeMs: LIFETIME,
  });
  assertEquals(guard.use("alice", "alice-nonce", NOW, 1, NOW), "fresh");
  let peak = 0;
  // 5,000 accounts, 40 nonces each: far past the global bound.
  for (let i = 0; i < 200_000; i++) {
    const time = NOW + 1 + i;
    guard.use(`user${i % 5_000}`, `n${i}`, time, 1, time);
    peak = Math.max(peak, guard.size);
  }
  assert(peak <= 4_096, `peak ${peak}`);
  assert(guard.accounts <= 4_096);
  // Alice's state went with the least recently used accounts: her nonce is answered as
  // forgotten (stale=true), never as fresh.
  assertEquals(guard.use("alice", "alice-nonce", NOW, 1, NOW + 200_001), "forgotten");
  assertEquals(guard.use("alice", "alice-nonce", NOW, 2, NOW + 200_001), "forgotten");
  // A nonce issued after that works.
  assertEquals(guard.use("alice", "new", NOW + 200_002, 1, NOW + 200_002), "fresh");
});

Deno.test("ReplayGuard.use() drops expired nonces without raising a floor", () => {
  const guard = new ReplayGuard({ maxNonces: 8, maxNoncesPerAccount: 8, lifetimeMs: 1_000 });
  for (let i = 0; i < 8; i++) assertEquals(guard.use("a", `n${i}`, NOW, 1, NOW), "fresh");
  assertEquals(guard.size, 8);
  // Two seconds later the old ones are gone (stale by their signed time anyway).
  assertEquals(guard.use("a", "fresh", NOW + 2_000, 1, NOW + 2_000), "fresh");
  assertEquals(guard.size, 1);
  assertEquals(guard.use("b", "other", NOW + 1_500, 1, NOW + 2_000), "fresh");
});

const ALICE = "sip:alice@example.com";
const RL = "urn:ietf:params:xml:ns:resource-lists";
const RL_TYPE = "application/resource-lists+xml";

function lists(name: string): string {
  return `<resource-lists xmlns="${RL}"><list name="${name}"/></resource-lists>`;
}

/** Record Alice's PUT, flood with `flood`, replay it: refused with stale=true, document kept. */
async function replayAfterFlood(
  args: readonly string[],
  flood: (root: string) => Promise<number>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const users = `${dir}/users`;
  const lines = [`${ALICE} password alice-pw`];
  for (let i = 0; i < 8; i++) lines.push(`sip:mallory${i}@example.com password mallory-pw`);
  await Deno.writeTextFile(users, lines.join("\n"));
  await Deno.chmod(users, 0o600);
  const server = await spawnServer({ args: ["--users-file", users, ...args] });
  try {
    const url = `${server.xcapRoot}/resource-lists/users/${ALICE}/index`;
    const alice = { username: "alice", password: "alice-pw" };
    const recorded = await digestFetch(url, {
      ...alice,
      method: "PUT",
      body: lists("old"),
      contentType: RL_TYPE,
    });
    assertEquals(recorded.status, 201);
    const current = await digestFetch(url, {
      ...alice,
      method: "PUT",
      body: lists("new"),
      contentType: RL_TYPE,
    });
    assertEquals(current.status, 200);
    const authenticated = await flood(server.xcapRoot);
    const replay = await fetch(url, {
      method: "PUT",
      headers: recorded.headers,
      body: lists("old"),
    });
    assertEquals(replay.status, 401, `after ${authenticated} authentications`);
    assertStringIncludes(await replay.text(), "Unauthorized");
    assert(digestChallenges(replay.headers.get("www-authenticate")).every((c) => c.stale));
    const read = await digestFetch(url, alice);
    assertEquals(read.status, 200);
    assertEquals(read.body, lists("new"));
    assert(server.alive());
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * `count` authenticated GETs of their own documents by mallory0..mallory{accounts-1}, each with a
 * fresh nonce (as python-xcaplib makes them), four at a time.
 */
async function floodWith(root: string, accounts: number, count: number): Promise<number> {
  let authenticated = 0;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const user = `mallory${i % accounts}`;
      const response = await digestFetch(
        `${root}/resource-lists/users/sip:${user}@example.com/index`,
        { username: user, password: "mallory-pw" },
      );
      if (response.status === 404) authenticated++;
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  assertEquals(authenticated, count, "every flooding request authenticated");
  return authenticated;
}

Deno.test("the server refuses a replayed PUT of Alice's after another account authenticated 10,001 times", async () => {
  // Issue 10.4 as found: default bounds, one other account, 10,001 authentications (past the
  // 10,000 nonces the server used to remember over all accounts, and past the 1,024 per user).
  await replayAfterFlood([], (root) => floodWith(root, 1, 10_001));
});

Deno.test("the server refuses a replayed PUT of Alice's after many accounts flooded past the global bound", async () => {
  // Small bounds so the flood passes the global one: Alice's state is forgotten, and what is
  // forgotten is answered stale=true, never trusted.
  await replayAfterFlood(
    ["--max-tracked-nonces", "32", "--max-tracked-nonces-per-user", "8"],
    (root) => floodWith(root, 8, 200),
  );
});
