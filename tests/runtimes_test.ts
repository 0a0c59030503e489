// The client on other runtimes (issue 13): each test runs the seed's usage flow
// (tests/runtimes/flow.ts) with the client against the embedded server on 127.0.0.1, in a real
// `deno serve`, workerd, headless Chromium and Node, and checks what the runtime observed and what
// landed on the server. workerd, Chromium and Node load the client bundled from mod.ts here, at
// test time, with `deno bundle`. Each prints the runtime's version ("runtime: ...").
import { assert, assertEquals } from "@std/assert";
import { startXcapServer, type XcapServer } from "../src/server/mod.ts";
import { XCAPClient } from "../mod.ts";
import {
  assertFlow,
  bundleClient,
  type ClientBundle,
  freePort,
  runtimeTest,
  seedDocument,
  spawn,
  within,
} from "./_runtimes.ts";
import { spawnServer } from "./_server_process.ts";
import type { FlowReport, FlowTarget, RefusedProbe } from "./runtimes/flow.ts";

const REPO = decodeURIComponent(new URL("..", import.meta.url).pathname);
const ALICE = "sip:alice@example.com";
const PASSWORD = "wonder land";
/** Bounds on how long a broken runtime may hang a test (never measurements). */
const START_MS = 60_000;
const FLOW_MS = 90_000;

/** One bundle for every test of this file, removed when the file is done. */
let bundle: Promise<ClientBundle> | undefined;
function sharedBundle(): Promise<ClientBundle> {
  bundle ??= bundleClient().then((b) => {
    globalThis.addEventListener("unload", () => Deno.removeSync(b.dir, { recursive: true }));
    return b;
  });
  return bundle;
}

/** The embedded server with Alice as its one user (Digest, SHA-256 then MD5). */
async function serverWithAlice(): Promise<XcapServer> {
  return (await startXcapServer({ users: { [ALICE]: PASSWORD } }))._unsafeUnwrap();
}

async function target(server: { xcapRoot: string }, password?: string): Promise<FlowTarget> {
  return {
    xcapRoot: server.xcapRoot,
    xui: ALICE,
    document: await seedDocument(),
    ...(password === undefined ? {} : { password }),
  };
}

/** POST the target to a runtime that runs the flow, and read its report. */
async function askFlow(url: string, flowTarget: FlowTarget): Promise<FlowReport> {
  const response = await within(
    fetch(url, { method: "POST", body: JSON.stringify(flowTarget) }),
    FLOW_MS,
    `the flow at ${url}`,
  );
  const text = await response.text();
  assertEquals(response.status, 200, text);
  return JSON.parse(text) as FlowReport;
}

Deno.test("runtimes: a deno serve edge function runs the usage flow with Digest", async () => {
  const server = await serverWithAlice();
  const edge = spawn(Deno.execPath(), [
    "serve",
    "--host=127.0.0.1",
    "--port=0",
    "--allow-net=127.0.0.1",
    `--import-map=${REPO}.ci/import_map.json`,
    `--lock=${REPO}.ci/deno.lock`,
    "--frozen",
    `${REPO}tests/runtimes/deno_serve.ts`,
  ], { cwd: REPO, env: { NO_COLOR: "1" } });
  try {
    const listening = await within(
      edge.waitFor(/Listening on (http:\/\/127\.0\.0\.1:\d+)\//),
      START_MS,
      "deno serve",
    );
    assert(listening !== undefined, `deno serve did not start: ${edge.stderr()}`);
    const flowTarget = await target(server, PASSWORD);
    const report = await askFlow(listening[1]!, flowTarget);
    console.log(`runtime: ${report.runtime} (deno serve)`);
    await assertFlow(report, flowTarget);
  } finally {
    await edge.stop();
    await server.close();
  }
});

/** workerd's configuration: the worker and its modules, outbound fetch allowed to loopback. */
function workerdConfig(port: number): string {
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .flowWorker),
    # the default outbound service allows only public addresses; the XCAP server is on loopback
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);

const flowWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "mod.js", esModule = embed "mod.js"),
    (name = "flow.js", esModule = embed "flow.js"),
  ],
  compatibilityDate = "2026-11-23",
  globalOutbound = "loopback",
);
`;
}

/** A Cloudflare Worker: the bundled client and the flow, behind `fetch`. */
const WORKER = `import * as xcap from "./mod.js";
import { runUsageFlow } from "./flow.js";

export default {
  async fetch(request) {
    return Response.json(await runUsageFlow(xcap, await request.json(), navigator.userAgent));
  },
};
`;

/** Whether something accepts connections on 127.0.0.1:port. */
async function accepting(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

runtimeTest(
  "runtimes: workerd runs a worker built from the client bundle with Digest",
  "workerd",
  async (workerd) => {
    const { dir } = await sharedBundle();
    await Deno.writeTextFile(`${dir}/worker.js`, WORKER);
    const server = await serverWithAlice();
    try {
      // workerd cannot pick a port and say which: take a free one, and another if it was taken
      // in between.
      for (let attempt = 1;; attempt++) {
        const port = freePort();
        await Deno.writeTextFile(`${dir}/workerd.capnp`, workerdConfig(port));
        const worker = spawn(workerd.command, ["serve", `${dir}/workerd.capnp`], { cwd: dir });
        try {
          await within(
            (async () => {
              while (!worker.exited() && !(await accepting(port))) {
                await new Promise((resolve) => setTimeout(resolve, 50));
              }
            })(),
            START_MS,
            "workerd",
          );
          if (worker.exited()) {
            if (/address already in use/i.test(worker.stderr()) && attempt < 5) continue;
            throw new Error(`workerd did not start: ${worker.stderr()}`);
          }
          const flowTarget = await target(server, PASSWORD);
          const report = await askFlow(`http://127.0.0.1:${port}/`, flowTarget);
          console.log(`runtime: ${workerd.version} (navigator.userAgent ${report.runtime})`);
          assert(!worker.exited(), worker.stderr());
          await assertFlow(report, flowTarget);
          return;
        } finally {
          await worker.stop();
        }
      }
    } finally {
      await server.close();
    }
  },
);

/** The page: imports the bundle and the flow, runs them, POSTs what it saw to /report. */
function page(config: { targets: FlowTarget[]; refused: FlowTarget }): string {
  const json = JSON.stringify(config).replaceAll("<", "\\u003c");
  return `<!doctype html>
<meta charset="utf-8">
<title>XCAP client in a browser</title>
<script type="application/json" id="config">${json}</script>
<script type="module">
const send = (body) => fetch("/report", { method: "POST", body: JSON.stringify(body) });
addEventListener("unhandledrejection", (e) => send({ error: String(e.reason?.stack ?? e.reason) }));
try {
  const xcap = await import("./mod.js");
  const flow = await import("./flow.js");
  const { targets, refused } = JSON.parse(document.getElementById("config").textContent);
  const reports = [];
  for (const target of targets) {
    reports.push(await flow.runUsageFlow(xcap, target, navigator.userAgent));
  }
  await send({ reports, refused: await flow.probeRefused(xcap, refused) });
} catch (e) {
  await send({ error: String(e?.stack ?? e) });
}
</script>
`;
}

type PageResult = { reports: FlowReport[]; refused: RefusedProbe } | { error: string };

