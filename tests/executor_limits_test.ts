// The default executor's safety limits (issue 10, items 10–12): a default timeout that covers the
// body and fires even when a custom fetch ignores the abort signal, options that come back as
// InvalidArgument instead of throwing, executors that throw, and a body limit that stops reading.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { errAsync, ResultAsync } from "npm:neverthrow@^8.2.0";
import {
  createFetchExecutor,
  type Executor,
  withAuthentication,
  XCAPClient,
  type XcapError,
  type XcapRequest,
} from "../mod.ts";
import { DEFAULT_TIMEOUT_MS } from "../src/client/executor.ts";
import { serveRaw } from "./_hostile_server.ts";

const XUI = "sip:alice@example.com";

function request(url: string): XcapRequest {
  return { method: "GET", url, headers: {} };
}

/** Wait (on the real clock) until `done()` holds, at most 10 s. */
async function until(done: () => boolean, setTimer = setTimeout): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) {
    await new Promise((resolve) => setTimer(resolve, 10));
  }
  assert(done(), "condition not reached within 10 s");
}

/**
 * Run `fn` with `AbortSignal.timeout` (the executor's timer) replaced by a fake clock: timers are
 * recorded, never fire by themselves, and `fire(ms)` fires those armed for `ms` milliseconds.
 */
async function withFakeTimers(
  fn: (clock: {
    readonly armed: () => number[];
    readonly fire: (ms: number) => number;
    readonly realSetTimeout: typeof setTimeout;
  }) => Promise<void>,
): Promise<void> {
  const realTimeout = AbortSignal.timeout;
  const timers = new Set<{ controller: AbortController; ms: number }>();
  AbortSignal.timeout = (ms: number) => {
    const controller = new AbortController();
    timers.add({ controller, ms });
    return controller.signal;
  };
  try {
    await fn({
      armed: () => [...timers].map((t) => t.ms),
      fire: (ms) => {
        let fired = 0;
        for (const timer of [...timers]) {
          if (timer.ms !== ms) continue;
          timers.delete(timer);
          timer.controller.abort(new DOMException("Signal timed out.", "TimeoutError"));
          fired++;
        }
        return fired;
      },
      realSetTimeout: setTimeout,
    });
  } finally {
    AbortSignal.timeout = realTimeout;
  }
}

// ---------------------------------------------------------------------------------------------
// Item 10: a default timeout
// ---------------------------------------------------------------------------------------------

Deno.test("XCAPClient.get() with no options gives up on a silent server after DEFAULT_TIMEOUT_MS (30 s)", async () => {
  // A real server that accepts the connection and never answers.
  const server = serveRaw((conn) => conn.closing);
  try {
    await withFakeTimers(async (clock) => {
      const pending = new XCAPClient(`${server.origin}/xcap-root`, XUI).get("resource-lists");
      await until(() => server.hits() === 1, clock.realSetTimeout);
      // The request is in flight with one 30-second timer armed; let the 30 s pass.
      assertEquals(clock.armed(), [30_000]);
      assertEquals(DEFAULT_TIMEOUT_MS, 30_000);
      assertEquals(clock.fire(30_000), 1);
      const result = await pending;
      assert(result.isErr());
      assertEquals(result.error._tag, "Timeout");
      assertEquals(result.error._tag === "Timeout" && result.error.timeoutMs, 30_000);
      assertStringIncludes(result.error.message, "did not complete within 30000 ms");
      // Nothing is left armed to keep the process alive.
      assertEquals(clock.armed(), []);
    });
  } finally {
    await server.close();
  }
});

Deno.test("createFetchExecutor() arms one timer for many requests, and expires none that finished", async () => {
  await withFakeTimers(async (clock) => {
    const execute = createFetchExecutor({ fetch: () => Promise.resolve(new Response("ok")) });
    for (let i = 0; i < 5; i++) {
      assertEquals((await execute(request("http://127.0.0.1:9/x")))._unsafeUnwrap().body, "ok");
    }
    // One timer serves every request of the executor; when it fires, nothing is due any more.
    assertEquals(clock.armed(), [30_000]);
    assertEquals(clock.fire(30_000), 1);
    assertEquals(clock.armed(), []);
  });
});

