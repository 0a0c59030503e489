/**
 * One trivial test for tests/tasks_test.ts to run through `deno task test`, so that it can look
 * at how the task's output ends. Not a test file itself (no `_test` suffix).
 */
import { assertEquals } from "@std/assert";

Deno.test("a trivial test run through deno task test", () => {
  assertEquals(1 + 1, 2);
});
