/**
 * Asking for a password on the terminal without echoing it. The key handling is pure
 * ({@linkcode applySecretInput}); {@linkcode promptSecret} is the Deno edge that switches the
 * terminal to raw mode and back.
 *
 * @module
 */

/** The state of a secret being typed. */
export interface SecretInput {
  /** The characters typed so far. */
  readonly text: string;
  /** Enter was pressed: `text` is the answer. */
  readonly done: boolean;
  /** Ctrl-C, or Ctrl-D on an empty line: the user gave up. */
  readonly cancelled: boolean;
}

/**
 * The state before any key is typed.
 *
 * @example Usage
 * ```ts
 * import { EMPTY_SECRET_INPUT } from "./prompt.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(EMPTY_SECRET_INPUT, { text: "", done: false, cancelled: false });
 * ```
 */
export const EMPTY_SECRET_INPUT: SecretInput = Object.freeze({
  text: "",
  done: false,
  cancelled: false,
});

/**
 * Apply keystrokes read in raw mode to a secret being typed: Enter (CR or LF) finishes,
 * Backspace/Delete removes the last character, Ctrl-U clears the line, Ctrl-C cancels,
 * Ctrl-D cancels on an empty line and finishes otherwise, escape sequences (arrow keys) and
 * other control characters are ignored. Input after Enter is ignored.
 *
 * @param state The state so far.
 * @param chunk The bytes read, decoded as UTF-8.
 * @returns The new state.
 *
 * @example Usage
 * ```ts
 * import { applySecretInput, EMPTY_SECRET_INPUT } from "./prompt.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const typed = applySecretInput(EMPTY_SECRET_INPUT, "secx\x7ft\r");
 * assertEquals(typed, { text: "sect", done: true, cancelled: false });
 * assertEquals(applySecretInput(EMPTY_SECRET_INPUT, "\x03").cancelled, true);
 * ```
 */
export function applySecretInput(state: SecretInput, chunk: string): SecretInput {
  if (state.done || state.cancelled) return state;
  let text = state.text;
  const chars = [...chunk];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    switch (c) {
      case "\r":
      case "\n":
        return Object.freeze({ text, done: true, cancelled: false });
      case "\x03":
        return Object.freeze({ text: "", done: false, cancelled: true });
      case "\x04":
        return text === ""
          ? Object.freeze({ text: "", done: false, cancelled: true })
          : Object.freeze({ text, done: true, cancelled: false });
      case "\x7f":
      case "\b":
        text = [...text].slice(0, -1).join("");
        break;
      case "\x15":
        text = "";
        break;
      case "\x1b":
        // CSI: ESC [ parameters final-byte (0x40-0x7e); SS3: ESC O x (arrows in application
        // mode); otherwise ESC and one character.
        if (chars[i + 1] === "[") {
          i += 2;
          while (i < chars.length && !/[\x40-\x7e]/.test(chars[i]!)) i++;
        } else {
          i += chars[i + 1] === "O" ? 2 : 1;
        }
        break;
      default:
        if (c >= " ") text += c;
    }
  }
  return Object.freeze({ text, done: false, cancelled: false });
}

async function writeAll(data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.byteLength) offset += await Deno.stderr.write(data.subarray(offset));
}

/**
 * Ask for a secret on the terminal: write `message` to stderr, read stdin in raw mode without
 * echo until Enter, restore the terminal. Only call it when stdin is a terminal.
 *
 * @param message The prompt, e.g. `Password for alice (realm "xcap"): `.
 * @returns The secret, or `undefined` when the user cancelled (Ctrl-C, Ctrl-D) or stdin
 * could not be read in raw mode. Never rejects.
 *
 * @example Usage
 * ```ts
 * import { promptSecret } from "./prompt.ts";
 * import { assertEquals } from "@std/assert";
 *
 * // Only on a terminal: here stdin is not one, so nothing is asked.
 * if (!Deno.stdin.isTerminal()) assertEquals(typeof promptSecret, "function");
 * ```
 */
export async function promptSecret(message: string): Promise<string | undefined> {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let raw = false;
  try {
    // Raw mode first, prompt second: whatever is typed once the prompt shows is never echoed.
    Deno.stdin.setRaw(true);
    raw = true;
    await writeAll(encoder.encode(message));
    let state = EMPTY_SECRET_INPUT;
    const buffer = new Uint8Array(256);
    while (!state.done && !state.cancelled) {
      const n = await Deno.stdin.read(buffer);
      if (n === null) {
        state = applySecretInput(state, "\x04");
        break;
      }
      state = applySecretInput(state, decoder.decode(buffer.subarray(0, n), { stream: true }));
    }
    return state.done ? state.text : undefined;
  } catch {
    return undefined;
  } finally {
    if (raw) {
      try {
        Deno.stdin.setRaw(false);
      } catch {
        // The terminal went away; nothing to restore.
      }
    }
    try {
      await writeAll(encoder.encode("\n"));
    } catch {
      // stderr closed: nothing to do.
    }
  }
}

/**
 * The realm of the first challenge in a `WWW-Authenticate` header, for the prompt text.
 *
 * @param header The header value, or `null`.
 * @returns The realm, or `undefined` when there is none.
 *
 * @example Usage
 * ```ts
 * import { challengeRealm } from "./prompt.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(challengeRealm('Digest realm="xcap", nonce="abc", qop="auth"'), "xcap");
 * assertEquals(challengeRealm(null), undefined);
 * ```
 */
export function challengeRealm(header: string | null): string | undefined {
  if (header === null) return undefined;
  // RFC 7235 §2.2: realm = auth-param, its value a token or a quoted-string.
  const match = /(?:^|[\s,])realm\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/i.exec(header);
  if (!match) return undefined;
  return match[1] !== undefined ? match[1].replace(/\\(.)/g, "$1") : match[2];
}
