/**
 * How long the server's authenticator takes to refuse an unknown user, a wrong password (for a
 * clear-text and for an HA1 account) and to accept the right one, Digest MD5 and Basic (issue
 * 10.9: the first two must not be told apart by timing). Prints medians and means per call and
 * the differences; asserts nothing (timing is measured, never asserted).
 *
 * ```sh
 * deno run --allow-env --import-map=.ci/import_map.json --lock=.ci/deno.lock \
 *   tests/bench/auth_timing.ts [ROUNDS]
 * ```
 */
import { parseUsersFile, usersAuthentication } from "../../src/server/mod.ts";
import { createAuthenticator } from "../../src/server/auth.ts";
import { hashUserLines } from "../../src/server/users.ts";
import { digestChallenges, urllibAuthorization } from "../_digest_peer.ts";

const ROUNDS = Number(Deno.args[0] ?? 5);
const PER_ROUND = 5_000;
const XUI = "sip:alice@example.com";
const URL_ = `https://127.0.0.1/xcap-root/resource-lists/users/${XUI}/index`;
const PATH = new URL(URL_).pathname;

const credentials = [
  { address: XUI, password: "wonder land" },
  ...parseUsersFile(hashUserLines("sip:hannah@example.com", "hashed pw")._unsafeUnwrap())
    ._unsafeUnwrap(),
];
const auth = createAuthenticator({
  ...usersAuthentication(credentials),
  // Room for every accepted request's nonce count: the right password is measured too.
  maxTrackedNoncesPerUser: 65_536,
});

const first = await auth.authenticate(new Request(URL_), { xui: XUI });
if (first.kind !== "refused") throw new Error("expected a challenge");
const challenge = digestChallenges(first.challenges.join(", ")).find((c) => c.algorithm === "MD5")!;

let nc = 0;
function digest(username: string, password: string): Request {
  return new Request(URL_, {
    headers: {
      authorization: urllibAuthorization(challenge, {
        username,
        password,
        method: "GET",
        uri: PATH,
        nc: ++nc,
      }),
    },
  });
}

function basic(username: string, password: string): Request {
  return new Request(URL_, {
    headers: { authorization: `Basic ${btoa(`${username}:${password}`)}` },
  });
}

const CASES: Record<string, { make: () => Request; expect: string }> = {
  "Digest, unknown user": { make: () => digest("mallory", "guess"), expect: "refused" },
  // The same case twice: their difference is the noise floor of this run.
  "Digest, unknown user (again)": { make: () => digest("mallory", "guess"), expect: "refused" },
  "Digest, wrong password": { make: () => digest("alice", "guess"), expect: "refused" },
  "Digest, wrong password (HA1 account)": {
    make: () => digest("hannah", "guess"),
    expect: "refused",
  },
  "Digest, right password": { make: () => digest("alice", "wonder land"), expect: "authenticated" },
  "Basic, unknown user": { make: () => basic("mallory", "guess"), expect: "refused" },
  "Basic, wrong password": { make: () => basic("alice", "guess"), expect: "refused" },
  "Basic, wrong password (HA1 account)": {
    make: () => basic("hannah", "guess"),
    expect: "refused",
  },
};

const samples: Record<string, number[]> = Object.fromEntries(
  Object.keys(CASES).map((k) => [k, []]),
);
const cases = Object.entries(CASES);
// Calls interleave one by one, in a new random order each time, so that drift and other load
// (JIT, GC, other processes) fall on every case alike; each call is timed on its own and the
// median is taken. The first round is a warm-up.
for (let round = 0; round < ROUNDS; round++) {
  const batch = cases.map((
    [name, { make }],
  ) => [name, Array.from({ length: PER_ROUND }, make)]) as [
    string,
    Request[],
  ][];
  for (let i = 0; i < PER_ROUND; i++) {
    for (let j = batch.length - 1; j > 0; j--) {
      const k = Math.floor(Math.random() * (j + 1));
      [batch[j], batch[k]] = [batch[k]!, batch[j]!];
    }
    for (const [name, requests] of batch) {
      const started = performance.now();
      const outcome = await auth.authenticate(requests[i]!, { xui: XUI });
      const elapsed = performance.now() - started;
      if (outcome.kind !== CASES[name]!.expect) throw new Error(`${name}: ${outcome.kind}`);
      if (round > 0) samples[name]!.push(elapsed * 1000);
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

console.log(
  `authenticate() per call, µs: ${(ROUNDS - 1) * PER_ROUND} calls per case, interleaved`,
);
for (const [name, values] of Object.entries(samples)) {
  console.log(
    `  ${name.padEnd(42)} median ${median(values).toFixed(2).padStart(7)}  mean ${
      mean(values).toFixed(2).padStart(7)
    }`,
  );
}
for (
  const [scheme, a, b] of [
    ["noise floor", "Digest, unknown user (again)", "Digest, unknown user"],
    ["Digest", "Digest, wrong password", "Digest, unknown user"],
    ["Digest", "Digest, wrong password (HA1 account)", "Digest, unknown user"],
    ["Basic", "Basic, wrong password", "Basic, unknown user"],
    ["Basic", "Basic, wrong password (HA1 account)", "Basic, unknown user"],
  ] as const
) {
  const diff = median(samples[a]!) - median(samples[b]!);
  console.log(
    `${scheme}: "${a}" minus "${b}": ${diff >= 0 ? "+" : ""}${diff.toFixed(2)} µs ` +
      `(ratio ${(median(samples[a]!) / median(samples[b]!)).toFixed(3)})`,
  );
}
