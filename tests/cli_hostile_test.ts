// `xcap` against what a hostile server or a careless setup hands it (issue 10, item 15), as a real
// subprocess: a body with terminal escape sequences keeps its exact bytes on a pipe, an endless
// account file (/dev/zero) is refused at a bound, and an account file with a password that others
// can read gets a warning. The terminal side of the escapes is in cli_terminal_test.ts.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { startXcapServer } from "../src/server/mod.ts";
import {
  cliEnv,
  ESCAPES_BODY as HOSTILE_BODY,
  runXcap,
  runXcapMeasured,
  withTempDir,
} from "./_cli.ts";
import { serveHttp } from "./_hostile_server.ts";
import { MAX_INPUT_BYTES } from "../src/cli/run.ts";

const ALICE = "sip:alice@example.com";

Deno.test("xcap get keeps a body's escape sequences byte for byte on a pipe and in -o FILE", async () => {
  const server = serveHttp(() =>
    new Response(HOSTILE_BODY, {
      headers: { "content-type": "application/resource-lists+xml", etag: '"e1"' },
    })
  );
  try {
    await withTempDir(async (dir) => {
      const env = cliEnv(dir, { XCAP_ROOT: `${server.origin}/xcap-root`, XCAP_SIP_ADDRESS: ALICE });
      const piped = await runXcap(["get", "--app", "resource-lists"], { env, dir });
      assertEquals(piped.code, 0, piped.stderr);
      assertEquals(new TextDecoder().decode(piped.stdout), HOSTILE_BODY);
      const saved = await runXcap(
        ["get", "--app", "resource-lists", "-o", `${dir}/out.xml`],
        { env, dir },
      );
      assertEquals(saved.code, 0, saved.stderr);
      assertEquals(await Deno.readTextFile(`${dir}/out.xml`), HOSTILE_BODY);
      // --json on a pipe: exactly JSON.stringify's output, which parses back to the body.
      const json = await runXcap(["get", "--app", "resource-lists", "--json"], { env, dir });
      assertEquals(JSON.parse(new TextDecoder().decode(json.stdout)).body, HOSTILE_BODY);
    });
  } finally {
    await server.close();
  }
});

Deno.test("xcap --config /dev/zero stops at MAX_ACCOUNT_FILE_BYTES and names the file and the limit", async () => {
  await withTempDir(async (dir) => {
    const env = cliEnv(dir, { XCAP_ROOT: "http://127.0.0.1:9/xcap-root", XCAP_SIP_ADDRESS: ALICE });
    for (const config of [["--config", "/dev/zero"], ["--config=/dev/zero"]]) {
      const run = await runXcap(["get", "--app", "resource-lists", ...config], {
        env,
        dir,
        allowRead: ["/dev/zero"],
        // Reading forever (2.6 GB in 10 s before the fix) fails here instead of hanging.
        killAfterMs: 20_000,
      });
      assertEquals(run.code, 2, run.stderr);
      assertStringIncludes(
        run.stderr,
        "Account file /dev/zero is larger than 1048576 bytes, the most xcap reads from one",
      );
    }
    // The same through XCAP_CONFIG, and a large regular file.
    await Deno.writeTextFile(`${dir}/huge.ini`, "[Account]\n" + "# padding\n".repeat(120_000));
    const big = await runXcap(["get", "--app", "resource-lists"], {
      env: { ...env, XCAP_CONFIG: `${dir}/huge.ini` },
      dir,
    });
    assertEquals(big.code, 2, big.stderr);
    assertStringIncludes(big.stderr, `Account file ${dir}/huge.ini is larger than 1048576 bytes`);
  });
});

