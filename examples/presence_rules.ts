/**
 * Presence authorization (pres-rules, RFC 5025): allow, block and polite-block watchers, and set
 * a presence note (pidf-manipulation, RFC 4827). Each change is a safe read-modify-write: the
 * watcher is moved into the rule with the wanted `<sub-handling>` and out of the others.
 *
 *     deno task presence-rules                                   # against an embedded server
 *     deno task presence-rules http://127.0.0.1:5080/xcap-root   # against any XCAP server
 *
 * Options after the URL: `--xui sip:alice@example.com`, `--password PASSWORD` and `--oma` (use
 * `org.openmobilealliance.pres-rules` instead of `pres-rules`).
 *
 * @module
 */
import type { XcapError } from "../mod.ts";
import {
  allowWatcher,
  blockWatcher,
  OMA_PRES_RULES,
  parseRuleset,
  politeBlockWatcher,
  PRES_RULES,
  setPresenceNote,
  setWatcherHandling,
  type UpdateResult,
  watcherHandling,
} from "../src/usages/mod.ts";
import type { Result } from "npm:neverthrow@^8.2.0";
import { openExampleTarget } from "./_target.ts";

let failed = false;

function report<T>(title: string, result: Result<UpdateResult<T>, XcapError>): T | undefined {
  console.log(`\n== ${title}`);
  if (result.isErr()) {
    failed = true;
    console.log(`error ${result.error._tag}: ${result.error.message}`);
    return undefined;
  }
  const r = result.value;
  console.log(`attempts ${r.attempts}${r.created ? ", created the document" : ""}`);
  for (const req of r.requests) {
    console.log(`  ${req.method} ${req.node ?? "(whole document)"} -> ${req.status}`);
  }
  return r.value;
}

const usage = Deno.args.includes("--oma") ? OMA_PRES_RULES : PRES_RULES;
const { client, close } = await openExampleTarget(`, ${usage.auid}`);
const options = { usage };

try {
  await client.delete(usage.auid, undefined, { filename: usage.defaultDocumentName });
  report("allow Bob", await allowWatcher(client, "sip:bob@example.com", options));
  report(
    "allow Carol (joins Bob's rule)",
    await allowWatcher(client, "sip:carol@example.com", options),
  );
  report("block a spammer", await blockWatcher(client, "sip:spam@example.com", options));
  report("polite-block Dave", await politeBlockWatcher(client, "sip:dave@example.com", options));
  report(
    "Carol must now confirm each time",
    await setWatcherHandling(
      client,
      { watcher: "sip:carol@example.com", handling: "confirm" },
      options,
    ),
  );
  const rules = report(
    "block Bob (moved out of the allow rule)",
    await blockWatcher(client, "sip:bob@example.com", options),
  );

  const stored = await client.get(usage.auid, undefined, { filename: usage.defaultDocumentName });
  if (stored.isOk()) {
    console.log(`\n== the stored ${usage.auid} document\n${stored.value.body.trimEnd()}`);
    const parsed = parseRuleset(stored.value.body);
    if (parsed.isOk()) {
      for (const w of ["bob", "carol", "dave", "spam"]) {
        console.log(
          `  sip:${w}@example.com: ${watcherHandling(parsed.value, `sip:${w}@example.com`)}`,
        );
      }
    }
  }
  const expected = { bob: "block", carol: "confirm", dave: "polite-block", spam: "block" };
  for (const [w, h] of Object.entries(expected)) {
    if (rules === undefined || watcherHandling(rules, `sip:${w}@example.com`) !== h) failed = true;
  }

  const note = report(
    "set the presence note",
    await setPresenceNote(client, { note: "Available" }),
  );
  report("change it", await setPresenceNote(client, { note: "In a meeting until 3" }));
  if (note === undefined) failed = true;
} finally {
  await close();
}
if (failed) {
  console.error("\nThe presence rules example did not complete as expected");
  Deno.exit(1);
}
console.log("\nThe presence rules example completed");
