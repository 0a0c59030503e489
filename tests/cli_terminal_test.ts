// deno-lint-ignore-file no-control-regex -- these tests look for ANSI escape sequences (ESC [)
/**
 * `xcap` on a terminal: run under util-linux `script`, which gives the command a pseudo-terminal
 * as stdin, stdout and stderr. Checks the indented, coloured output, NO_COLOR, and the password
 * prompt (asked after a 401, typed without echo). Ignored where `script` is not installed.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertNotMatch,
  assertStringIncludes,
} from "@std/assert";
import { XCAPClient } from "../mod.ts";
import { startXcapServer } from "../src/server/mod.ts";
import { cliEnv, denoRunArgs, ESCAPES_BODY, findDenoDir, withTempDir } from "./_cli.ts";
import { serveHttp } from "./_hostile_server.ts";

const SCRIPT = "/usr/bin/script";
const HAVE_SCRIPT = (() => {
  try {
    return Deno.statSync(SCRIPT).isFile;
  } catch {
    return false;
  }
})();
const ALICE = "sip:alice@example.com";
const LISTS =
  '<?xml version="1.0" encoding="UTF-8"?>\n<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">' +
  '<list name="friends"><entry uri="sip:bob@example.com"><display-name>Bob</display-name></entry></list>' +
  "</resource-lists>\n";
const ANSI = /\x1b\[[0-9;]*m/g;

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, "'\\''")}'`;
}

interface TerminalRun {
  /** Everything the terminal showed (stdout and stderr, CR LF line ends). */
  readonly screen: string;
  /** The exit code of xcap. */
  readonly code: number;
}

/**
 * Run `xcap ARGS` on a pseudo-terminal, typing each answer once its text has appeared on the
 * screen (a prompt); the run is killed after 20 s.
 */
async function runOnTerminal(
  args: readonly string[],
  options: {
    readonly dir: string;
    readonly env: Record<string, string>;
    /** What to type once the screen shows a text, in order. */
    readonly typing?: ReadonlyArray<readonly [waitFor: string, answer: string]>;
  },
): Promise<TerminalRun> {
  const denoDir = await findDenoDir();
  const command = [Deno.execPath(), ...denoRunArgs(options.dir), ...args].map(shellQuote).join(" ");
  const child = new Deno.Command(SCRIPT, {
    args: ["-qec", command, "/dev/null"],
    cwd: options.dir,
    clearEnv: true,
    env: { DENO_DIR: denoDir, SHELL: "/bin/sh", TERM: "xterm", ...options.env },
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const writer = child.stdin.getWriter();
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let screen = "";
  const typing = [...(options.typing ?? [])];
  let searchFrom = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      screen += decoder.decode(value, { stream: true });
      const next = typing[0];
      const at = next === undefined ? -1 : screen.indexOf(next[0], searchFrom);
      if (next !== undefined && at !== -1) {
        typing.shift();
        searchFrom = at + next[0].length;
        await writer.write(new TextEncoder().encode(next[1]));
      }
    }
    return { screen, code: (await child.status).code };
  } finally {
    clearTimeout(killer);
    await writer.close().catch(() => {});
  }
}

