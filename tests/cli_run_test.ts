// deno-lint-ignore-file no-control-regex -- these tests look for ANSI escape sequences (ESC [)
/**
 * `runCli()` in-process, with a fake {@linkcode CliIo} and a fake `fetch`: the paths a
 * subprocess cannot reach easily (a terminal on stdin and stdout, the password prompt, failing
 * streams), and exact request sequences of `insert` and `replace`.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertNotMatch,
  assertStringIncludes,
} from "@std/assert";
import { type CliIo, EXIT_CODES, runCli } from "../src/cli/mod.ts";
import { MAX_ACCOUNT_FILE_BYTES } from "../src/cli/run.ts";

const ROOT = "http://127.0.0.1:9/xcap-root";
const DOC = `${ROOT}/resource-lists/users/sip:alice@example.com/index`;
const LISTS =
  '<?xml version="1.0"?>\n<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">' +
  '<list name="friends"><entry uri="sip:bob@example.com"/></list></resource-lists>';
const ANSI = /\x1b\[/;

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly body?: string;
}

interface FakeOptions {
  env?: Record<string, string>;
  files?: Record<string, string>;
  stdin?: string;
  terminal?: Partial<CliIo["isTerminal"]>;
  prompt?: (message: string) => Promise<string | undefined>;
  reply: (request: Recorded, index: number) => Response;
  failStdout?: boolean;
}

function fake(options: FakeOptions) {
  const stdout: Uint8Array[] = [];
  const stderr: string[] = [];
  const written = new Map<string, Uint8Array>();
  const requests: Recorded[] = [];
  const prompts: string[] = [];
  const decoder = new TextDecoder();
  const env: Record<string, string> = {
    XCAP_ROOT: ROOT,
    XCAP_SIP_ADDRESS: "alice@example.com",
    ...options.env,
  };
  const io: CliIo = {
    env: (name) => env[name],
    readFile: (path) => {
      const text = options.files?.[path];
      return text === undefined
        ? Promise.reject(new Deno.errors.NotFound(`No such file: ${path}`))
        : Promise.resolve(new TextEncoder().encode(text));
    },
    writeFile: (path, data) => {
      written.set(path, data);
      return Promise.resolve();
    },
    readStdin: () => Promise.resolve(new TextEncoder().encode(options.stdin ?? "")),
    writeStdout: (data) => {
      if (options.failStdout) return Promise.reject(new Error("stdout is gone"));
      stdout.push(data);
      return Promise.resolve();
    },
    writeStderr: (data) => {
      stderr.push(decoder.decode(data));
      return Promise.resolve();
    },
    isTerminal: { stdin: false, stdout: false, stderr: false, ...options.terminal },
    promptPassword: async (message) => {
      prompts.push(message);
      return options.prompt === undefined ? undefined : await options.prompt(message);
    },
    fetch: ((input: string | URL | Request, init?: RequestInit) => {
      const request: Recorded = {
        method: init?.method ?? "GET",
        url: String(input),
        headers: new Headers(init?.headers),
        ...(typeof init?.body === "string" ? { body: init.body } : {}),
      };
      requests.push(request);
      return Promise.resolve(options.reply(request, requests.length - 1));
    }) as typeof globalThis.fetch,
    homeDir: () => "/home/alice",
  };
  return {
    io,
    requests,
    prompts,
    written,
    stdout: () => decoder.decode(concat(stdout)),
    stdoutBytes: () => concat(stdout),
    stderr: () => stderr.join(""),
  };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

const ok = (body = LISTS, etag = '"e1"') =>
  new Response(body, { headers: { etag, "content-type": "application/resource-lists+xml" } });

Deno.test("runCli() prints the exact body to a pipe and indents it on a terminal", async () => {
  const piped = fake({ reply: () => ok() });
  assertEquals(await runCli(["get", "--app", "resource-lists"], piped.io), 0);
  assertEquals(piped.stdout(), LISTS);
  assertEquals(
    piped.stderr(),
    '200 OK\netag: "e1"\ncontent-type: application/resource-lists+xml\n',
  );
  assertEquals(piped.requests.map((r) => `${r.method} ${r.url}`), [`GET ${DOC}`]);

  const tty = fake({ reply: () => ok(), terminal: { stdout: true, stderr: true } });
  assertEquals(await runCli(["get", "--app", "resource-lists"], tty.io), 0);
  assertStringIncludes(
    tty.stdout().replace(/\x1b\[[0-9;]*m/g, ""),
    '\n  <list name="friends">\n    <entry uri="sip:bob@example.com"/>\n',
  );
  assertMatch(tty.stdout(), ANSI);
  assertMatch(tty.stderr(), ANSI);
});

Deno.test("runCli() never colours with NO_COLOR or --no-color, even on a terminal", async () => {
  for (
    const [argv, env] of [
      [["get", "--app", "resource-lists"], { NO_COLOR: "1" }],
      [["get", "--app", "resource-lists", "--no-color"], {}],
      [["get", "--app", "resource-lists"], { TERM: "dumb" }],
    ] as const
  ) {
    const run = fake({ reply: () => ok(), env, terminal: { stdout: true, stderr: true } });
    assertEquals(await runCli(argv, run.io), 0);
    assertNotMatch(run.stdout() + run.stderr(), ANSI);
    assertStringIncludes(run.stdout(), "\n  <list");
  }
  const forced = fake({ reply: () => ok(), env: { NO_COLOR: "1" } });
  assertEquals(await runCli(["get", "--app", "resource-lists", "--color", "always"], forced.io), 0);
  // --color always colours stderr; stdout to a pipe still gets the exact bytes.
  assertMatch(forced.stderr(), ANSI);
  assertEquals(forced.stdout(), LISTS);
});

Deno.test("runCli() asks for the password after a 401 when stdin is a terminal", async () => {
  const run = fake({
    terminal: { stdin: true },
    prompt: () => Promise.resolve("s3cret"),
    reply: (request) =>
      request.headers.get("authorization") === `Basic ${btoa("alice:s3cret")}`
        ? ok()
        : new Response(null, {
          status: 401,
          headers: { "www-authenticate": 'Basic realm="xcap"' },
        }),
  });
  const code = await runCli(["get", "--app", "resource-lists", "--allow-basic-over-http"], run.io);
  assertEquals(code, 0);
  assertEquals(run.prompts, ['Password for alice (realm "xcap"): ']);
  assertEquals(run.stdout(), LISTS);
  assertEquals(run.requests.length, 3); // 401, then the new client's challenge round trip
});

Deno.test("runCli() does not prompt without a terminal, and says how to give a password", async () => {
  const run = fake({
    prompt: () => Promise.resolve("never asked"),
    reply: () =>
      new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="x"' } }),
  });
  assertEquals(await runCli(["get", "--app", "resource-lists"], run.io), 3);
  assertEquals(run.prompts, []);
  assertStringIncludes(run.stderr(), "HTTP 401 Unauthorized");
  assertStringIncludes(run.stderr(), "no credentials were given");
  assertStringIncludes(
    run.stderr(),
    "Give a password with --password, XCAP_PASSWORD or the account file",
  );
});

Deno.test("runCli() does not prompt when a password was given, and names where it came from", async () => {
  const run = fake({
    terminal: { stdin: true },
    env: { XCAP_PASSWORD: "wrong" },
    reply: () =>
      new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="x"' } }),
  });
  assertEquals(
    await runCli(["get", "--app", "resource-lists", "--allow-basic-over-http"], run.io),
    3,
  );
  assertEquals(run.prompts, []);
  assertStringIncludes(run.stderr(), 'the credentials of user "alice" were refused');
  assertStringIncludes(run.stderr(), "The password (from XCAP_PASSWORD) was refused.");
  // Without --allow-basic-over-http the password never left: not "refused".
  const unsent = fake({
    env: { XCAP_PASSWORD: "right" },
    reply: () =>
      new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="x"' } }),
  });
  assertEquals(await runCli(["get", "--app", "resource-lists"], unsent.io), 3);
  assertStringIncludes(unsent.stderr(), "a password was given but not sent");
  assertStringIncludes(unsent.stderr(), "add --allow-basic-over-http");
  assert(!unsent.stderr().includes("refused"));
});

Deno.test("runCli() gives up after a cancelled prompt with exit code 3", async () => {
  const run = fake({
    terminal: { stdin: true },
    prompt: () => Promise.resolve(undefined),
    reply: () =>
      new Response(null, { status: 401, headers: { "www-authenticate": "Basic realm=x" } }),
  });
  assertEquals(await runCli(["get", "--app", "resource-lists"], run.io), 3);
  assertEquals(run.prompts.length, 1);
  assertEquals(run.requests.length, 1);
});

Deno.test("runCli() reads ~/.xcapclient.ini and [Account_NAME] with --account", async () => {
  const files = {
    "/home/alice/.xcapclient.ini": "[Account]\nsip_address = bob@example.com\n\n" +
      "[Account_carol]\nsip_address = carol@example.com\nxcap_root = http://127.0.0.1:9/other\n",
  };
  const byDefault = fake({ files, env: { XCAP_SIP_ADDRESS: "" }, reply: () => ok() });
  assertEquals(await runCli(["get", "--app", "resource-lists"], byDefault.io), 0);
  assertEquals(
    byDefault.requests[0]?.url,
    `${ROOT}/resource-lists/users/sip:bob@example.com/index`,
  );

  const named = fake({ files, reply: () => ok() });
  assertEquals(await runCli(["get", "--app", "resource-lists", "-a", "carol"], named.io), 0);
  assertEquals(
    named.requests[0]?.url,
    "http://127.0.0.1:9/other/resource-lists/users/sip:carol@example.com/index",
  );

  const missing = fake({ files, reply: () => ok() });
  assertEquals(
    await runCli(["get", "--app", "resource-lists", "--account", "dave"], missing.io),
    2,
  );
  assertStringIncludes(missing.stderr(), "~/.xcapclient.ini has no section [Account_dave]");
  assertEquals(missing.requests, []);
});

Deno.test("runCli() fails with exit code 2 on an unreadable or broken account file", async () => {
  const noFile = fake({ reply: () => ok() });
  assertEquals(
    await runCli(["get", "--app", "resource-lists", "--config", "/nope.ini"], noFile.io),
    2,
  );
  assertStringIncludes(noFile.stderr(), "Cannot read account file /nope.ini");
  const broken = fake({
    files: { "/home/alice/.xcapclient.ini": "password = x\n" },
    reply: () => ok(),
  });
  assertEquals(await runCli(["get", "--app", "resource-lists"], broken.io), 2);
  assertStringIncludes(broken.stderr(), "Cannot read ~/.xcapclient.ini line 1");
});

Deno.test("runCli() replace reads the ETag and puts with If-Match: that ETag", async () => {
  const run = fake({
    stdin: LISTS,
    reply: (request) =>
      request.method === "GET"
        ? ok(LISTS, '"v7"')
        : new Response(null, { headers: { etag: '"v8"' } }),
  });
  assertEquals(await runCli(["replace", "--app", "resource-lists"], run.io), 0);
  assertEquals(
    run.requests.map((r) => [r.method, r.headers.get("if-match"), r.headers.get("if-none-match")]),
    [["GET", null, null], ["PUT", '"v7"', null]],
  );
  assertEquals(run.requests[1]?.body, LISTS);
  assertStringIncludes(run.stderr(), 'etag: "v8"');
});

Deno.test("runCli() replace of something absent sends no PUT and exits 5", async () => {
  const run = fake({ stdin: "<entry/>", reply: () => new Response(null, { status: 404 }) });
  assertEquals(await runCli(["replace", "/resource-lists/list/entry[9]"], run.io), 5);
  assertEquals(run.requests.map((r) => r.method), ["GET"]);
  assertStringIncludes(
    run.stderr(),
    "Nothing to replace: node /resource-lists/list/entry[9] does not exist",
  );
});

Deno.test("runCli() replace starts over when the document changes in between", async () => {
  let version = 1;
  const run = fake({
    stdin: "<entry/>",
    reply: (request) => {
      if (request.method === "GET") return ok("<entry/>", `"v${version}"`);
      // Someone else writes between the first GET and PUT.
      if (version === 1) {
        version = 2;
        return new Response(null, { status: 412 });
      }
      return new Response(null, { headers: { etag: '"v3"' } });
    },
  });
  assertEquals(await runCli(["replace", "/resource-lists/list/entry[1]"], run.io), 0);
  assertEquals(run.requests.map((r) => `${r.method} ${r.headers.get("if-match")}`), [
    "GET null",
    'PUT "v1"',
    "GET null",
    'PUT "v2"',
  ]);
});

Deno.test("runCli() insert of a node checks absence in the same version it writes", async () => {
  const run = fake({
    stdin: '<entry uri="sip:carol@example.com"/>',
    reply: (request) => {
      if (request.method === "GET" && !request.url.includes("~~")) return ok(LISTS, '"d1"');
      if (request.method === "GET") return new Response(null, { status: 404 });
      return new Response(null, { status: 201, headers: { etag: '"d2"' } });
    },
  });
  const selector = '/resource-lists/list/entry[@uri="sip:carol@example.com"]';
  assertEquals(await runCli(["insert", selector], run.io), 0);
  assertEquals(
    run.requests.map((r) => [
      r.method,
      r.url.includes("~~") ? "node" : "document",
      r.headers.get("if-match"),
      r.headers.get("content-type"),
    ]),
    [
      ["GET", "document", null, null],
      ["GET", "node", '"d1"', null],
      ["PUT", "node", '"d1"', "application/xcap-el+xml"],
    ],
  );
});

Deno.test("runCli() insert of a document uses If-None-Match: * and refuses an existing one", async () => {
  const absent = fake({
    stdin: LISTS,
    reply: (request) =>
      request.method === "GET"
        ? new Response(null, { status: 404 })
        : new Response(null, { status: 201, headers: { etag: '"n1"' } }),
  });
  assertEquals(await runCli(["insert"], absent.io), 0);
  assertEquals(absent.requests.map((r) => `${r.method} ${r.headers.get("if-none-match")}`), [
    "GET null",
    "PUT *",
  ]);
  assertEquals(absent.stderr(), '201 Created\netag: "n1"\n');

  const present = fake({ stdin: LISTS, reply: () => ok() });
  assertEquals(await runCli(["insert", "--json"], present.io), 5);
  assertEquals(present.requests.map((r) => r.method), ["GET"]);
  const json = JSON.parse(present.stdout());
  assertEquals(json.ok, false);
  assertEquals(json.exitCode, 5);
  assertEquals(json.error.tag, "PreconditionNotMet");
  assertEquals(json.error.etag, '"e1"');
});

Deno.test("runCli() tells the user that a terminal stdin is being read", async () => {
  const run = fake({ terminal: { stdin: true }, stdin: LISTS, reply: () => new Response(null) });
  assertEquals(await runCli(["put"], run.io), 0);
  assertStringIncludes(run.stderr(), "Reading the body from stdin; end it with Ctrl-D.\n");
  assertEquals(run.requests[0]?.headers.get("content-type"), "application/resource-lists+xml");
});

Deno.test("runCli() -v shows requests and conditions but never the Authorization value", async () => {
  const run = fake({
    env: { XCAP_PASSWORD: "topsecret" },
    reply: (request) =>
      request.headers.has("authorization")
        ? ok()
        : new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="x"' } }),
  });
  assertEquals(
    await runCli([
      "get",
      "--app",
      "resource-lists",
      "-v",
      "--allow-basic-over-http",
      "--etag",
      "e1",
    ], run.io),
    0,
  );
  const log = run.stderr();
  assertStringIncludes(log, `> GET ${DOC}\n>   if-match: "e1"\n< 401 Unauthorized\n`);
  assertStringIncludes(log, ">   authorization: Basic (hidden)\n< 200 OK\n");
  assertEquals(log.includes(btoa("alice:topsecret")), false);
});

Deno.test("runCli() -o writes the exact bytes and --json reports the file instead of the body", async () => {
  const body = '<resource-lists>\r\n  <list name="ü€"/>\r\n</resource-lists>';
  const run = fake({ reply: () => ok(body) });
  assertEquals(
    await runCli(["get", "--app", "resource-lists", "-o", "/tmp/out.xml", "--json"], run.io),
    0,
  );
  assertEquals(run.written.get("/tmp/out.xml"), new TextEncoder().encode(body));
  const json = JSON.parse(run.stdout());
  assertEquals(json, {
    ok: true,
    action: "get",
    url: DOC,
    status: 200,
    etag: '"e1"',
    contentType: "application/resource-lists+xml",
    output: "/tmp/out.xml",
  });
});

Deno.test("runCli() turns a failing stream into exit code 1 instead of throwing", async () => {
  const run = fake({ failStdout: true, reply: () => ok() });
  assertEquals(await runCli(["get", "--app", "resource-lists"], run.io), 1);
  assertStringIncludes(run.stderr(), "xcap: Unexpected failure: stdout is gone");
});

Deno.test("runCli() maps the library's InvalidArgument to a usage error", async () => {
  const run = fake({ reply: () => ok() });
  assertEquals(await runCli(["get", "/resource-lists/list[", "--json"], run.io), 2);
  assertEquals(run.requests, []);
  const json = JSON.parse(run.stdout());
  assertEquals(json.exitCode, 2);
  assertEquals(json.error.tag, "Usage");
  assert(json.error.message.length > 0);
});

Deno.test("runCli() uses the application usage's own document name when --filename is absent", async () => {
  const run = fake({ reply: () => ok("<xcap-directory/>") });
  assertEquals(await runCli(["get", "--app", "org.openmobilealliance.xcap-directory"], run.io), 0);
  assertEquals(
    run.requests[0]?.url,
    `${ROOT}/org.openmobilealliance.xcap-directory/users/sip:alice@example.com/directory.xml`,
  );
  const named = fake({ reply: () => ok() });
  assertEquals(
    await runCli(["get", "--app", "resource-lists", "--filename", "a/b.xml"], named.io),
    0,
  );
  assertEquals(
    named.requests[0]?.url,
    `${ROOT}/resource-lists/users/sip:alice@example.com/a/b.xml`,
  );
});

Deno.test("runCli() -o - writes to stdout, and --dump is python xcapclient's -v", async () => {
  const run = fake({ reply: () => ok() });
  assertEquals(await runCli(["get", "--app", "resource-lists", "-o", "-", "--dump"], run.io), 0);
  assertEquals(run.stdout(), LISTS);
  assertEquals(run.written.size, 0);
  assertStringIncludes(run.stderr(), `> GET ${DOC}\n< 200 OK\n`);
});

Deno.test("runCli() refuses an account file over MAX_ACCOUNT_FILE_BYTES even from an io that ignores maxBytes", async () => {
  const f = fake({
    files: { "/home/alice/.xcapclient.ini": "[Account]\n" + "#".repeat(MAX_ACCOUNT_FILE_BYTES) },
    reply: () => ok(),
  });
  const code = await runCli(["get", "--app", "resource-lists"], f.io);
  assertEquals(code, EXIT_CODES.usage);
  assertStringIncludes(
    f.stderr(),
    `Account file ~/.xcapclient.ini is larger than ${MAX_ACCOUNT_FILE_BYTES} bytes`,
  );
  assertEquals(f.requests.length, 0);
});

Deno.test("runCli() warns about a password in an account file others can read, from io.fileMode", async () => {
  const ini = "[Account]\nsip_address = alice@example.com\npassword = pw\n";
  for (const [mode, warned] of [[0o644, true], [0o600, false], [undefined, false]] as const) {
    const f = fake({ files: { "/home/alice/.xcapclient.ini": ini }, reply: () => ok() });
    const code = await runCli(["get", "--app", "resource-lists"], {
      ...f.io,
      fileMode: () => Promise.resolve(mode),
    });
    assertEquals(code, EXIT_CODES.ok);
    assertEquals(f.stderr().includes("holds a password and can be read by"), warned, `${mode}`);
  }
});

Deno.test("runCli() shows a server's control characters as text on a terminal, raw on a pipe", async () => {
  const body = "<a>\x1b]0;title\x07\x1b[2J\u009b1m\u202e</a>\r\n";
  const reply = () =>
    new Response(body, { headers: { etag: '"e\x1b"', "content-type": "text/plain" } });
  const terminal = fake({
    reply,
    terminal: { stdout: true, stderr: true },
    env: { NO_COLOR: "1" },
  });
  assertEquals(await runCli(["get", "--app", "resource-lists"], terminal.io), EXIT_CODES.ok);
  assertEquals(terminal.stdout(), "<a>\\x1b]0;title\\x07\\x1b[2J\\x9b1m\\u202e</a>\n");
  assert(!/[\x1b\u009b]/.test(terminal.stderr()));
  const piped = fake({ reply });
  assertEquals(await runCli(["get", "--app", "resource-lists"], piped.io), EXIT_CODES.ok);
  assertEquals(piped.stdout(), body);
});
