/**
 * Test harness of the runtime tests (`tests/runtimes_test.ts`): the client bundle built from
 * `mod.ts` with `deno bundle`, the other runtimes (workerd, Chromium, Node) found and run as
 * subprocesses, and {@linkcode runtimeTest}, which ignores a test whose runtime is missing (with
 * a note) unless `CI` is `"true"`, where it fails, as the Kamailio tests do.
 *
 * Where the runtimes come from: `.ci/run` installs Debian's `chromium` and the npm package
 * `workerd` (pinned; its bin directory goes first on `PATH`); the system `node` comes with npm.
 * `XCAP_CHROMIUM`, `XCAP_WORKERD` and `XCAP_NODE` name other binaries.
 *
 * Helpers only, no tests.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { XCAPClient } from "../mod.ts";
import { expectedFlow, type FlowReport, type FlowStep, type FlowTarget } from "./runtimes/flow.ts";

const REPO = decodeURIComponent(new URL("..", import.meta.url).pathname);

/** A runtime binary: where it is, and its version as it prints it. */
export interface Runtime {
  /** The command to run. */
  readonly command: string;
  /** What `--version` printed (first line). */
  readonly version: string;
}

type Found = { readonly runtime: Runtime } | { readonly missing: string };

const found = new Map<string, Found>();
const notes = new Set<string>();

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Run `command --version` once; the runtime, or why it cannot be used. */
function findRuntime(name: string, variable: string, fallback: string): Found {
  const cached = found.get(name);
  if (cached !== undefined) return cached;
  const command = env(variable) ?? fallback;
  let result: Found;
  try {
    const output = new Deno.Command(command, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    const version = new TextDecoder().decode(output.stdout).trim().split("\n")[0] ?? "";
    result = output.success && version !== ""
      ? { runtime: { command, version } }
      : { missing: `${command} --version failed` };
  } catch (error) {
    result = {
      missing: `${command} cannot run (${error instanceof Error ? error.message : error}); ` +
        `set ${variable} or run .ci/run, which installs it`,
    };
  }
  found.set(name, result);
  return result;
}

/** The runtimes the tests know, by name. */
const RUNTIMES = {
  chromium: () => findRuntime("chromium", "XCAP_CHROMIUM", "chromium"),
  workerd: () => findRuntime("workerd", "XCAP_WORKERD", "workerd"),
  node: () => findRuntime("node", "XCAP_NODE", "node"),
};

/**
 * Register a test that needs another runtime: it gets the runtime, or is ignored with a note
 * when the runtime is missing, unless `CI` is `"true"`: then it fails.
 *
 * @param name The test's name.
 * @param needs The runtime it needs.
 * @param fn The test.
 */
export function runtimeTest(
  name: string,
  needs: keyof typeof RUNTIMES,
  fn: (runtime: Runtime) => Promise<void>,
): void {
  const lookup = RUNTIMES[needs]();
  if ("runtime" in lookup) {
    Deno.test(name, () => fn(lookup.runtime));
    return;
  }
  if (env("CI") === "true") {
    Deno.test(name, () => {
      throw new Error(`${needs} is required when CI=true but is not usable: ${lookup.missing}`);
    });
    return;
  }
  if (!notes.has(needs)) {
    notes.add(needs);
    console.warn(`${needs} tests are ignored (with CI=true they fail instead): ${lookup.missing}`);
  }
  Deno.test({ name, ignore: true, fn: () => {} });
}

/** The client bundle and the flow, as JavaScript modules in one directory. */
export interface ClientBundle {
  /** The directory. */
  readonly dir: string;
  /** The client: `mod.ts` bundled into one ES module (dependencies inlined), `mod.js`. */
  readonly client: string;
  /** `tests/runtimes/flow.ts` as JavaScript, `flow.js`, next to it. */
  readonly flow: string;
  /** Remove the directory. */
  remove(): Promise<void>;
}

/**
 * Bundle `mod.ts` (the client entry) for browsers, workerd and Node with `deno bundle`: one ES
 * module with neverthrow, @noble/hashes and @std inlined; and the flow beside it.
 *
 * @returns The directory with `mod.js` and `flow.js`.
 */
export async function bundleClient(): Promise<ClientBundle> {
  const dir = await Deno.makeTempDir({ prefix: "xcap-bundle-" });
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform=browser",
      "--format=esm",
      `--import-map=${REPO}.ci/import_map.json`,
      `--lock=${REPO}.ci/deno.lock`,
      "--frozen",
      `--outdir=${dir}`,
      `${REPO}mod.ts`,
      `${REPO}tests/runtimes/flow.ts`,
    ],
    cwd: REPO,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    await Deno.remove(dir, { recursive: true });
    throw new Error(`deno bundle failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  // esbuild keeps the paths below the entries' common folder: mod.js, tests/runtimes/flow.js.
  await Deno.rename(`${dir}/tests/runtimes/flow.js`, `${dir}/flow.js`);
  await Deno.remove(`${dir}/tests`, { recursive: true });
  return {
    dir,
    client: `${dir}/mod.js`,
    flow: `${dir}/flow.js`,
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

/** The seed's document (`examples/resource-lists.xml`). */
export function seedDocument(): Promise<string> {
  return Deno.readTextFile(`${REPO}examples/resource-lists.xml`);
}

/** A report without the error messages (they say the same in other words on every runtime). */
function withoutMessages(steps: readonly FlowStep[]): unknown[] {
  return steps.map((s) =>
    s.error === undefined ? s : { ...s, error: (({ message: _, ...rest }) => rest)(s.error) }
  );
}

/**
 * Check a runtime's report against what the flow must observe, then check on the server that the
 * writes landed: the document is there without Bob's entry.
 *
 * @param report What the runtime reported.
 * @param target What it ran against.
 */
export async function assertFlow(report: FlowReport, target: FlowTarget): Promise<void> {
  assertEquals(
    withoutMessages(report.steps),
    expectedFlow(target),
    `${report.runtime}: ${JSON.stringify(report, null, 1)}`,
  );
  const client = new XCAPClient(
    target.xcapRoot,
    target.xui,
    target.password === undefined ? {} : { password: target.password },
  );
  const stored = (await client.get("resource-lists"))._unsafeUnwrap();
  assertEquals(stored.body.includes('<list name="friends">'), true, stored.body);
  assertEquals(stored.body.includes("sip:bob@example.com"), false, stored.body);
}

/** A subprocess whose output is collected as it comes. */
export interface Process {
  /** The child. */
  readonly child: Deno.ChildProcess;
  /** stdout so far. */
  stdout(): string;
  /** stderr so far. */
  stderr(): string;
  /** Resolves when stderr (or stdout) has a match, or `undefined` once the process has ended. */
  waitFor(pattern: RegExp, stream?: "stdout" | "stderr"): Promise<RegExpMatchArray | undefined>;
  /** Whether it has exited. */
  exited(): boolean;
  /** Resolves when it has exited on its own and its output is read. */
  done(): Promise<Deno.CommandStatus>;
  /** SIGTERM, up to 5 s for it to end, then SIGKILL; waits for the pipes. */
  stop(): Promise<Deno.CommandStatus>;
}

/**
 * Spawn a command with stdout and stderr collected (so it never blocks on a full pipe).
 *
 * @param command The command.
 * @param args Its arguments.
 * @param options Working directory and environment.
 * @returns The running process.
 */
export function spawn(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Process {
  const child = new Deno.Command(command, {
    args: [...args],
    ...options,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const text = { stdout: "", stderr: "" };
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  const drain = (stream: ReadableStream<Uint8Array>, key: "stdout" | "stderr") =>
    stream.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({
        write(chunk) {
          text[key] += chunk;
          wake();
        },
      }),
    ).catch(() => {});
  const drained = Promise.all([drain(child.stdout, "stdout"), drain(child.stderr, "stderr")]);
  let status: Deno.CommandStatus | undefined;
  const ended = child.status.then((s) => {
    status = s;
    wake();
    return s;
  });
  return {
    child,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    async waitFor(pattern, stream = "stderr") {
      for (;;) {
        const match = text[stream].match(pattern);
        if (match !== null) return match;
        if (status !== undefined) {
          await drained;
          return text[stream].match(pattern) ?? undefined;
        }
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    exited: () => status !== undefined,
    async done() {
      const final = await ended;
      await drained;
      return final;
    },
    async stop() {
      if (status === undefined) {
        try {
          child.kill("SIGTERM");
        } catch {
          // Already gone.
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<"late">((resolve) =>
          timer = setTimeout(() => resolve("late"), 5000)
        );
        const first = await Promise.race([ended, late]);
        clearTimeout(timer);
        if (first === "late") {
          try {
            child.kill("SIGKILL");
          } catch {
            // Already gone.
          }
        }
      }
      const final = await ended;
      await drained;
      return final;
    },
  };
}

/**
 * Wait for a promise, at most `ms` milliseconds: a bound on how long a broken runtime can hang a
 * test, never a measurement.
 *
 * @param promise What to wait for.
 * @param ms The bound.
 * @param what What is waited for, for the error.
 * @returns What the promise resolved to.
 */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A free TCP port on 127.0.0.1 (for a runtime that cannot be told to pick one and say which). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}
