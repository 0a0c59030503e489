// Nothing the client exports throws (issue 10, item 11): XCAPClient (constructor and every
// method), createFetchExecutor, withAuthentication, the request builders and digestAuthorization,
// given values of any type for every option and argument, return a Result (or a ResultAsync that
// resolves to one) whose error is a tagged XcapError.
// No request leaves the process: every generated configuration has a stand-in fetch or executor,
// or one that is not a function.
import { assert } from "@std/assert";
import fc from "npm:fast-check@^4.3.0";
import { errAsync, okAsync } from "npm:neverthrow@^8.2.0";
import {
  buildDeleteRequest,
  buildGetRequest,
  buildPutRequest,
  createFetchExecutor,
  type Executor,
  withAuthentication,
  XCAPClient,
} from "../mod.ts";
import { RESOURCE_LISTS, updateDocument } from "../src/usages/mod.ts";
import { digestAuthorization } from "../src/client/_digest_answer.ts";
import { isXcapError } from "../src/client/response.ts";
import { fcParams } from "./_faults.ts";

const anything = fc.anything({
  withBoxedValues: true,
  withNullPrototype: true,
  key: fc.string().filter((k) => k !== "toString" && k !== "valueOf"),
});
/** Anything but `undefined` (which would select the real `fetch`). */
const defined = anything.filter((v) => v !== undefined);

const stubFetch = () =>
  Promise.resolve(new Response("<resource-lists/>", { headers: { etag: '"1"' } }));
const executors: Executor[] = [
  (request) => okAsync({ status: 200, headers: new Headers(), body: "", url: request.url }),
  () => errAsync({ _tag: "NetworkError", message: "down", cause: undefined }),
  () => {
    throw new Error("executor throws");
  },
  () => Promise.reject(new Error("executor rejects")) as never,
];

/** An option that is usually absent or meaningful, sometimes anything at all. */
function sometimes<T>(meaningful: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 3 },
    { arbitrary: meaningful, weight: 3 },
    { arbitrary: anything, weight: 1 },
  );
}

const timeoutMs = sometimes(
  fc.oneof(
    fc.integer({ min: 1, max: 60_000 }),
    fc.constantFrom(-1, 0, NaN, Infinity, -Infinity, false, 2 ** 31, 1e-300),
  ),
);
const fetchOrNot = fc.oneof(
  { arbitrary: fc.constant(stubFetch), weight: 3 },
  { arbitrary: defined, weight: 1 },
);
const clientOptions = fc.oneof(
  fc.record({
    fetch: fetchOrNot,
    executor: fc.oneof(fc.constant(undefined), fc.constantFrom(...executors), defined),
    password: sometimes(fc.string()),
    username: sometimes(fc.string()),
    headers: sometimes(fc.dictionary(fc.string(), fc.string())),
    timeoutMs,
    maxResponseBytes: sometimes(fc.integer({ min: -1, max: 1 << 20 })),
    redirect: sometimes(fc.constantFrom("manual", "follow", "error")),
    allowBasicOverHttp: anything,
    applications: anything,
  }, { requiredKeys: ["fetch"] }),
  // Not an object at all.
  fc.oneof(fc.constant(null), fc.integer(), fc.string(), fc.boolean()),
);
const callOptions = fc.oneof(
  fc.constant(undefined),
  fc.record({
    etag: sometimes(fc.string()),
    ifNoneMatch: sometimes(fc.string()),
    headers: anything,
    namespaces: anything,
    global: anything,
    filename: sometimes(fc.string()),
    signal: anything,
    contentType: anything,
    maxAttempts: anything,
    strategy: anything,
  }, { requiredKeys: [] }),
  defined,
);
const application = sometimes(fc.constantFrom("resource-lists", "pres-rules", "xcap-caps"));
const node = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom("/resource-lists/list", "/resource-lists/list/@name", "/a[", "namespace::*"),
  anything,
);

