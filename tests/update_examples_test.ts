/** examples/buddy_list.ts and examples/presence_rules.ts, run as a user would against the embedded server. */
import { assertEquals, assertStringIncludes } from "@std/assert";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname);

async function runExample(file: string): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-env",
      "--import-map=.ci/import_map.json",
      "--lock=.ci/deno.lock",
      file,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  assertEquals(output.code, 0, stdout + new TextDecoder().decode(output.stderr));
  return stdout;
}

Deno.test("examples/buddy_list.ts keeps a buddy list with minimal, ETag-guarded writes", async () => {
  const stdout = await runExample("examples/buddy_list.ts");
  for (
    const line of [
      "attempts 1, created the document",
      '  PUT /resource-lists/list[@name="friends"]/entry[@uri="sip:carol@example.com"] -> 201',
      "attempts 1, nothing to change",
      '  DELETE /resource-lists/list[@name="office"] -> 200',
      '    sip:bob@example.com  "Robert"',
      "    sip:colleague9@example.com",
      "The buddy list example completed",
    ]
  ) assertStringIncludes(stdout, line);
});

Deno.test("examples/presence_rules.ts allows, blocks and polite-blocks watchers", async () => {
  const stdout = await runExample("examples/presence_rules.ts");
  for (
    const line of [
      "  sip:bob@example.com: block",
      "  sip:carol@example.com: confirm",
      "  sip:dave@example.com: polite-block",
      "  sip:spam@example.com: block",
      "  PUT /presence/note -> 200",
      "The presence rules example completed",
    ]
  ) assertStringIncludes(stdout, line);
});
