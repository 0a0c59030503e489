/**
 * A Deno edge function (`export default { fetch }`, what `deno serve`, Deno Deploy and Supabase
 * Edge Functions run) that uses the client: it runs the seed's usage flow against the XCAP server
 * a POST names (a {@linkcode FlowTarget} as JSON) and answers with what it observed.
 *
 *     deno serve --allow-net=127.0.0.1 tests/runtimes/deno_serve.ts
 *
 * @module
 */
import * as xcap from "../../mod.ts";
import { type FlowTarget, runUsageFlow } from "./flow.ts";

export default {
  async fetch(request: Request): Promise<Response> {
    const target = await request.json() as FlowTarget;
    return Response.json(await runUsageFlow(xcap, target, `Deno ${Deno.version.deno}`));
  },
} satisfies Deno.ServeDefaultExport;
