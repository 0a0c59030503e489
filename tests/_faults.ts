/**
 * Test helpers for the robustness suite (`robust_*_test.ts`): seeds for fast-check, a seeded
 * pseudo-random generator, a fault-injecting {@linkcode Executor}, and serialization of values
 * the way logs show them (to search them for credentials).
 *
 * Seeds: `FC_SEED=<integer>` fixes the seed of every property and fault run (to reproduce a
 * failure, take the seed the failing test printed). Without it, CI (`CI=true`) uses a fixed seed
 * so that its runs are deterministic, and a developer's run draws a fresh one. `FC_RUNS=<factor>`
 * multiplies every property's number of cases (e.g. `FC_RUNS=10` for a long soak).
 *
 * @module
 */
import { errAsync, okAsync } from "npm:neverthrow@^8.2.0";
import type { Executor, TransportError, XcapRequest, XcapResponse } from "../mod.ts";

/** The seed CI uses when `FC_SEED` is not set. */
const CI_SEED = 20_260_704;

function envNumber(name: string): number | undefined {
  const raw = Deno.env.get(name);
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name}=${raw} is not a number`);
  return value;
}

/** The base seed of this run (see the module doc). */
export const BASE_SEED: number = envNumber("FC_SEED") ??
  (Deno.env.get("CI") === "true" ? CI_SEED : (Math.random() * 2 ** 31) | 0);

/** The case multiplier of this run (`FC_RUNS`, default 1). */
export const RUN_FACTOR: number = Math.max(0.01, envNumber("FC_RUNS") ?? 1);

/**
 * Parameters for `fc.assert`: the run's seed and `runs` cases (times `FC_RUNS`); prints both,
 * so a failure in a log can be replayed with `FC_SEED=<seed>`.
 *
 * @param name The property, for the log line.
 * @param runs The number of cases at factor 1.
 * @returns `{ seed, numRuns }`, plus `endOnFailure` so the report names the first failure.
 */
export function fcParams(
  name: string,
  runs: number,
): { seed: number; numRuns: number; endOnFailure: boolean } {
  const numRuns = Math.max(1, Math.round(runs * RUN_FACTOR));
  console.log(`property ${JSON.stringify(name)}: ${numRuns} cases, FC_SEED=${BASE_SEED}`);
  return { seed: BASE_SEED, numRuns, endOnFailure: true };
}

/**
 * A small seeded PRNG (mulberry32): the same seed gives the same fault schedule.
 *
 * @param seed Any integer.
 * @returns A function giving floats in [0, 1).
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The faults {@linkcode withFaults} injects.
 *
 * - `drop-request`: a network error before anything is sent (the server never sees it).
 * - `drop-response`: the request reaches the server and is carried out, then the answer is lost
 *   and the caller sees a network error: the dangerous case for writes.
 * - `gateway-error`: a proxy answers 502 without forwarding the request.
 * - `gateway-timeout-after`: the request is carried out, and the proxy answers 504 anyway.
 * - `timeout-after`: the request is carried out, and the caller sees a timeout.
 */
export type FaultKind =
  | "drop-request"
  | "drop-response"
  | "gateway-error"
  | "gateway-timeout-after"
  | "timeout-after";

/** All fault kinds. */
export const FAULT_KINDS: readonly FaultKind[] = [
  "drop-request",
  "drop-response",
  "gateway-error",
  "gateway-timeout-after",
  "timeout-after",
];

/** What {@linkcode withFaults} counted. */
export interface FaultStats {
  /** Requests the wrapped executor was asked to run. */
  requests: number;
  /** Faults injected, by kind. */
  readonly injected: Record<FaultKind, number>;
  /** Requests that reached the inner executor (`drop-request`/`gateway-error` do not). */
  forwarded: number;
}

/**
 * Wrap an executor so that a fraction of its requests fail: network errors and 5xx, some before
 * the request is sent and some after it was carried out.
 *
 * @param inner The executor that really talks to the server.
 * @param options `rate`: the fraction of requests that fail; `seed`: the schedule's seed;
 * `kinds`: which faults to inject (all by default).
 * @returns The faulty executor and its counters.
 */
export function withFaults(
  inner: Executor,
  options: { rate: number; seed: number; kinds?: readonly FaultKind[] },
): { executor: Executor; stats: FaultStats } {
  const random = seededRandom(options.seed);
  const kinds = options.kinds ?? FAULT_KINDS;
  const stats: FaultStats = {
    requests: 0,
    forwarded: 0,
    injected: {
      "drop-request": 0,
      "drop-response": 0,
      "gateway-error": 0,
      "gateway-timeout-after": 0,
      "timeout-after": 0,
    },
  };
  const gateway = (request: XcapRequest, status: number): XcapResponse =>
    Object.freeze({
      status,
      headers: new Headers({ "content-type": "text/html" }),
      body: `<html><body>${status} from the injected proxy</body></html>`,
      url: request.url,
    });
  const executor: Executor = (request, callOptions) => {
    stats.requests++;
    const fault = random() < options.rate ? kinds[Math.floor(random() * kinds.length)] : undefined;
    if (fault !== undefined) {
      stats.injected[fault]++;
    }
    const network = (message: string): TransportError => ({
      _tag: "NetworkError",
      message: `${request.method} ${request.url} failed: ${message}`,
      cause: new TypeError(message),
    });
    switch (fault) {
      case "drop-request":
        return errAsync(network("injected: connection refused"));
      case "gateway-error":
        return okAsync(gateway(request, 502));
      default:
        break;
    }
    stats.forwarded++;
    return inner(request, callOptions).andThen((response) => {
      switch (fault) {
        case "drop-response":
          return errAsync<XcapResponse, TransportError>(
            network("injected: connection reset while reading the response"),
          );
        case "gateway-timeout-after":
          return okAsync<XcapResponse, TransportError>(gateway(request, 504));
        case "timeout-after":
          return errAsync<XcapResponse, TransportError>({
            _tag: "Timeout",
            message: `${request.method} ${request.url} did not complete within 1 ms (injected)`,
            timeoutMs: 1,
          });
        default:
          return okAsync<XcapResponse, TransportError>(response);
      }
    });
  };
  return { executor, stats };
}

/**
 * Every string a value shows when serialized in the ways a program logs errors: JSON (with
 * `cause` and nested errors expanded), `String()`, and `Deno.inspect` at full depth.
 *
 * @param value An error value or anything else.
 * @returns The serializations, joined.
 */
export function serializeForLogs(value: unknown): string {
  const seen = new WeakSet<object>();
  const json = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Headers) return Object.fromEntries(v.entries());
    if (v instanceof Error) {
      return { name: v.name, message: v.message, stack: v.stack, cause: v.cause };
    }
    if (typeof v === "object" && v !== null) {
      if (seen.has(v)) return "[circular]";
      seen.add(v);
    }
    return v;
  });
  let text = "";
  try {
    text = String(value);
  } catch {
    text = "";
  }
  return [
    json ?? "",
    text,
    Deno.inspect(value, { depth: Infinity, getters: true, showHidden: true }),
  ].join("\n");
}
