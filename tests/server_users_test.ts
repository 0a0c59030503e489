/**
 * Credentials of the embedded server (issue 10.9): the users file (clear passwords or HA1 per
 * realm), the environment variable, `--hash-user`, and Digest/Basic against pre-hashed passwords.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { withAuthentication } from "../src/client/auth.ts";
import { createFetchExecutor } from "../src/client/executor.ts";
import {
  createXcapHandler,
  parseUsersFile,
  startXcapServer,
  type UserCredential,
  usersAuthentication,
} from "../src/server/mod.ts";
import { parseServeArgs, USERS_ENV } from "../src/server/serve.ts";
import { hashUserLines } from "../src/server/users.ts";
import { spawnServer } from "./_server_process.ts";
import { digestChallenges, hexDigest, urllibAuthorization } from "./_digest_peer.ts";

const REPO = decodeURIComponent(new URL("..", import.meta.url).pathname);
const ALICE = "sip:alice@example.com";
const RL_TYPE = "application/resource-lists+xml";
const DOC = '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"/>';
const PATH = `/xcap-root/resource-lists/users/${ALICE}/index`;

Deno.test("parseUsersFile() reads passwords and HA1 lines, skipping comments and blank lines", () => {
  const md5 = hexDigest("MD5", "bob:example.com:builder");
  const sha = hexDigest("SHA-256", "bob@example.com:xcap:builder");
  const text = [
    "# users of example.com",
    "",
    "  sip:alice@example.com   password   wonder land  \r",
    `bob@example.com md5 bob example.com ${md5.toUpperCase()}`,
    `sip:bob@example.com SHA-256 bob@example.com xcap ${sha}`,
  ].join("\n");
  assertEquals(parseUsersFile(text)._unsafeUnwrap(), [
    { address: "sip:alice@example.com", password: "wonder land" },
    {
      address: "bob@example.com",
      algorithm: "MD5",
      username: "bob",
      realm: "example.com",
      ha1: md5,
    },
    {
      address: "sip:bob@example.com",
      algorithm: "SHA-256",
      username: "bob@example.com",
      realm: "xcap",
      ha1: sha,
    },
  ]);
});

Deno.test("parseUsersFile() names the line and what is wrong, never the secret", () => {
  const cases: [string, string][] = [
    ["alice password s3cr3t-guess", 'line 1: "alice" is not a SIP address'],
    ["sip:alice@example.com", "line 1: expected ADDRESS password PASSWORD"],
    ["\n\nsip:alice@example.com password   ", "line 3: the password is empty"],
    ["sip:alice@example.com plain s3cr3t-guess", 'not "plain"'],
    ["sip:alice@example.com MD5 alice example.com", "expected ADDRESS MD5 USERNAME REALM HA1"],
    ["sip:alice@example.com MD5 alice example.com s3cr3t-guess", "32 hex digits for MD5"],
    [`sip:alice@example.com SHA-256 alice example.com ${"a".repeat(32)}`, "64 hex digits"],
  ];
  for (const [text, expected] of cases) {
    const result = parseUsersFile(text, "users.txt");
    assert(result.isErr(), text);
    assertStringIncludes(result.error.message, expected);
    assertStringIncludes(result.error.message, "users.txt line");
    assert(!result.error.message.includes("s3cr3t-guess"), result.error.message);
  }
});

Deno.test("hashUserLines() prints HA1 lines for each algorithm and user name form", () => {
  const lines = hashUserLines(ALICE, "wonder land")._unsafeUnwrap();
  assert(!lines.includes("wonder land"));
  const parsed = parseUsersFile(lines)._unsafeUnwrap();
  assertEquals(
    parsed.map((c) => "ha1" in c ? [c.algorithm, c.username, c.realm, c.ha1] : []),
    [
      ["SHA-256", "alice", "example.com", hexDigest("SHA-256", "alice:example.com:wonder land")],
      [
        "SHA-256",
        "alice@example.com",
        "example.com",
        hexDigest("SHA-256", "alice@example.com:example.com:wonder land"),
      ],
      ["MD5", "alice", "example.com", hexDigest("MD5", "alice:example.com:wonder land")],
      [
        "MD5",
        "alice@example.com",
        "example.com",
        hexDigest("MD5", "alice@example.com:example.com:wonder land"),
      ],
    ],
  );
  const fixed = parseUsersFile(
    hashUserLines(ALICE, "pw", { realm: "xcap", algorithms: ["MD5"] })._unsafeUnwrap(),
  )._unsafeUnwrap();
  assertEquals(fixed.map((c) => "realm" in c && c.realm), ["xcap", "xcap"]);
  assert(hashUserLines("alice", "pw").isErr());
  assert(hashUserLines(ALICE, "").isErr());
});

/** Answer the MD5 challenge of `path` like python-xcaplib. */
async function urllibGet(
  handler: (r: Request) => Promise<Response>,
  username: string,
  password: string,
  algorithm = "MD5",
): Promise<number> {
  const first = await handler(new Request(`http://127.0.0.1${PATH}`));
  await first.body?.cancel();
  const c = digestChallenges(first.headers.get("www-authenticate")).find((c) =>
    c.algorithm === algorithm
  )!;
  const response = await handler(
    new Request(`http://127.0.0.1${PATH}`, {
      headers: {
        authorization: urllibAuthorization(c, { username, password, method: "GET", uri: PATH }),
      },
    }),
  );
  await response.body?.cancel();
  return response.status;
}

