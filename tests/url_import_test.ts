/**
 * Users may import the module by URL. Deno then never reads deno.json, so every file must use
 * versioned inline specifiers and explicit `.ts` paths. This test serves the repository from a
 * loopback static server and runs a script that imports `mod.ts` from it and makes one request.
 */
import { assertEquals, assertStringIncludes } from "@std/assert";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname);
const join = (dir: string, path: string) => `${dir.replace(/\/$/, "")}/${path.replace(/^\//, "")}`;

Deno.test("mod.ts loads over HTTP by URL and makes one request", async () => {
  const files = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    if (path.includes("..") || !path.endsWith(".ts")) return new Response(null, { status: 404 });
    try {
      const text = await Deno.readTextFile(join(ROOT, path));
      return new Response(text, { headers: { "content-type": "application/typescript" } });
    } catch {
      return new Response(null, { status: 404 });
    }
  });
  const xcap = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      new Response(`<got path="${new URL(req.url).pathname}"/>`, {
        headers: { etag: '"u1"', "content-type": "application/resource-lists+xml" },
      }),
  );
  const dir = await Deno.makeTempDir();
  try {
    const origin = `127.0.0.1:${files.addr.port}`;
    const script = join(dir, "main.ts");
    await Deno.writeTextFile(
      script,
      `import { XCAPClient } from "http://${origin}/mod.ts";\n` +
        `const client = new XCAPClient("http://127.0.0.1:${xcap.addr.port}/xcap-root", ` +
        `"sip:alice@example.com");\n` +
        `const got = await client.get("resource-lists");\n` +
        `console.log(JSON.stringify(got.isOk() ? got.value.etag + " " + got.value.body : got.error));\n`,
    );
    // JSR is unreachable here: map @std to its npm build, as remote code cannot import files.
    const map = join(dir, "map.json");
    await Deno.writeTextFile(
      map,
      JSON.stringify({
        imports: {
          "jsr:@std/http@^1.0.21/status": "npm:deno-std@1.4.0/http/status.js",
          "jsr:@std/http@^1.0.21/etag": "npm:deno-std@1.4.0/http/etag.js",
        },
      }),
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-lock",
        "--no-config",
        `--import-map=${map}`,
        `--allow-import=${origin}`,
        "--allow-net=127.0.0.1",
        script,
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assertEquals(output.code, 0, stderr);
    const line = JSON.parse(new TextDecoder().decode(output.stdout).trim());
    assertStringIncludes(line, '"u1"');
    assertStringIncludes(line, "/xcap-root/resource-lists/users/sip:alice@example.com/index");
  } finally {
    await files.shutdown();
    await xcap.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