async function settles(name: string, call: () => unknown): Promise<void> {
  let pending: unknown;
  try {
    pending = call();
  } catch (e) {
    throw new Error(`${name} threw synchronously: ${e}`);
  }
  let result: unknown;
  try {
    result = await pending;
  } catch (e) {
    throw new Error(`${name} rejected: ${e}`);
  }
  const r = result as { isOk(): boolean; isErr(): boolean; error?: unknown };
  assert(typeof r?.isOk === "function", `${name} did not resolve to a Result`);
  if (r.isErr()) assert(isXcapError(r.error), `${name}: not an XcapError: ${String(r.error)}`);
}

Deno.test("XCAPClient never throws or rejects, whatever its options and arguments", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.constant("http://127.0.0.1:9/xcap-root"), anything),
      fc.oneof(fc.constant("sip:alice@example.com"), anything),
      clientOptions,
      application,
      node,
      callOptions,
      anything,
      async (root, xui, options, app, selector, call, body) => {
        let client: XCAPClient;
        try {
          client = new XCAPClient(root as never, xui as never, options as never);
        } catch (e) {
          throw new Error(`the constructor threw: ${e}`);
        }
        await settles("get()", () => client.get(app as never, selector as never, call as never));
        await settles(
          "put()",
          () => client.put(app as never, body as never, selector as never, call as never),
        );
        await settles(
          "delete()",
          () => client.delete(app as never, selector as never, call as never),
        );
        await settles(
          "updateDocument()",
          () => updateDocument(client, RESOURCE_LISTS, (lists) => lists, call as never),
        );
      },
    ),
    fcParams("XCAPClient with any options", 300),
  );
});

Deno.test("createFetchExecutor() and withAuthentication() never throw or reject", async () => {
  const executorOptions = fc.oneof(
    fc.record({
      fetch: fetchOrNot,
      timeoutMs,
      maxResponseBytes: sometimes(fc.integer({ min: -1, max: 1 << 20 })),
      redirect: sometimes(fc.constantFrom("manual", "follow", "error")),
    }, { requiredKeys: ["fetch"] }),
    fc.oneof(fc.constant(null), fc.integer(), fc.string()),
  );
  const request = fc.oneof(
    fc.record({
      method: sometimes(fc.constantFrom("GET", "PUT", "DELETE")),
      url: sometimes(fc.constantFrom("http://127.0.0.1:9/x", "not a url", "")),
      headers: sometimes(fc.dictionary(fc.string(), fc.string())),
      body: anything,
    }),
    anything,
  );
  await fc.assert(
    fc.asyncProperty(
      executorOptions,
      request,
      anything,
      anything,
      anything,
      async (options, req, execOptions, credentials, authOptions) => {
        const execute = createFetchExecutor(options as never);
        await settles("executor", () => execute(req as never, execOptions as never));
        const authenticated = withAuthentication(
          execute,
          credentials as never,
          authOptions as never,
        );
        await settles(
          "withAuthentication()",
          () => authenticated(req as never, execOptions as never),
        );
        const withPassword = withAuthentication(execute, { username: "a", password: "p" });
        await settles(
          "withAuthentication()",
          () => withPassword(req as never, execOptions as never),
        );
      },
    ),
    fcParams("executors with any options", 300),
  );
});

Deno.test("request builders and digestAuthorization() return errors, never throw, for any value", () => {
  const target = fc.oneof(
    fc.record({
      xcapRoot: sometimes(fc.constant("http://127.0.0.1:9/xcap-root")),
      auid: sometimes(fc.constant("resource-lists")),
      xui: sometimes(fc.constant("sip:alice@example.com")),
      node: node,
    }),
    anything,
  );
  const options = fc.oneof(
    fc.record({ headers: anything, etag: anything, ifNoneMatch: anything, contentType: anything }),
    anything,
  );
  fc.assert(
    fc.property(target, options, anything, anything, anything, (t, o, body, challenge, params) => {
      for (
        const result of [
          buildGetRequest(t as never, o as never),
          buildPutRequest(t as never, body as never, o as never),
          buildPutRequest(t as never, "<x/>", o as never),
          buildDeleteRequest(t as never, o as never),
          digestAuthorization(challenge as never, params as never),
          digestAuthorization(
            { scheme: "Digest", params: { realm: "r", nonce: "n" } },
            params as never,
          ),
        ]
      ) {
        assert(result.isOk() || isXcapError(result.error));
      }
    }),
    fcParams("builders with any values", 1000),
  );
});
