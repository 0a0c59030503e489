/**
 * CPU profile of a running Deno process through its inspector (Deno 2.9 has no `--cpu-prof`):
 * start the process with `--inspect=127.0.0.1:9229`, drive it with `wrk`, and run
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-write tests/bench/profile.ts \
 *   --inspect 127.0.0.1:9229 --seconds 5 --save /tmp/server.cpuprofile
 * ```
 *
 * It samples for `--seconds`, prints the functions with the most self time and the most total
 * time (self plus callees), and saves the profile (`.cpuprofile`, loadable in Chrome DevTools)
 * when `--save` is given.
 *
 * @module
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function option(name: string, fallback: string): string {
  const at = Deno.args.indexOf(name);
  return at >= 0 && Deno.args[at + 1] !== undefined ? Deno.args[at + 1]! : fallback;
}

const inspect = option("--inspect", "127.0.0.1:9229");
const seconds = Number(option("--seconds", "5"));
const save = option("--save", "");
const top = Number(option("--top", "25"));

const targets = await (await fetch(`http://${inspect}/json/list`)).json() as {
  webSocketDebuggerUrl: string;
}[];
const socket = new WebSocket(targets[0]!.webSocketDebuggerUrl);
await new Promise((resolve, reject) => {
  socket.onopen = resolve;
  socket.onerror = reject;
});
let nextId = 1;
const pending = new Map<number, (result: unknown) => void>();
socket.onmessage = (event) => {
  const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
  if (message.id !== undefined) pending.get(message.id)?.(message.result);
};
function send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
  const id = nextId++;
  socket.send(JSON.stringify({ id, method, params }));
  return new Promise((resolve) => pending.set(id, resolve));
}

await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 200 });
await send("Profiler.start");
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
const { profile } = await send("Profiler.stop") as { profile: Profile };
socket.close();
if (save !== "") await Deno.writeTextFile(save, JSON.stringify(profile));

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
const selfTime = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const label = (f: CallFrame) =>
  `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/(src|tests|npm)\//, "$1/")}:${
    f.lineNumber + 1
  }`;
const selfByFunction = new Map<string, number>();
const totalByFunction = new Map<string, number>();
for (const [id, time] of selfTime) {
  const node = byId.get(id)!;
  const name = label(node.callFrame);
  selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + time);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const frame = label(byId.get(at)!.callFrame);
    if (seen.has(frame)) continue;
    seen.add(frame);
    totalByFunction.set(frame, (totalByFunction.get(frame) ?? 0) + time);
  }
}
const total = [...selfTime.values()].reduce((a, b) => a + b, 0);
const print = (title: string, map: Map<string, number>) => {
  console.log(`\n${title} (of ${(total / 1000).toFixed(0)} ms sampled)`);
  for (const [name, time] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(time / total * 100).toFixed(1).padStart(5)}%  ${name}`);
  }
};
print("Self time", selfByFunction);
print("Total time", totalByFunction);