Deno.test("usersAuthentication() checks Digest and Basic against HA1 lines, no clear text stored", async () => {
  const credentials = parseUsersFile(hashUserLines(ALICE, "wonder land")._unsafeUnwrap())
    ._unsafeUnwrap();
  const handler = createXcapHandler({
    authentication: usersAuthentication(credentials, { allowBasicOverHttp: true }),
  });
  for (const algorithm of ["MD5", "SHA-256"]) {
    for (const username of ["alice", "alice@example.com"]) {
      assertEquals(await urllibGet(handler, username, "wonder land", algorithm), 404);
      assertEquals(await urllibGet(handler, username, "wonder lane", algorithm), 401);
    }
    // No HA1 line for the whole address as user name: refused like a wrong password.
    assertEquals(await urllibGet(handler, ALICE, "wonder land", algorithm), 401);
  }
  for (const [password, status] of [["wonder land", 404], ["wonder lane", 401]] as const) {
    const basic = await handler(
      new Request(`http://127.0.0.1${PATH}`, {
        headers: { authorization: `Basic ${btoa(`alice:${password}`)}` },
      }),
    );
    assertEquals(basic.status, status);
    await basic.body?.cancel();
  }
  // Only MD5 lines: a SHA-256 answer is refused, MD5 works.
  const md5Only = createXcapHandler({
    authentication: usersAuthentication(
      parseUsersFile(hashUserLines(ALICE, "pw", { algorithms: ["MD5"] })._unsafeUnwrap())
        ._unsafeUnwrap(),
    ),
  });
  assertEquals(await urllibGet(md5Only, "alice", "pw", "SHA-256"), 401);
  assertEquals(await urllibGet(md5Only, "alice", "pw", "MD5"), 404);
});

Deno.test("startXcapServer() reads users from a users file and our client signs in", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/users`;
    await Deno.writeTextFile(file, hashUserLines(ALICE, "wonder land")._unsafeUnwrap());
    const server = (await startXcapServer({ usersFile: file }))._unsafeUnwrap();
    try {
      const execute = withAuthentication(createFetchExecutor(), {
        username: "alice",
        password: "wonder land",
      });
      const created = await execute({
        method: "PUT",
        url: `${server.xcapRoot}/resource-lists/users/${ALICE}/index`,
        headers: { "content-type": RL_TYPE },
        body: DOC,
      });
      assertEquals(created._unsafeUnwrap().status, 201);
    } finally {
      await server.close();
    }
    await Deno.writeTextFile(file, "sip:alice@example.com MD5 alice\n");
    const bad = await startXcapServer({ usersFile: file });
    assert(bad.isErr());
    assertStringIncludes(bad.error.message, "line 1");
    const missing = await startXcapServer({ usersFile: `${dir}/none` });
    assert(missing.isErr());
    assertStringIncludes(missing.error.message, "Cannot read users file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Digest GET of Alice's document on a server process, as python-xcaplib answers. */
async function processGet(port: number, password: string): Promise<number> {
  const url = `http://127.0.0.1:${port}${PATH}`;
  const first = await fetch(url);
  await first.body?.cancel();
  const c = digestChallenges(first.headers.get("www-authenticate")).find((c) =>
    c.algorithm === "MD5"
  )!;
  const response = await fetch(url, {
    headers: {
      authorization: urllibAuthorization(c, {
        username: "alice",
        password,
        method: "GET",
        uri: PATH,
      }),
    },
  });
  await response.body?.cancel();
  return response.status;
}

