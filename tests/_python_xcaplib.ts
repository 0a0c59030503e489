/**
 * Test harness: python-xcaplib (python3-xcaplib 2.0.1, the client python-sipsimple and Blink
 * use) as a real peer of the embedded server. Its `XCAPClient` runs in `python3` through
 * `tests/python/xcaplib_driver.py`, and its command-line tool `xcapclient3` runs as it is.
 *
 * The client is never copied into the repository: it is found, in order, at `$XCAPLIB_DIR`,
 * `<repo>/../shared/third_party/python3-xcaplib` and `/work/shared/third_party/python3-xcaplib`,
 * and put on `PYTHONPATH`. `xcapclient3` also imports Debian's `python3-lxml` and
 * `python3-twisted`, and `application.configuration` from AG Projects' python3-application,
 * which Debian does not package: `tests/python/application/` stands in for it. `.ci/run`
 * installs python3, python3-lxml and python3-twisted when they are missing.
 *
 * The interpreter is `$XCAPLIB_PYTHON`, else Debian's `/usr/bin/python3` (the one that sees
 * Debian's lxml), else `python3` on the PATH.
 *
 * Without a usable python3, lxml, twisted or python-xcaplib, {@linkcode pythonTest} registers its
 * tests as ignored and prints one note, unless `CI` is `"true"`: then each such test fails.
 *
 * Helpers only, no tests. Needs `--allow-run --allow-read --allow-env`.
 *
 * @module
 */

const REPO = decodeURIComponent(new URL("..", import.meta.url).pathname);
const SHIMS = `${REPO}tests/python`;
const DRIVER = `${REPO}tests/python/xcaplib_driver.py`;

/** One python-xcaplib operation (see `tests/python/xcaplib_driver.py`). */
export interface XcaplibOperation {
  readonly op: "get" | "put" | "delete" | "replace" | "insert";
  readonly app: string;
  readonly node?: string;
  readonly body?: string;
  readonly etag?: string;
  readonly etagnot?: string;
  readonly globaltree?: boolean;
  readonly filename?: string;
}

/** What python-xcaplib returned for one operation, or what it raised. */
export type XcaplibResult =
  | {
    readonly ok: true;
    readonly status: number;
    readonly etag: string | null;
    readonly content_type: string | null;
    readonly body: string | null;
    /** The Python class of the result (`Document`, `Element`, `AttributeValue`, ...). */
    readonly kind: string;
  }
  | {
    readonly ok: false;
    /** `HTTPError`, or the class of another exception (`ValueError`, `DocumentAlreadyExists`). */
    readonly error: string;
    readonly status?: number;
    readonly reason?: string;
    readonly body?: string | null;
    readonly content_type?: string | null;
    readonly www_authenticate?: string | null;
    readonly message?: string;
  };

/** Where python-xcaplib was found and how to run it. */
interface Setup {
  readonly python: string;
  readonly xcaplibDir: string;
}

let availability: { setup?: Setup; detail: string } | undefined;
let notePrinted = false;

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The python3-xcaplib directory, by the order in the module documentation. */
export function xcaplibDir(): string | undefined {
  const candidates = [
    env("XCAPLIB_DIR"),
    `${REPO}../shared/third_party/python3-xcaplib`,
    "/work/shared/third_party/python3-xcaplib",
  ];
  return candidates.find((dir) =>
    dir !== undefined && dir !== "" && exists(`${dir}/xcaplib/client.py`)
  );
}

function pythonPath(setup: Setup): string {
  return `${setup.xcaplibDir}:${SHIMS}`;
}