runtimeTest(
  "runtimes: a page in headless Chromium runs the flow cross-origin (CORS, Digest)",
  "chromium",
  async (chromium) => {
    const { client, flow } = await sharedBundle();
    const files: Record<string, string> = {
      "/mod.js": await Deno.readTextFile(client),
      "/flow.js": await Deno.readTextFile(flow),
    };
    const { promise: reported, resolve: report } = Promise.withResolvers<PageResult>();
    let html = "";
    const pages = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
      const path = new URL(request.url).pathname;
      if (request.method === "POST" && path === "/report") {
        report(await request.json());
        return new Response(null, { status: 204 });
      }
      if (path === "/") return new Response(html, { headers: { "content-type": "text/html" } });
      const file = files[path];
      if (file !== undefined) {
        return new Response(file, { headers: { "content-type": "text/javascript" } });
      }
      return new Response("not found", { status: 404 });
    });
    const origin = `http://127.0.0.1:${pages.addr.port}`;
    // A: any origin, Digest from the page (what web SIP clients do); programmatic option.
    const digest = (await startXcapServer({ users: { [ALICE]: PASSWORD }, cors: { origins: "*" } }))
      ._unsafeUnwrap();
    // B: the page's origin only, requests made with credentials mode "include": the CLI option.
    const listed = await spawnServer({ args: ["--cors", origin, "--cors-credentials"] });
    // C: another origin only: the browser must refuse to share anything with the page.
    const refused = (await startXcapServer({ cors: { origins: ["http://127.0.0.1:9"] } }))
      ._unsafeUnwrap();
    const profile = await Deno.makeTempDir({ prefix: "xcap-chromium-" });
    let browser: ReturnType<typeof spawn> | undefined;
    try {
      const targets = [
        await target(digest, PASSWORD),
        { ...await target(listed), includeCredentials: true },
      ];
      const refusedTarget = await target(refused);
      html = page({ targets, refused: refusedTarget });
      browser = spawn(chromium.command, [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${profile}`,
        `${origin}/`,
      ]);
      const gone = browser.child.status.then((s) => {
        throw new Error(
          `chromium exited (${s.code}) before the page reported: ${browser!.stderr()}`,
        );
      });
      const result = await within(Promise.race([reported, gone]), FLOW_MS, "the page");
      assert(!("error" in result), `the page failed: ${"error" in result ? result.error : ""}`);
      assertEquals(result.reports.length, 2);
      console.log(
        `runtime: ${chromium.version} (navigator.userAgent ${result.reports[0]!.runtime})`,
      );
      await assertFlow(result.reports[0]!, targets[0]!);
      await assertFlow(result.reports[1]!, targets[1]!);
      // The browser shared nothing with the page, and never sent the PUT its preflight was
      // refused for.
      assertEquals(result.refused, { get: "NetworkError", put: "NetworkError" });
      const untouched = await new XCAPClient(refused.xcapRoot, ALICE).get("resource-lists");
      assertEquals(untouched.isErr() && untouched.error._tag, "NotFound");
    } finally {
      await browser?.stop();
      await Deno.remove(profile, { recursive: true });
      await refused.close();
      await listed.stop();
      await digest.close();
      await pages.shutdown();
    }
  },
);

/** Node: import the bundle, run the flow, print the report. */
const NODE_SCRIPT = `import * as xcap from "./mod.js";
import { runUsageFlow } from "./flow.js";

const report = await runUsageFlow(xcap, JSON.parse(process.argv[2]), "Node " + process.version);
process.stdout.write(JSON.stringify(report));
`;

runtimeTest(
  "runtimes: node imports the client bundle and runs the usage flow with Digest",
  "node",
  async (node) => {
    const { dir } = await sharedBundle();
    await Deno.writeTextFile(`${dir}/node_flow.mjs`, NODE_SCRIPT);
    const server = await serverWithAlice();
    try {
      const flowTarget = await target(server, PASSWORD);
      const run = spawn(node.command, [`${dir}/node_flow.mjs`, JSON.stringify(flowTarget)], {
        cwd: dir,
      });
      let status: Deno.CommandStatus;
      try {
        status = await within(run.done(), FLOW_MS, "node");
      } finally {
        await run.stop();
      }
      assertEquals(status.code, 0, run.stderr());
      const report = JSON.parse(run.stdout()) as FlowReport;
      console.log(`runtime: ${report.runtime}`);
      await assertFlow(report, flowTarget);
    } finally {
      await server.close();
    }
  },
);
