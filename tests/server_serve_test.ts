// Run with --unstable-kv (or "unstable": ["kv"] in deno.json) and --allow-run.
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { withAuthentication } from "../src/client/auth.ts";
import { createFetchExecutor } from "../src/client/executor.ts";
import { startXcapServer } from "../src/server/mod.ts";
import { parseServeArgs } from "../src/server/serve.ts";

const RL = "urn:ietf:params:xml:ns:resource-lists";
const RL_TYPE = "application/resource-lists+xml";
const ALICE = "sip:alice@example.com";
const DOC = `<resource-lists xmlns="${RL}"><list name="friends"/></resource-lists>`;
const REPO = decodeURIComponent(new URL("..", import.meta.url).pathname);

Deno.test("parseServeArgs() reads every option, with defaults", () => {
  assertEquals(parseServeArgs([])._unsafeUnwrap(), {
    kind: "serve",
    options: { hostname: "127.0.0.1", port: 8080 },
  });
  assertEquals(
    parseServeArgs([
      "--hostname=::1",
      "--port",
      "0",
      "--kv",
      "/tmp/x.sqlite",
      "--user",
      "sip:alice@example.com:secret",
      "--user=sip:bob@example.com:a:b",
      "--realm",
      "example.com",
      "--root",
      "/xcap",
      "--global-writable",
      "--allow-basic-over-http",
    ])._unsafeUnwrap(),
    {
      kind: "serve",
      options: {
        hostname: "::1",
        port: 0,
        kvPath: "/tmp/x.sqlite",
        users: { "sip:alice@example.com": "secret", "sip:bob@example.com": "a:b" },
        realm: "example.com",
        xcapRootPath: "/xcap",
        globalWritable: true,
        allowBasicOverHttp: true,
      },
    },
  );
  const help = parseServeArgs(["--help"])._unsafeUnwrap();
  assert(help.kind === "help");
  assertStringIncludes(help.text, "--user ADDRESS:PASS");
});

Deno.test("parseServeArgs() rejects bad values and unknown options", () => {
  const cases: [string[], string, string][] = [
    [["--port"], "--port", "needs a value"],
    [["--port", "99999"], "--port", "0-65535"],
    [["--port", "-1"], "--port", "0-65535"],
    [["--user", "alice:secret"], "--user", "SIP-ADDRESS:PASSWORD"],
    [["--user", "sip:alice@example.com"], "--user", "SIP-ADDRESS:PASSWORD"],
    [["--user", "sip:alice@example.com:"], "--user", "SIP-ADDRESS:PASSWORD"],
    [["--kv="], "--kv", "needs a value"],
    [["--verbose"], "--verbose", "Unknown option"],
    [["serve"], "serve", "Unknown option"],
  ];
  for (const [args, argument, message] of cases) {
    const result = parseServeArgs(args);
    assert(result.isErr(), args.join(" "));
    assertEquals(result.error.argument, argument);
    assertStringIncludes(result.error.message, message);
    // A password never appears in a message.
    assert(!result.error.message.includes("secret"));
  }
});

Deno.test("startXcapServer() serves on 127.0.0.1 on a free port and closes", async () => {
  const server = (await startXcapServer())._unsafeUnwrap();
  assertMatch(server.xcapRoot, /^http:\/\/127\.0\.0\.1:\d+\/xcap-root$/);
  assertEquals(server.hostname, "127.0.0.1");
  assert(server.port > 0);
  const url = `${server.xcapRoot}/resource-lists/users/${ALICE}/index`;
  const created = await fetch(url, {
    method: "PUT",
    headers: { "content-type": RL_TYPE },
    body: DOC,
  });
  assertEquals(created.status, 201);
  await created.body?.cancel();
  await server.close();
  await server.close(); // idempotent
  let refused = false;
  try {
    await fetch(url);
  } catch {
    refused = true;
  }
  assert(refused, "still listening after close()");
});