Deno.test("createFetchExecutor() leaves no timer that keeps the process alive", async () => {
  // A process that makes one request with the default 30 s timeout and ends: it must exit then,
  // not 30 s later.
  const script = `import { createFetchExecutor } from ${
    JSON.stringify(
      new URL("../mod.ts", import.meta.url).href,
    )
  };
const execute = createFetchExecutor({ fetch: () => Promise.resolve(new Response("ok")) });
const result = await execute({ method: "GET", url: "http://127.0.0.1:9/x", headers: {} });
console.log(result.isOk() ? result.value.body : "failed");`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `--import-map=${new URL("../.ci/import_map.json", import.meta.url).pathname}`,
      `--lock=${new URL("../.ci/deno.lock", import.meta.url).pathname}`,
      script,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let guard: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<"hung">((resolve) => {
    guard = setTimeout(() => resolve("hung"), 20_000);
  });
  try {
    const outcome = await Promise.race([child.output(), hung]);
    assert(outcome !== "hung", "the process was still alive after 20 s");
    assertEquals(new TextDecoder().decode(outcome.stdout).trim(), "ok");
  } finally {
    clearTimeout(guard);
    try {
      child.kill("SIGKILL");
    } catch {
      // It exited, as it should.
    }
    await child.status;
  }
});

Deno.test("createFetchExecutor({ timeoutMs: false }) arms no timer; a number overrides the default", async () => {
  await withFakeTimers(async (clock) => {
    let release!: (r: Response) => void;
    const execute = createFetchExecutor({
      timeoutMs: false,
      fetch: () => new Promise<Response>((resolve) => (release = resolve)),
    });
    const pending = execute(request("http://127.0.0.1:9/x"));
    await until(() => release !== undefined, clock.realSetTimeout);
    assertEquals(clock.armed(), []);
    release(new Response("late but fine"));
    assertEquals((await pending)._unsafeUnwrap().body, "late but fine");

    const short = createFetchExecutor({ timeoutMs: 1234, fetch: () => new Promise(() => {}) });
    const waiting = short(request("http://127.0.0.1:9/x"));
    await until(() => clock.armed().length === 1, clock.realSetTimeout);
    assertEquals(clock.armed(), [1234]);
    clock.fire(1234);
    const result = await waiting;
    assertEquals(result.isErr() && result.error._tag, "Timeout");
  });
});

// ---------------------------------------------------------------------------------------------
// Item 12 (time): the timeout covers everything, whatever fetch does with the signal
// ---------------------------------------------------------------------------------------------

/** A fetch that ignores its abort signal: the head never comes, or the body never ends. */
function deafFetch(stage: "head" | "body"): typeof fetch {
  return () => {
    if (stage === "head") return new Promise<Response>(() => {});
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("<resource-lists"));
      },
      // pull() is not defined and cancel() does nothing: the stream just never ends.
    });
    return Promise.resolve(new Response(body, { headers: { "content-length": "100" } }));
  };
}

Deno.test("createFetchExecutor() times out even when a custom fetch ignores the abort signal", async () => {
  for (const stage of ["head", "body"] as const) {
    let guard: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"hung">((resolve) => {
      guard = setTimeout(() => resolve("hung"), 10_000);
    });
    try {
      const execute = createFetchExecutor({ timeoutMs: 100, fetch: deafFetch(stage) });
      const result = await Promise.race([execute(request("http://127.0.0.1:9/x")), deadline]);
      assert(result !== "hung", `${stage}: the timeout never fired`);
      assert(result.isErr(), stage);
      assertEquals(result.error._tag, "Timeout", stage);
    } finally {
      clearTimeout(guard);
    }
  }
});

