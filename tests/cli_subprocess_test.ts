// deno-lint-ignore-file no-control-regex -- these tests look for ANSI escape sequences (ESC [)
/**
 * The `xcap` command run for real, as a subprocess (`deno run src/cli/main.ts`, with the test
 * task's import map and lock, network limited to 127.0.0.1, files limited to a temp dir, only
 * the environment variables it documents), against the embedded XCAP server: stdout bytes,
 * stderr, exit codes, `-i`/`-o` files, stdin, `--json`, accounts and Digest authentication.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertNotMatch,
  assertStringIncludes,
} from "@std/assert";
import { startXcapServer, type XcapServer } from "../src/server/mod.ts";
import { cliEnv, type CliRun, runXcap, withTempDir } from "./_cli.ts";

const LISTS = `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">
  <!-- Alice's buddies -->
  <list name="friends">
    <entry uri="sip:bob@example.com">
      <display-name>Bob</display-name>
    </entry>
  </list>
</resource-lists>
`;
const ALICE = "sip:alice@example.com";
const decoder = new TextDecoder();

async function withServer(
  options: Parameters<typeof startXcapServer>[0],
  fn: (server: XcapServer, dir: string) => Promise<void>,
): Promise<void> {
  const server = (await startXcapServer(options))._unsafeUnwrap();
  try {
    await withTempDir((dir) => fn(server, dir));
  } finally {
    await server.close();
  }
}

function text(run: CliRun): string {
  return decoder.decode(run.stdout);
}

Deno.test("xcap put -i FILE, then get: the body comes back byte for byte on a pipe", async () => {
  await withServer({}, async (server, dir) => {
    const env = cliEnv(dir, { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: "alice@example.com" });
    await Deno.writeTextFile(`${dir}/lists.xml`, LISTS);
    const put = await runXcap(["put", "-i", `${dir}/lists.xml`], { env, dir });
    assertEquals(put.code, 0, put.stderr);
    assertEquals(put.stdout.byteLength, 0);
    assertMatch(put.stderr, /^201 Created\netag: "[^"]+"\n$/);

    const get = await runXcap(["get", "--app", "resource-lists"], { env, dir });
    assertEquals(get.code, 0, get.stderr);
    assertEquals(get.stdout, new TextEncoder().encode(LISTS));
    assertMatch(
      get.stderr,
      /^200 OK\netag: "[^"]+"\ncontent-type: application\/resource-lists\+xml\n$/,
    );
    assertNotMatch(get.stderr, /\x1b\[/);
  });
});

Deno.test("xcap put reads stdin and guesses the app; get -o writes the exact file", async () => {
  await withServer({}, async (server, dir) => {
    const env = cliEnv(dir, { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: ALICE });
    const put = await runXcap(["put", "--filename", "buddies.xml"], { env, dir, stdin: LISTS });
    assertEquals(put.code, 0, put.stderr);
    const get = await runXcap(
      ["get", "--app", "resource-lists", "--filename", "buddies.xml", "-o", `${dir}/out.xml`],
      { env, dir },
    );
    assertEquals(get.code, 0, get.stderr);
    assertEquals(get.stdout.byteLength, 0);
    assertEquals(await Deno.readTextFile(`${dir}/out.xml`), LISTS);
    assertStringIncludes(
      get.stderr,
      `${new TextEncoder().encode(LISTS).byteLength} bytes saved to ${dir}/out.xml`,
    );
  });
});

Deno.test("xcap get --json reports status, etag, content type and body", async () => {
  await withServer({}, async (server, dir) => {
    const env = cliEnv(dir, { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: ALICE });
    assertEquals((await runXcap(["put"], { env, dir, stdin: LISTS })).code, 0);
    const get = await runXcap(["get", "/resource-lists/list/entry/display-name", "--json"], {
      env,
      dir,
    });
    assertEquals(get.code, 0, get.stderr);
    assertEquals(get.stderr, "");
    const json = JSON.parse(text(get));
    assertEquals(json.ok, true);
    assertEquals(json.action, "get");
    assertEquals(json.status, 200);
    assertEquals(json.contentType, "application/xcap-el+xml");
    assertEquals(json.body, "<display-name>Bob</display-name>");
    assertMatch(json.etag, /^"[^"]+"$/);
    assertEquals(
      json.url,
      `${server.xcapRoot}/resource-lists/users/${ALICE}/index/~~/resource-lists/list/entry/display-name`,
    );
  });
});

Deno.test("xcap insert creates only what is absent and exits 5 otherwise", async () => {
  await withServer({}, async (server, dir) => {
    const env = cliEnv(dir, { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: ALICE });
    const first = await runXcap(["insert"], { env, dir, stdin: LISTS });
    assertEquals(first.code, 0, first.stderr);
    const again = await runXcap(["insert"], { env, dir, stdin: LISTS });
    assertEquals(again.code, 5);
    assertStringIncludes(again.stderr, "Not inserted: the resource-lists document exists already");

    const carol = '/resource-lists/list/entry[@uri="sip:carol@example.com"]';
    const entry = '<entry uri="sip:carol@example.com"><display-name>Carol</display-name></entry>';
    const inserted = await runXcap(["insert", carol], { env, dir, stdin: entry });
    assertEquals(inserted.code, 0, inserted.stderr);
    const twice = await runXcap(["insert", carol, "--json"], { env, dir, stdin: entry });
    assertEquals(twice.code, 5);
    assertEquals(JSON.parse(text(twice)).error.tag, "PreconditionNotMet");

    const read = await runXcap(["get", `${carol}/display-name`], { env, dir });
    assertEquals(text(read), "<display-name>Carol</display-name>");
  });
});

Deno.test("xcap replace changes only what exists and exits 5 otherwise", async () => {
  await withServer({}, async (server, dir) => {
    const env = cliEnv(dir, { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: ALICE });
    const absentDocument = await runXcap(["replace"], { env, dir, stdin: LISTS });
    assertEquals(absentDocument.code, 5);
    assertStringIncludes(
      absentDocument.stderr,
      "Nothing to replace: the resource-lists document does not exist",
    );
    assertEquals((await runXcap(["put"], { env, dir, stdin: LISTS })).code, 0);

    const name = '/resource-lists/list/entry[@uri="sip:bob@example.com"]/display-name';
    const replaced = await runXcap(["replace", name], {
      env,
      dir,
      stdin: "<display-name>Robert</display-name>",
    });
    assertEquals(replaced.code, 0, replaced.stderr);
    assertEquals(
      text(await runXcap(["get", name], { env, dir })),
      "<display-name>Robert</display-name>",
    );

    const absentNode = await runXcap(["replace", "/resource-lists/list/entry[5]"], {
      env,
      dir,
      stdin: '<entry uri="sip:x@example.com"/>',
    });
    assertEquals(absentNode.code, 5);
    assertStringIncludes(absentNode.stderr, "node /resource-lists/list/entry[5] does not exist");
  });
});

Deno.test("xcap attribute get and put use the attribute value as the body", async () => {
  await withServer({}, async (server, dir) => {
    const env = cliEnv(dir, { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: ALICE });
    assertEquals((await runXcap(["put"], { env, dir, stdin: LISTS })).code, 0);
    const attribute = "/resource-lists/list/@name";
    const get = await runXcap(["get", attribute], { env, dir });
    assertEquals(text(get), "friends");
    assertStringIncludes(get.stderr, "content-type: application/xcap-att+xml");
    assertEquals((await runXcap(["put", attribute], { env, dir, stdin: "buddies" })).code, 0);
    assertEquals(text(await runXcap(["get", attribute], { env, dir })), "buddies");
  });
});

Deno.test("xcap conditional requests: stale --etag exits 5, unchanged --if-none-match exits 6", async () => {
  await withServer({}, async (server, dir) => {
    const env = cliEnv(dir, { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: ALICE });
    const first = JSON.parse(text(await runXcap(["put", "--json"], { env, dir, stdin: LISTS })));
    const changedLists = LISTS.replace(">Bob<", ">Robert<");
    const second = JSON.parse(
      text(await runXcap(["put", "--json"], { env, dir, stdin: changedLists })),
    );
    assert(first.etag !== second.etag);

    const stale = await runXcap(["put", "--etag", first.etag], { env, dir, stdin: LISTS });
    assertEquals(stale.code, 5);
    assertStringIncludes(stale.stderr, "HTTP 412 Precondition Failed");

    const unchanged = await runXcap([
      "get",
      "--app",
      "resource-lists",
      "--if-none-match",
      second.etag,
    ], {
      env,
      dir,
    });
    assertEquals(unchanged.code, 6);
    assertEquals(unchanged.stdout.byteLength, 0);
    assertStringIncludes(unchanged.stderr, "HTTP 304 Not Modified");

    const changed = await runXcap(
      ["get", "--app", "resource-lists", "--if-none-match", first.etag],
      {
        env,
        dir,
      },
    );
    assertEquals(changed.code, 0);

    const deleted = await runXcap(["delete", "--app", "resource-lists", "--etag", first.etag], {
      env,
      dir,
    });
    assertEquals(deleted.code, 5);
  });
});

Deno.test("xcap prints the xcap-error condition of a 409 in words and exits 4", async () => {
  await withServer({}, async (server, dir) => {
    const env = cliEnv(dir, { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: ALICE });
    assertEquals((await runXcap(["put"], { env, dir, stdin: LISTS })).code, 0);
    // RFC 4826 §3.4.5: entry URIs are unique within a list.
    const duplicate = '<entry uri="sip:bob@example.com"/>';
    const plain = await runXcap(["put", "/resource-lists/list/entry[2]"], {
      env,
      dir,
      stdin: duplicate,
    });
    assertEquals(plain.code, 4);
    assertStringIncludes(plain.stderr, "HTTP 409 Conflict");
    assertStringIncludes(
      plain.stderr,
      'the document would break a uniqueness constraint of the application usage: "resource-lists/list/entry[2]/@uri" is not unique',
    );
    assertStringIncludes(plain.stderr, "condition: <uniqueness-failure>");

    const json = await runXcap(["put", "/resource-lists/list/entry[2]", "--json"], {
      env,
      dir,
      stdin: duplicate,
    });
    assertEquals(json.code, 4);
    const failure = JSON.parse(text(json));
    assertEquals(failure.exitCode, 4);
    assertEquals(failure.error.status, 409);
    assertEquals(failure.error.condition.tag, "uniqueness-failure");
    assertEquals(failure.error.condition.exists[0].field, "resource-lists/list/entry[2]/@uri");
    assertStringIncludes(failure.error.conditionText, "is not unique");

    const broken = await runXcap(["put", "/resource-lists/list/entry[2]"], {
      env,
      dir,
      stdin: "<entry uri=",
    });
    assertEquals(broken.code, 4);
    assertMatch(broken.stderr, /the request body is not a well-formed XML (fragment|document)/);
  });
});

Deno.test("xcap delete removes an element, then the document; a missing one exits 3", async () => {
  await withServer({}, async (server, dir) => {
    const env = cliEnv(dir, { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: ALICE });
    assertEquals((await runXcap(["put"], { env, dir, stdin: LISTS })).code, 0);
    const entry = "/resource-lists/list/entry[1]";
    assertEquals((await runXcap(["delete", entry], { env, dir })).code, 0);
    const gone = await runXcap(["get", entry], { env, dir });
    assertEquals(gone.code, 3);
    assertStringIncludes(gone.stderr, "HTTP 404 Not Found");
    assertEquals((await runXcap(["delete", "--app", "resource-lists"], { env, dir })).code, 0);
    assertEquals((await runXcap(["get", "--app", "resource-lists"], { env, dir })).code, 3);
  });
});

Deno.test("xcap caps lists the server's application usages without a SIP address", async () => {
  await withServer({}, async (server, dir) => {
    const env = cliEnv(dir, { XCAP_ROOT: server.xcapRoot });
    const caps = await runXcap(["caps", "--json"], { env, dir });
    assertEquals(caps.code, 0, text(caps));
    const json = JSON.parse(text(caps));
    assertEquals(json.contentType, "application/xcap-caps+xml");
    assert(json.capabilities.auids.includes("resource-lists"));
    assert(json.capabilities.namespaces.includes("urn:ietf:params:xml:ns:resource-lists"));
    const plain = await runXcap(["caps"], { env, dir });
    assertStringIncludes(text(plain), "<auid>resource-lists</auid>");
  });
});

Deno.test("xcap authenticates with XCAP_PASSWORD or ~/.xcapclient.ini, and exits 3 when refused", async () => {
  await withServer({ users: { [ALICE]: "s3cret" } }, async (server, dir) => {
    await Deno.writeTextFile(
      `${dir}/.xcapclient.ini`,
      `# python-xcaplib layout\n[Account]\nsip_address = alice@example.com\npassword = s3cret\n` +
        `xcap_root = ${server.xcapRoot}\n\n[Account_wrong]\nsip_address = alice@example.com\n` +
        `password = nope\nxcap_root = ${server.xcapRoot}\n`,
    );
    const fromFile = await runXcap(["put"], { env: cliEnv(dir), dir, stdin: LISTS });
    assertEquals(fromFile.code, 0, fromFile.stderr);

    const fromEnv = await runXcap(
      ["get", "--app", "resource-lists", "--config", `${dir}/none.ini`],
      {
        env: cliEnv(dir, {
          XCAP_ROOT: server.xcapRoot,
          XCAP_SIP_ADDRESS: "alice@example.com",
          XCAP_PASSWORD: "s3cret",
          XCAP_CONFIG: `${dir}/elsewhere.ini`,
        }),
        dir,
      },
    );
    // An explicitly named account file must exist.
    assertEquals(fromEnv.code, 2);
    assertStringIncludes(fromEnv.stderr, "Cannot read account file");

    const envOnly = await runXcap(["get", "--app", "resource-lists"], {
      env: cliEnv(dir, {
        XCAP_ROOT: server.xcapRoot,
        XCAP_SIP_ADDRESS: "alice@example.com",
        XCAP_PASSWORD: "s3cret",
        XCAP_CONFIG: `${dir}/.xcapclient.ini`,
      }),
      dir,
    });
    assertEquals(envOnly.code, 0, envOnly.stderr);
    assertEquals(text(envOnly), LISTS);

    const refused = await runXcap(["get", "--app", "resource-lists", "--account", "wrong"], {
      env: cliEnv(dir),
      dir,
    });
    assertEquals(refused.code, 3);
    assertStringIncludes(refused.stderr, "HTTP 401 Unauthorized");
    assertStringIncludes(refused.stderr, "The password (from ~/.xcapclient.ini) was refused.");
    assertEquals(refused.stderr.includes("nope"), false);

    await Deno.writeTextFile(`${dir}/empty.ini`, "# no accounts\n");
    const anonymous = await runXcap([
      "get",
      "--app",
      "resource-lists",
      "--config",
      `${dir}/empty.ini`,
    ], {
      env: cliEnv(dir, { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: ALICE }),
      dir,
    });
    assertEquals(anonymous.code, 3);
    assertStringIncludes(anonymous.stderr, "Give a password with --password, XCAP_PASSWORD");
  });
});

Deno.test("xcap exits 7 on a refused connection and on a timeout", async () => {
  await withTempDir(async (dir) => {
    const closed = (await startXcapServer({}))._unsafeUnwrap();
    await closed.close();
    const refused = await runXcap(["get", "--app", "resource-lists"], {
      env: cliEnv(dir, { XCAP_ROOT: closed.xcapRoot, XCAP_SIP_ADDRESS: ALICE }),
      dir,
    });
    assertEquals(refused.code, 7);
    assertStringIncludes(refused.stderr, "failed");

    let release: () => void = () => {};
    const hold = new Promise<void>((resolve) => release = resolve);
    const slow = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
      await hold;
      return new Response("late");
    });
    try {
      const timedOut = await runXcap([
        "get",
        "--app",
        "resource-lists",
        "--timeout",
        "0.3",
        "--json",
      ], {
        env: cliEnv(dir, {
          XCAP_ROOT: `http://127.0.0.1:${slow.addr.port}/xcap-root`,
          XCAP_SIP_ADDRESS: ALICE,
        }),
        dir,
      });
      assertEquals(timedOut.code, 7);
      const json = JSON.parse(text(timedOut));
      assertEquals(json.error.tag, "Timeout");
      assertStringIncludes(json.error.message, "did not complete within 300 ms");
    } finally {
      release();
      await slow.shutdown();
    }
  });
});

Deno.test("xcap usage errors exit 2 with a hint, before any request", async () => {
  await withTempDir(async (dir) => {
    const noRoot = await runXcap(["get", "--app", "resource-lists"], { env: cliEnv(dir), dir });
    assertEquals(noRoot.code, 2);
    assertEquals(
      noRoot.stderr,
      "xcap: No XCAP root: give --xcap-root URL, set XCAP_ROOT, or put xcap_root in [Account] of " +
        '~/.xcapclient.ini\nTry "xcap help get" for more information.\n',
    );
    const typo = await runXcap(["gte"], { env: cliEnv(dir), dir });
    assertEquals(typo.code, 2);
    assertStringIncludes(typo.stderr, "did you mean get?");
    const noApp = await runXcap(["put"], {
      env: cliEnv(dir, { XCAP_ROOT: "http://127.0.0.1:9/x", XCAP_SIP_ADDRESS: ALICE }),
      dir,
      stdin: "not xml",
    });
    assertEquals(noApp.code, 2);
    assertStringIncludes(noApp.stderr, "the document sent has no root element; give --app AUID");
    const missingInput = await runXcap([
      "put",
      "-i",
      `${dir}/missing.xml`,
      "--app",
      "resource-lists",
    ], {
      env: cliEnv(dir, { XCAP_ROOT: "http://127.0.0.1:9/x", XCAP_SIP_ADDRESS: ALICE }),
      dir,
    });
    assertEquals(missingInput.code, 1);
    assertStringIncludes(missingInput.stderr, `Cannot read input file ${dir}/missing.xml`);
  });
});

Deno.test("xcap --help, help ACTION, --version and completions print to stdout and exit 0", async () => {
  await withTempDir(async (dir) => {
    const help = await runXcap(["--help"], { env: cliEnv(dir), dir });
    assertEquals(help.code, 0);
    assertStringIncludes(text(help), "Exit status:\n  0  success");
    const insert = await runXcap(["insert", "--help"], { env: cliEnv(dir), dir });
    assertStringIncludes(text(insert), "xcap insert -- ");
    const version = await runXcap(["--version"], { env: cliEnv(dir), dir });
    assertMatch(text(version), /^xcap \d+\.\d+\.\d+\n$/);
    const bash = await runXcap(["completions", "bash"], { env: cliEnv(dir), dir });
    assertEquals(bash.code, 0);
    assertStringIncludes(text(bash), "complete -F _xcap_completions xcap");
  });
});

Deno.test("xcap colours stderr only when asked on a pipe, and never with --no-color", async () => {
  await withServer({}, async (server, dir) => {
    const env = cliEnv(dir, { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: ALICE });
    assertEquals((await runXcap(["put"], { env, dir, stdin: LISTS })).code, 0);
    const always = await runXcap(["get", "--app", "resource-lists", "--color", "always"], {
      env,
      dir,
    });
    assertMatch(always.stderr, /\x1b\[32m200 OK\x1b\[0m/);
    // stdout is a pipe: still the exact bytes, whatever --color says.
    assertEquals(text(always), LISTS);
    const never = await runXcap(["get", "--app", "resource-lists", "--no-color"], { env, dir });
    assertNotMatch(never.stderr, /\x1b\[/);
  });
});