Deno.test({
  name: "xcap get on a terminal indents and colours the document, and honours NO_COLOR",
  ignore: !HAVE_SCRIPT,
  fn: async () => {
    const server = (await startXcapServer({}))._unsafeUnwrap();
    try {
      await withTempDir(async (dir) => {
        const env = cliEnv(dir, { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: ALICE });
        await Deno.writeTextFile(`${dir}/lists.xml`, LISTS);
        const put = await runOnTerminal(["put", "-i", `${dir}/lists.xml`], { dir, env });
        assertEquals(put.code, 0, put.screen);

        const coloured = await runOnTerminal(["get", "--app", "resource-lists"], { dir, env });
        assertEquals(coloured.code, 0, coloured.screen);
        assertMatch(coloured.screen, ANSI);
        assertStringIncludes(
          coloured.screen.replace(ANSI, ""),
          '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">\r\n' +
            '  <list name="friends">\r\n' +
            '    <entry uri="sip:bob@example.com">\r\n' +
            "      <display-name>Bob</display-name>\r\n" +
            "    </entry>\r\n",
        );
        assertStringIncludes(coloured.screen.replace(ANSI, ""), "200 OK\r\netag: ");

        const plain = await runOnTerminal(["get", "--app", "resource-lists"], {
          dir,
          env: { ...env, NO_COLOR: "1" },
        });
        assertEquals(plain.code, 0, plain.screen);
        assertNotMatch(plain.screen, ANSI);
        assertStringIncludes(plain.screen, '\r\n  <list name="friends">\r\n');
      });
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name: "xcap asks for the password after a 401 on a terminal, without echoing it",
  ignore: !HAVE_SCRIPT,
  fn: async () => {
    const server = (await startXcapServer({ users: { [ALICE]: "s3cret" } }))._unsafeUnwrap();
    try {
      await withTempDir(async (dir) => {
        const env = cliEnv(dir, { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: ALICE });
        await Deno.writeTextFile(`${dir}/lists.xml`, LISTS);
        const run = await runOnTerminal(["put", "-i", `${dir}/lists.xml`, "--no-color"], {
          dir,
          env,
          typing: [["Password for alice", "s3cret\r"]],
        });
        assertEquals(run.code, 0, run.screen);
        assertStringIncludes(run.screen, 'Password for alice (realm "example.com"): \r\n');
        assertMatch(run.screen, /201 Created\r\netag: "[^"]+"\r\n/);
        assertEquals(run.screen.includes("s3cret"), false, "the password was echoed");
      });
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name: "xcap gives up with exit code 3 when the password prompt is cancelled with Ctrl-C",
  ignore: !HAVE_SCRIPT,
  fn: async () => {
    const server = (await startXcapServer({ users: { [ALICE]: "s3cret" } }))._unsafeUnwrap();
    try {
      await withTempDir(async (dir) => {
        const env = cliEnv(dir, { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: ALICE });
        const run = await runOnTerminal(["get", "--app", "resource-lists", "--no-color"], {
          dir,
          env,
          typing: [["Password for alice", "wro\x03"]],
        });
        assertEquals(run.code, 3, run.screen);
        assertStringIncludes(run.screen, "HTTP 401 Unauthorized");
        assert(!run.screen.includes("wro"), "typed characters were echoed");
      });
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name: "xcap reads a body typed on the terminal, then still asks for the password",
  ignore: !HAVE_SCRIPT,
  fn: async () => {
    const server = (await startXcapServer({ users: { [ALICE]: "s3cret" } }))._unsafeUnwrap();
    try {
      await withTempDir(async (dir) => {
        const env = cliEnv(dir, { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: ALICE });
        const run = await runOnTerminal(["put", "--app", "resource-lists", "--no-color"], {
          dir,
          env,
          typing: [
            ["end it with Ctrl-D.", `${LISTS.replace(/\n/g, "\r")}\x04`],
            ["Password for alice", "s3cret\r"],
          ],
        });
        assertEquals(run.code, 0, run.screen);
        assertMatch(run.screen, /201 Created\r\netag: "[^"]+"\r\n/);
        assertEquals(run.screen.includes("s3cret"), false, "the password was echoed");
      });
      // What was typed is what was stored (the terminal turned each CR into LF).
      const stored = await new XCAPClient(server.xcapRoot, ALICE, { password: "s3cret" })
        .get("resource-lists");
      assertEquals(stored._unsafeUnwrap().body, LISTS);
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name: "xcap on a terminal shows a server's escape sequences as text instead of running them",
  ignore: !HAVE_SCRIPT,
  fn: async () => {
    // The body would set the window title, clear the screen, write the clipboard (OSC 52) and
    // colour the rest with a C1 CSI; the 409 and the ETag carry escapes too.
    const server = serveHttp((request) => {
      if (request.method === "PUT") {
        return new Response(`refused\x1b]0;pwned-by-409\x07\x1b[2J`, {
          status: 409,
          headers: { "content-type": "text/plain" },
        });
      }
      return new Response(ESCAPES_BODY, {
        headers: { "content-type": "application/resource-lists+xml", etag: '"e\u009b1"' },
      });
    });
    try {
      await withTempDir(async (dir) => {
        const env = cliEnv(dir, {
          XCAP_ROOT: `${server.origin}/xcap-root`,
          XCAP_SIP_ADDRESS: ALICE,
          NO_COLOR: "1",
        });
        const got = await runOnTerminal(["get", "--app", "resource-lists"], { dir, env });
        assertEquals(got.code, 0, got.screen);
        // NO_COLOR: xcap itself writes no escape sequence, so none may reach the terminal.
        assert(!got.screen.includes("\x1b"), JSON.stringify(got.screen));
        assert(!got.screen.includes("\u009b"), JSON.stringify(got.screen));
        assertStringIncludes(got.screen, "\\x1b]0;pwned-title\\x07\\x1b[2J\\x1b[H");
        assertStringIncludes(got.screen, "\\x1b]52;c;cm0gLXJmIH4=\\x07\\x9b31m");
        assertStringIncludes(got.screen, 'etag: "e\\x9b1"');

        const json = await runOnTerminal(["get", "--app", "resource-lists", "--json"], {
          dir,
          env,
        });
        assert(!json.screen.includes("\x1b") && !json.screen.includes("\u009b"));
        const line = json.screen.split("\r\n").find((l) => l.startsWith("{"))!;
        assertEquals(JSON.parse(line).body, ESCAPES_BODY);

        await Deno.writeTextFile(`${dir}/lists.xml`, LISTS);
        const put = await runOnTerminal(["put", "-i", `${dir}/lists.xml`], { dir, env });
        assertEquals(put.code, 4, put.screen);
        assert(!put.screen.includes("\x1b"), JSON.stringify(put.screen));
        assertStringIncludes(put.screen, "refused\\x1b]0;pwned-by-409\\x07\\x1b[2J");
      });
    } finally {
      await server.close();
    }
  },
});