Deno.test("startXcapServer() reports a port in use as ServerStart", async () => {
  const first = (await startXcapServer())._unsafeUnwrap();
  try {
    const second = await startXcapServer({ port: first.port });
    assert(second.isErr());
    assertEquals(second.error._tag, "ServerStart");
    assertStringIncludes(second.error.message, `127.0.0.1:${first.port}`);
  } finally {
    await first.close();
  }
});

Deno.test("startXcapServer() with users authenticates with Digest and keeps users apart", async () => {
  const server = (await startXcapServer({
    users: { [ALICE]: "alice-pw", "sip:bob@example.com": "bob-pw" },
  }))._unsafeUnwrap();
  try {
    const url = `${server.xcapRoot}/resource-lists/users/${ALICE}/index`;
    const anonymous = await fetch(url);
    assertEquals(anonymous.status, 401);
    await anonymous.body?.cancel();
    for (const username of ["alice", "alice@example.com", ALICE]) {
      const execute = withAuthentication(createFetchExecutor(), { username, password: "alice-pw" });
      const read = await execute({ method: "GET", url, headers: {} });
      assert(read.isOk());
      assertEquals(read.value.status, 404, username);
    }
    const bob = withAuthentication(createFetchExecutor(), { username: "bob", password: "bob-pw" });
    const foreign = await bob({ method: "GET", url, headers: {} });
    assert(foreign.isOk());
    assertEquals(foreign.value.status, 403);
    // Alice owns sip:alice@example.com only, not every "alice".
    const alice = withAuthentication(createFetchExecutor(), {
      username: "alice",
      password: "alice-pw",
    });
    const elsewhere = await alice({
      method: "GET",
      url: `${server.xcapRoot}/resource-lists/users/sip:alice@elsewhere.example/index`,
      headers: {},
    });
    assert(elsewhere.isOk());
    assertEquals(elsewhere.value.status, 403);
  } finally {
    await server.close();
  }
});

Deno.test("startXcapServer() with kvPath keeps documents across restarts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "xcap-serve-" });
  try {
    const kvPath = `${dir}/xcap.sqlite`;
    const first = (await startXcapServer({ kvPath }))._unsafeUnwrap();
    const path = `/resource-lists/users/${ALICE}/index`;
    const created = await fetch(first.xcapRoot + path, {
      method: "PUT",
      headers: { "content-type": RL_TYPE },
      body: DOC,
    });
    assertEquals(created.status, 201);
    await created.body?.cancel();
    await first.close();
    const second = (await startXcapServer({ kvPath }))._unsafeUnwrap();
    try {
      const read = await fetch(second.xcapRoot + path);
      assertEquals(read.status, 200);
      assertEquals(await read.text(), DOC);
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve.ts prints the XCAP root URL first and stops on SIGTERM", async () => {
  const dir = await Deno.makeTempDir({ prefix: "xcap-cli-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--import-map=.ci/import_map.json",
      "--no-lock",
      "src/server/serve.ts",
      "--port",
      "0",
      "--kv",
      `${dir}/xcap.sqlite`,
      "--user",
      `${ALICE}:secret`,
    ],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let output = "";
    while (!output.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) break;
      output += value;
    }
    const root = output.split("\n")[0]!;
    assertMatch(root, /^http:\/\/127\.0\.0\.1:\d+\/xcap-root$/);
    const caps = await fetch(`${root}/xcap-caps/global/index`);
    assertEquals(caps.status, 200);
    await caps.body?.cancel();
    const document = await fetch(`${root}/resource-lists/users/${ALICE}/index`);
    assertEquals(document.status, 401);
    await document.body?.cancel();
    child.kill("SIGTERM");
    const status = await child.status;
    assertEquals(status.code, 0);
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    const stderr = await new Response(child.stderr).text();
    assert(!stderr.includes("secret"), stderr);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await Deno.remove(dir, { recursive: true });
  }
});