function check(): { setup?: Setup; detail: string } {
  if (availability !== undefined) return availability;
  const dir = xcaplibDir();
  if (dir === undefined) {
    availability = {
      detail: "python3-xcaplib not found ($XCAPLIB_DIR, ../shared/third_party/python3-xcaplib)",
    };
    return availability;
  }
  const python = env("XCAPLIB_PYTHON") ||
    (exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
  const setup = { python, xcaplibDir: dir };
  try {
    const result = new Deno.Command(python, {
      args: [
        "-c",
        "import xcaplib.client, lxml.etree, twisted.python.log, application.configuration",
      ],
      env: { PYTHONPATH: pythonPath(setup) },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    availability = result.success ? { setup, detail: `${python}, ${dir}` } : {
      detail: `${python} cannot import python-xcaplib and xcapclient3's modules ` +
        `(apt-get install python3 python3-lxml python3-twisted): ` +
        new TextDecoder().decode(result.stderr).trim().split("\n").at(-1),
    };
  } catch (error) {
    availability = {
      detail: `cannot run ${python}: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  return availability;
}

/**
 * Whether python3 with python-xcaplib, lxml and twisted can run here.
 *
 * @returns `true` when the tests can drive python-xcaplib
 */
export function pythonXcaplibAvailable(): boolean {
  return check().setup !== undefined;
}

function setupOrThrow(): Setup {
  const { setup, detail } = check();
  if (setup === undefined) throw new Error(`python-xcaplib is not usable: ${detail}`);
  return setup;
}

/**
 * Run operations with one python-xcaplib `XCAPClient` (one process, so urllib's Digest state
 * carries over between them, as in a real application).
 *
 * @param root The XCAP root.
 * @param sipAddress The user's SIP address, e.g. `sip:alice@example.com`.
 * @param password The password, or `undefined` for none.
 * @param ops The operations, in order.
 * @returns One result per operation.
 */
export async function runXcaplib(
  root: string,
  sipAddress: string,
  password: string | undefined,
  ops: readonly XcaplibOperation[],
): Promise<XcaplibResult[]> {
  const setup = setupOrThrow();
  const child = new Deno.Command(setup.python, {
    args: [DRIVER],
    env: { PYTHONPATH: pythonPath(setup) },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(
      JSON.stringify({ root, sip_address: sipAddress, password: password ?? null, ops }),
    ),
  );
  await writer.close();
  const output = await child.output();
  const stdout = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(
      `xcaplib_driver.py exited ${output.code}: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  const results = stdout.split("\n").filter((line) => line !== "").map((line) =>
    JSON.parse(line) as XcaplibResult
  );
  if (results.length !== ops.length) {
    throw new Error(`xcaplib_driver.py answered ${results.length} of ${ops.length}: ${stdout}`);
  }
  return results;
}

/** What an `xcapclient3` run printed and returned. */
export interface XcapclientRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run python-xcaplib's `xcapclient3` tool.
 *
 * @param args Its arguments.
 * @param options `home`: the HOME it reads `~/.xcapclient.ini` from (default: an empty
 * temporary directory the caller provides).
 * @returns Exit code and output.
 */
export async function runXcapclient(
  args: readonly string[],
  options: { readonly home: string },
): Promise<XcapclientRun> {
  const setup = setupOrThrow();
  const output = await new Deno.Command(setup.python, {
    args: [`${setup.xcaplibDir}/xcapclient3`, ...args],
    env: { PYTHONPATH: pythonPath(setup), HOME: options.home },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

function isCi(): boolean {
  return env("CI") === "true";
}

/**
 * Register a Deno test that drives python-xcaplib. When it cannot run here the test is ignored
 * with a note, or fails when `CI` is `"true"`.
 *
 * @param name the test name
 * @param fn the test body
 */
export function pythonTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  const { setup, detail } = check();
  if (setup === undefined) {
    if (isCi()) {
      Deno.test(name, () => {
        throw new Error(`python-xcaplib is required when CI=true but is not usable: ${detail}`);
      });
      return;
    }
    if (!notePrinted) {
      notePrinted = true;
      console.warn(`python-xcaplib tests are ignored (with CI=true they fail instead): ${detail}`);
    }
    Deno.test({ name, ignore: true, fn: () => {} });
    return;
  }
  Deno.test(name, fn);
}