Deno.test("xcap put -i /dev/zero and an oversized stdin stop at MAX_INPUT_BYTES and name the limit", async () => {
  await withTempDir(async (dir) => {
    const env = cliEnv(dir, { XCAP_ROOT: "http://127.0.0.1:9/xcap-root", XCAP_SIP_ADDRESS: ALICE });
    for (const input of [["-i", "/dev/zero"], ["--input=/dev/zero"]]) {
      const run = await runXcap(["put", "--app", "resource-lists", ...input], {
        env,
        dir,
        allowRead: ["/dev/zero"],
        // Reading forever fails here instead of hanging.
        killAfterMs: 20_000,
      });
      assertEquals(run.code, 2, run.stderr);
      assertStringIncludes(
        run.stderr,
        `The body (/dev/zero) is larger than ${MAX_INPUT_BYTES} bytes (16 MiB), the most xcap sends`,
      );
    }
    // stdin: one byte over the limit is refused before anything is sent (port 9 would fail).
    const over = await runXcap(["put", "--app", "resource-lists"], {
      env,
      dir,
      stdin: "x".repeat(MAX_INPUT_BYTES + 1),
    });
    assertEquals(over.code, 2, over.stderr);
    assertStringIncludes(over.stderr, `The body (stdin) is larger than ${MAX_INPUT_BYTES} bytes`);

    // What the refusal costs: a 1 GiB (sparse) file is read no further than the limit.
    const huge = `${dir}/huge.xml`;
    await Deno.writeFile(huge, new Uint8Array());
    await Deno.truncate(huge, 1024 ** 3);
    const measured = await runXcapMeasured(["put", "--app", "resource-lists", "-i", huge], {
      env,
      dir,
    });
    assertEquals(measured.code, 2, measured.stderr);
    assertStringIncludes(measured.stderr, "is larger than");
    const mib = (measured.peakRssBytes / 1024 ** 2).toFixed(0);
    console.log(`xcap put -i (1 GiB file): peak RSS ${mib} MiB`);
    assert(measured.peakRssBytes < 200 * 1024 ** 2, `peak RSS ${mib} MiB`);
  });
});

Deno.test("xcap warns on stderr when an account file with a password is readable by others", async () => {
  const server = (await startXcapServer())._unsafeUnwrap();
  try {
    await withTempDir(async (dir) => {
      const ini = `${dir}/.xcapclient.ini`;
      const env = cliEnv(dir);
      const write = async (text: string, mode: number) => {
        await Deno.writeTextFile(ini, text);
        await Deno.chmod(ini, mode);
      };
      const withPassword = `[Account]\nsip_address = ${ALICE}\npassword = s3cret\n` +
        `xcap_root = ${server.xcapRoot}\n`;
      const cases: Array<[string, number, string | undefined]> = [
        [withPassword, 0o644, "can be read by everyone (mode 644)"],
        [withPassword, 0o640, "can be read by its group (mode 640)"],
        [withPassword, 0o600, undefined],
        [withPassword.replace("password = s3cret\n", ""), 0o644, undefined],
        [withPassword.replace("password = s3cret\n", "password =\n"), 0o644, undefined],
      ];
      for (const [text, mode, expected] of cases) {
        await write(text, mode);
        const run = await runXcap(["caps"], { env, dir });
        assertEquals(run.code, 0, run.stderr);
        const label = `mode ${mode.toString(8)}`;
        if (expected === undefined) {
          assert(!run.stderr.includes("warning"), `${label}: ${run.stderr}`);
        } else {
          assertStringIncludes(
            run.stderr,
            `xcap: warning: ~/.xcapclient.ini holds a password and ${expected}; ` +
              "run: chmod 600 ~/.xcapclient.ini\n",
            label,
          );
          assert(!run.stderr.includes("s3cret"), "the warning shows the password");
        }
      }
      // An explicitly named file is named as given.
      await write(withPassword, 0o604);
      const named = await runXcap(["caps", "--config", ini], { env, dir });
      assertStringIncludes(
        named.stderr,
        `xcap: warning: ${ini} holds a password and can be read by everyone (mode 604)`,
      );
    });
  } finally {
    await server.close();
  }
});