Deno.test("createFetchExecutor() times out on a real server that stalls in the middle of a body", async () => {
  // The runtime's own fetch: a small declared body is read in one call, a large one in chunks;
  // the timeout must end both.
  for (const declared of [1_000, 1_000_000]) {
    const server = serveRaw(async (conn) => {
      await conn.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/xml\r\ncontent-length: ${declared}\r\n\r\n<a>`,
      );
      await conn.closing;
    });
    try {
      const result = await createFetchExecutor({ timeoutMs: 200 })(
        request(`${server.origin}/x`),
      );
      assert(result.isErr(), `${declared}`);
      assertEquals(result.error._tag, "Timeout", `${declared}`);
    } finally {
      await server.close();
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Item 11: bad options and throwing executors are error values
// ---------------------------------------------------------------------------------------------

/** Call `call`; a synchronous throw fails the test with a clear message. */
function noThrow<T>(call: () => T): T {
  try {
    return call();
  } catch (e) {
    throw new Error(`threw synchronously: ${e}`);
  }
}

Deno.test("XCAPClient.get() returns InvalidArgument for a timeoutMs of -1, NaN, Infinity, 0 or a string", async () => {
  let hits = 0;
  const fetch = () => {
    hits++;
    return Promise.resolve(new Response("x"));
  };
  for (const timeoutMs of [-1, NaN, Infinity, -Infinity, 0, 2 ** 31, "5", null, true]) {
    const client = new XCAPClient("http://127.0.0.1:9/xcap-root", XUI, {
      fetch,
      timeoutMs: timeoutMs as number,
    });
    const result = await noThrow(() => client.get("resource-lists"));
    assert(result.isErr(), String(timeoutMs));
    assertEquals(result.error._tag, "InvalidArgument", String(timeoutMs));
    assertEquals(
      result.error._tag === "InvalidArgument" && result.error.argument,
      "options.timeoutMs",
    );
    assertStringIncludes(result.error.message, "or false for no timeout");
  }
  assertEquals(hits, 0, "nothing may be sent with invalid options");
});

Deno.test("createFetchExecutor() returns InvalidArgument for bad maxResponseBytes, redirect, fetch and signal", async () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ maxResponseBytes: -1 }, "options.maxResponseBytes"],
    [{ maxResponseBytes: 1.5 }, "options.maxResponseBytes"],
    [{ maxResponseBytes: Infinity }, "options.maxResponseBytes"],
    [{ redirect: "sometimes" }, "options.redirect"],
    [{ fetch: "https://example.com" }, "options.fetch"],
  ];
  for (const [options, argument] of cases) {
    const result = await createFetchExecutor(options as never)(request("http://127.0.0.1:9/"));
    assert(result.isErr());
    assertEquals(result.error._tag === "InvalidArgument" && result.error.argument, argument);
  }
  const signal = await createFetchExecutor({ fetch: () => Promise.resolve(new Response()) })(
    request("http://127.0.0.1:9/"),
    { signal: "stop" as never },
  );
  assertEquals(signal.isErr() && signal.error._tag, "InvalidArgument");
  const noRequest = await createFetchExecutor()(null as never);
  assertEquals(noRequest.isErr() && noRequest.error._tag, "InvalidArgument");
});

Deno.test("XCAPClient turns an executor that throws, rejects or returns garbage into error values", async () => {
  const executors: Array<[string, Executor, XcapError["_tag"]]> = [
    ["throws", () => {
      throw new Error("kaboom");
    }, "NetworkError"],
    ["rejects", () => Promise.reject(new Error("kaboom")) as never, "NetworkError"],
    [
      "returns a ResultAsync that rejects",
      () => new ResultAsync(Promise.reject(new Error("kaboom"))),
      "NetworkError",
    ],
    [
      "fails with something that is not an XcapError",
      () => errAsync(undefined as never),
      "NetworkError",
    ],
    ["returns a Response", () => Promise.resolve(new Response("x")) as never, "MalformedResponse"],
    ["returns undefined", () => undefined as never, "MalformedResponse"],
    ["is not a function", 42 as never, "InvalidArgument"],
  ];
  for (const [name, executor, tag] of executors) {
    for (const password of [undefined, "pw"]) {
      const client = new XCAPClient("http://127.0.0.1:9/xcap-root", XUI, {
        executor,
        ...(password === undefined ? {} : { password }),
      });
      const result = await noThrow(() => client.get("resource-lists"));
      assert(result.isErr(), name);
      assertEquals(result.error._tag, tag, `${name} (password: ${password})`);
    }
  }
});

Deno.test("withAuthentication() and XCAPClient return InvalidArgument for unusable arguments", async () => {
  const base: Executor = () => errAsync({ _tag: "NetworkError", message: "unused", cause: 0 });
  const wraps: Array<[() => Executor, string]> = [
    [() => withAuthentication(base, null as never), "credentials"],
    [
      () => withAuthentication(base, { username: "a", password: 5 } as never),
      "credentials.password",
    ],
    [() => withAuthentication(base, { username: "a", password: "p" }, null as never), "options"],
    [() => withAuthentication(42 as never, { username: "a", password: "p" }), "executor"],
    [
      () =>
        withAuthentication(base, { username: "a", password: "p" }, {
          maxChallenges: Symbol() as never,
        }),
      "options.maxChallenges",
    ],
  ];
  for (const [wrap, argument] of wraps) {
    const result = await wrap()(request("http://127.0.0.1:9/x"));
    assert(result.isErr());
    assertEquals(result.error._tag === "InvalidArgument" && result.error.argument, argument);
    assert(!JSON.stringify(result.error).includes('"5"'));
  }
  const client = new XCAPClient("http://127.0.0.1:9/xcap-root", XUI, null as never);
  const got = await client.get("resource-lists");
  assertEquals(got.isErr() && got.error._tag, "InvalidArgument");
  const call = await new XCAPClient("http://127.0.0.1:9/xcap-root", XUI, {
    fetch: () => Promise.resolve(new Response()),
  }).get("resource-lists", undefined, null as never);
  assertEquals(call.isErr() && call.error._tag, "InvalidArgument");
});

// ---------------------------------------------------------------------------------------------
// Item 12 (memory): reading stops at the limit
// ---------------------------------------------------------------------------------------------

/** A body of `total` bytes in `chunk`-byte chunks that counts how much was pulled. */
function countingBody(
  total: number,
  chunk: number,
): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const bytes = new Uint8Array(chunk).fill(0x61);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= total) {
        controller.close();
        return;
      }
      pulled += chunk;
      controller.enqueue(bytes.slice());
    },
  }, { highWaterMark: 0 });
  return { stream, pulled: () => pulled };
}

Deno.test("createFetchExecutor() stops reading a body at maxResponseBytes, whatever Content-Length says", async () => {
  // Content-Length understates the body (a decoded gzip body does too): reading must stop at
  // the limit, not after the whole 64 MiB.
  for (
    const headers of [{}, { "content-length": "1000" }, {
      "content-encoding": "gzip",
      "content-length": "1000",
    }]
  ) {
    const body = countingBody(64 * 1024 * 1024, 64 * 1024);
    const execute = createFetchExecutor({
      maxResponseBytes: 1024 * 1024,
      fetch: () => Promise.resolve(new Response(body.stream, { headers })),
    });
    const result = await execute(request("http://127.0.0.1:9/x"));
    assert(result.isErr());
    assertEquals(result.error._tag, "MalformedResponse");
    assertStringIncludes(result.error.message, "too large");
    assertStringIncludes(result.error.message, "limit 1048576 bytes");
    assert(body.pulled() <= 1024 * 1024 + 64 * 1024, `${body.pulled()} bytes pulled`);
  }
});

Deno.test("createFetchExecutor() reassembles a body of 60,000 one-byte chunks exactly", async () => {
  const text = "<x>" + "é".repeat(29_997) + "</x>";
  const bytes = new TextEncoder().encode(text);
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i >= bytes.length) controller.close();
      else controller.enqueue(bytes.subarray(i, ++i));
    },
  });
  const result = await createFetchExecutor({ fetch: () => Promise.resolve(new Response(stream)) })(
    request("http://127.0.0.1:9/x"),
  );
  assertEquals(result._unsafeUnwrap().body, text);
  // Exactly at the limit is fine; one byte over is not.
  const at = await createFetchExecutor({
    maxResponseBytes: 5,
    fetch: () => Promise.resolve(new Response("12345")),
  })(request("http://127.0.0.1:9/x"));
  assertEquals(at._unsafeUnwrap().body, "12345");
  const over = await createFetchExecutor({
    maxResponseBytes: 4,
    fetch: () => Promise.resolve(new Response(new Blob(["12345"]).stream())),
  })(request("http://127.0.0.1:9/x"));
  assertEquals(over.isErr() && over.error._tag, "MalformedResponse");
});
