/**
 * The Deno implementation of {@linkcode CliIo}: files, standard streams, environment and the
 * terminal of the current process. The only file of the CLI besides `prompt.ts` and `main.ts`
 * that touches `Deno.*`.
 *
 * @module
 */
import { promptSecret } from "./prompt.ts";
import type { CliIo } from "./run.ts";

async function writeAll(writer: { write(p: Uint8Array): Promise<number> }, data: Uint8Array) {
  let offset = 0;
  while (offset < data.byteLength) offset += await writer.write(data.subarray(offset));
}

/** Read at most `limit` bytes of a file: enough to tell a file that is too large, whatever it is. */
async function readAtMost(path: string, limit: number): Promise<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  const out = new Uint8Array(limit);
  let size = 0;
  while (size < limit) {
    const n = await file.read(out.subarray(size));
    if (n === null) break;
    size += n;
  }
  return out.subarray(0, size);
}

/**
 * `deno task xcap` and `deno task serve` run in the repository, where deno.json is; the tasks
 * pass the directory the user started them in (`INIT_CWD`, which `deno task` sets) as
 * `XCAP_TASK_CWD`, and the command moves there first, so that relative paths (`-i`, `-o`,
 * `--config`, `--kv`, `--users-file`) mean what the user meant.
 *
 * @returns Why the directory could not be entered, or `undefined` (entered, or none given).
 */
export function enterTaskDirectory(): string | undefined {
  const dir = safely(() => Deno.env.get("XCAP_TASK_CWD"), undefined);
  if (dir === undefined || dir === "") return undefined;
  try {
    Deno.chdir(dir);
    return undefined;
  } catch (e) {
    return `cannot change to ${dir}, where deno task was started (relative paths are taken ` +
      `from ${safely(() => Deno.cwd(), "the repository")}): ${e instanceof Error ? e.message : e}`;
  }
}

function safely<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    // Not permitted (no --allow-env) or not available: treat as absent.
    return fallback;
  }
}

/**
 * The {@linkcode CliIo} of this Deno process. Environment variables that cannot be read (no
 * `--allow-env`) count as unset; a closed stdout (`xcap get | head -1`) ends writing quietly.
 *
 * @returns The I/O functions.
 *
 * @example Usage
 * ```ts
 * import { denoCliIo } from "@xcap/xcap/cli";
 * import { assertEquals } from "@std/assert";
 *
 * const io = denoCliIo();
 * assertEquals(typeof io.readFile, "function");
 * assertEquals(io.isTerminal.stdout, Deno.stdout.isTerminal());
 * ```
 */
export function denoCliIo(): CliIo {
  let stdoutClosed = false;
  return {
    env: (name) => safely(() => Deno.env.get(name), undefined),
    readFile: (path, options) =>
      options?.maxBytes === undefined
        ? Deno.readFile(path)
        : readAtMost(path, options.maxBytes + 1),
    fileMode: async (path) => (await Deno.stat(path)).mode ?? undefined,
    writeFile: (path, data) => Deno.writeFile(path, data),
    // Read with Deno.stdin.read rather than Deno.stdin.readable: the stream would lock stdin,
    // and the password prompt may still need it after a body typed on the terminal.
    readStdin: async (options) => {
      const limit = options?.maxBytes === undefined ? Infinity : options.maxBytes + 1;
      const chunks: Uint8Array[] = [];
      const buffer = new Uint8Array(65536);
      let size = 0;
      while (size < limit) {
        const n = await Deno.stdin.read(
          buffer.subarray(0, Math.min(buffer.byteLength, limit - size)),
        );
        if (n === null) break;
        chunks.push(buffer.slice(0, n));
        size += n;
      }
      const out = new Uint8Array(size);
      let offset = 0;
      for (const chunk of chunks) {
        out.set(chunk, offset);
        offset += chunk.byteLength;
      }
      return out;
    },
    writeStdout: async (data) => {
      if (stdoutClosed) return;
      try {
        await writeAll(Deno.stdout, data);
      } catch (e) {
        if (e instanceof Deno.errors.BrokenPipe) stdoutClosed = true;
        else throw e;
      }
    },
    writeStderr: async (data) => {
      try {
        await writeAll(Deno.stderr, data);
      } catch {
        // Nowhere left to report to.
      }
    },
    isTerminal: {
      stdin: safely(() => Deno.stdin.isTerminal(), false),
      stdout: safely(() => Deno.stdout.isTerminal(), false),
      stderr: safely(() => Deno.stderr.isTerminal(), false),
    },
    promptPassword: promptSecret,
    homeDir: () => safely(() => Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE"), undefined),
  };
}