Deno.test("deno task serve takes users from --users-file and $XCAP_SERVER_USERS, and --hash-user makes the lines", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // --hash-user reads the password from stdin and prints the lines.
    const hashing = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-env",
        `--import-map=${REPO}.ci/import_map.json`,
        `--lock=${REPO}.ci/deno.lock`,
        `${REPO}src/server/serve.ts`,
        "--hash-user",
        ALICE,
        "--digest-algorithms",
        "MD5",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const writer = hashing.stdin.getWriter();
    await writer.write(new TextEncoder().encode("wonder land\n"));
    await writer.close();
    const hashed = await hashing.output();
    assertEquals(hashed.code, 0, new TextDecoder().decode(hashed.stderr));
    const lines = new TextDecoder().decode(hashed.stdout);
    assert(!lines.includes("wonder land"));
    assertEquals(
      (parseUsersFile(lines)._unsafeUnwrap() as UserCredential[]).map((c) =>
        "algorithm" in c && c.algorithm
      ),
      ["MD5", "MD5"],
    );
    const file = `${dir}/users`;
    await Deno.writeTextFile(file, lines);
    await Deno.chmod(file, 0o600);
    const fromFile = await spawnServer({ args: ["--users-file", file] });
    try {
      assertEquals(await processGet(fromFile.port, "wonder land"), 404);
      assertEquals(await processGet(fromFile.port, "wonder lane"), 401);
      // What `ps` shows of the server (its /proc cmdline) names the file, not the password.
      const cmdline = await new Deno.Command("cat", {
        args: [`/proc/${fromFile.pid}/cmdline`],
        stdout: "piped",
      }).output();
      const shown = new TextDecoder().decode(cmdline.stdout);
      assertStringIncludes(shown, "--users-file");
      assert(!shown.includes("wonder"));
    } finally {
      await fromFile.stop();
    }
    const fromEnv = await spawnServer({
      env: { [USERS_ENV]: `${ALICE} password wonder land` },
    });
    try {
      assertEquals(await processGet(fromEnv.port, "wonder land"), 404);
      assertEquals(await processGet(fromEnv.port, "x"), 401);
    } finally {
      await fromEnv.stop();
    }
    // Clear-text passwords in a file others can read: a warning, the server still starts.
    await Deno.writeTextFile(file, `${ALICE} password wonder land\n`);
    await Deno.chmod(file, 0o644);
    const readable = await spawnServer({ args: ["--users-file", file] });
    try {
      assertEquals(await processGet(readable.port, "wonder land"), 404);
      assertStringIncludes(readable.stderr(), "holds clear-text passwords and others may read it");
      assert(!readable.stderr().includes("wonder land"));
    } finally {
      await readable.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseServeArgs() reads the credential and realm options", () => {
  const command = parseServeArgs([
    "--users-file",
    "/etc/xcap/users",
    "--default-realm",
    "example.com",
    "--digest-algorithms",
    "md5,SHA-256,MD5",
    "--max-tracked-nonces",
    "64",
    "--max-tracked-nonces-per-user=8",
  ])._unsafeUnwrap();
  assertEquals(command, {
    kind: "serve",
    options: {
      hostname: "127.0.0.1",
      port: 8080,
      usersFile: "/etc/xcap/users",
      defaultRealm: "example.com",
      digestAlgorithms: ["MD5", "SHA-256"],
      maxTrackedNonces: 64,
      maxTrackedNoncesPerUser: 8,
    },
  });
  assertEquals(parseServeArgs(["--hash-user", ALICE, "--realm", "xcap"])._unsafeUnwrap(), {
    kind: "hash-user",
    address: ALICE,
    realm: "xcap",
    algorithms: ["SHA-256", "MD5"],
  });
  for (
    const bad of [
      ["--digest-algorithms", "SHA-1"],
      ["--max-tracked-nonces", "0"],
      ["--max-tracked-nonces", "many"],
      ["--users-file"],
    ]
  ) {
    assert(parseServeArgs(bad).isErr(), bad.join(" "));
  }
});

Deno.test("startXcapServer() offers the Digest algorithms asked for, in that order", async () => {
  for (
    const [algorithms, offered] of [
      [["MD5"], ["MD5"]],
      [["MD5", "SHA-256"], ["MD5", "SHA-256"]],
      [undefined, ["SHA-256", "MD5"]],
    ] as const
  ) {
    const server = (await startXcapServer({
      users: { [ALICE]: "pw" },
      ...(algorithms === undefined ? {} : { digestAlgorithms: algorithms }),
    }))._unsafeUnwrap();
    try {
      const response = await fetch(`${server.xcapRoot}/resource-lists/users/${ALICE}/index`);
      await response.body?.cancel();
      assertEquals(
        digestChallenges(response.headers.get("www-authenticate")).map((c) => c.algorithm),
        [...offered],
      );
    } finally {
      await server.close();
    }
  }
});
