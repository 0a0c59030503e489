/**
 * The deno.json tasks as a newcomer runs them (issue 12, item 6): `deno task xcap` and
 * `deno task serve` take relative paths from the directory the user is in, `deno task demo`
 * takes any XCAP root and answers `--help`, `deno task test` ends with its summary, and the files
 * the README's commands create are ignored by git.
 *
 * Each run is `deno task --config REPO/deno.json NAME …` from a temp dir, with a clean
 * environment: `deno task` sets INIT_CWD only when it is not set already, and this test runs
 * under `deno task test`, whose INIT_CWD must not leak in.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { startXcapServer } from "../src/server/mod.ts";
import { findDenoDir, withTempDir } from "./_cli.ts";

const REPO = decodeURIComponent(new URL("..", import.meta.url).pathname);
const CONFIG = `${REPO}deno.json`;
const LISTS = '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">' +
  '<list name="friends"><entry uri="sip:bob@example.com"/></list></resource-lists>';

async function taskEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/tmp",
    DENO_DIR: await findDenoDir(),
    DENO_NO_UPDATE_CHECK: "1",
    NO_COLOR: "1",
    ...extra,
  };
}

async function task(
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "--config", CONFIG, ...args],
    cwd: options.cwd,
    clearEnv: true,
    env: await taskEnv(options.env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("deno task xcap reads -i, --config and writes -o relative to the user's directory", async () => {
  const server = (await startXcapServer())._unsafeUnwrap();
  try {
    await withTempDir(async (dir) => {
      await Deno.mkdir(`${dir}/my dir`);
      const cwd = `${dir}/my dir`;
      await Deno.writeTextFile(`${cwd}/lists.xml`, LISTS);
      await Deno.writeTextFile(
        `${cwd}/account.ini`,
        `[Account]\nsip_address = sip:alice@example.com\nxcap_root = ${server.xcapRoot}\n`,
      );
      const put = await task(["xcap", "put", "--config", "account.ini", "-i", "lists.xml"], {
        cwd,
      });
      assertEquals(put.code, 0, put.stderr);
      const get = await task(
        ["xcap", "get", "--app", "resource-lists", "--config", "account.ini", "-o", "out.xml"],
        { cwd },
      );
      assertEquals(get.code, 0, get.stderr);
      assertEquals(await Deno.readTextFile(`${cwd}/out.xml`), LISTS);
    });
  } finally {
    await server.close();
  }
});

Deno.test("deno task serve opens --kv relative to the user's directory", async () => {
  await withTempDir(async (cwd) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "--quiet",
        "--config",
        CONFIG,
        "serve",
        "--port",
        "0",
        "--kv",
        "./xcap.sqlite",
      ],
      cwd,
      clearEnv: true,
      env: await taskEnv(),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      // The first line on stdout is the XCAP root: the server is up and the store open.
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let first = "";
      while (!first.includes("\n")) {
        const chunk = await reader.read();
        if (chunk.done) break;
        first += chunk.value;
      }
      assertMatch(first, /^http:\/\/127\.0\.0\.1:\d+\/xcap-root/);
      const xcapRoot = first.trim();
      const put = await fetch(`${xcapRoot}/resource-lists/users/sip:alice@example.com/index`, {
        method: "PUT",
        headers: { "content-type": "application/resource-lists+xml" },
        body: LISTS,
      });
      await put.body?.cancel();
      assertEquals(put.status, 201);
      assert((await Deno.stat(`${cwd}/xcap.sqlite`)).isFile);
      await reader.cancel();
    } finally {
      child.kill("SIGTERM");
      await child.stderr.cancel();
      await child.status;
    }
  });
});

Deno.test("deno task demo runs against an XCAP root other than 127.0.0.1 and answers --help", async () => {
  const server = (await startXcapServer({ hostname: "::1", port: 0 }))._unsafeUnwrap();
  try {
    await withTempDir(async (cwd) => {
      const help = await task(["demo", "--help"], { cwd });
      assertEquals(help.code, 0, help.stderr);
      assertStringIncludes(help.stdout, "usage: deno task demo [URL]");
      assert(!help.stdout.includes("== put the document"), "--help must not run the flow");

      const root = `http://[::1]:${new URL(server.xcapRoot).port}/xcap-root`;
      const run = await task(["demo", root], { cwd });
      assertEquals(run.code, 0, run.stderr);
      assertStringIncludes(run.stdout, `XCAP root ${root}`);
      assertStringIncludes(run.stdout, "The usage flow completed");
    });
  } finally {
    await server.close();
  }
});

Deno.test("deno task test ends with its pass/fail summary, and .ci/run adds the coverage", async () => {
  const run = await task(["test", "tests/_task_fixture.ts"], { cwd: REPO });
  assertEquals(run.code, 0, run.stderr);
  const lines = run.stdout.trimEnd().split("\n");
  assertMatch(lines[lines.length - 1]!, /^ok \| 1 passed \| 0 failed/);
  const ci = await Deno.readTextFile(`${REPO}.ci/run`);
  assertStringIncludes(ci, "deno task test --frozen --coverage=.coverage");
});

Deno.test("git ignores the KV files and the users file the README's commands create", async () => {
  const readme = await Deno.readTextFile(`${REPO}README.md`);
  assertStringIncludes(readme, "--kv ./xcap.sqlite");
  const names = ["xcap.sqlite", "xcap.sqlite-wal", "xcap.sqlite-shm", "users"];
  const output = await new Deno.Command("git", {
    args: ["-C", REPO, "check-ignore", "--no-index", ...names],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(new TextDecoder().decode(output.stdout).trim().split("\n"), names);
});
