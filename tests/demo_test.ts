/** The README's first command, `deno task demo`, run as a user would run it. */
import { assertEquals, assertStringIncludes } from "@std/assert";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname);

Deno.test("deno task demo runs the seed's usage flow against the embedded server", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "demo"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
  for (
    const step of [
      "== put the document\nstatus 201",
      "== get an element\nstatus 200",
      "<display-name>Bob</display-name>",
      "== get an attribute\nstatus 200",
      "sip:bob@example.com",
      "error PreconditionFailed",
      "== delete the element\nstatus 200",
      "The usage flow completed",
    ]
  ) assertStringIncludes(stdout, step);
});
