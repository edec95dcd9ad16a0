// The debug client: typed access to the engine's management and runner APIs,
// an actor's gateway routes, and its inspector. Used by `npm run inspect` and
// the harness's tests. Harness only: the server's own `/api/fleet` uses the
// small `src/engine-api.ts` instead, so the product never loads this.
//
//   const engine = resolveEngineConfig();                 // from RIVET_ENDPOINT & co.
//   const fleet = await listFleet(engine);                // every actor name with its actors
//   const id = await resolveActorId(engine, "counter", "home");
//   const summary = await new ActorInspector(engine, id).summary();
//
// It is a small fetch client rather than Rivet's generated
// `@rivetkit/engine-api-full` (25.8.3, the only published version): that
// client covers neither actor KV, `/envoys`, the gateway nor the inspector,
// cannot parse engine 2.3.19's serverless health-check failures, and pulls in
// node-fetch@2 and friends. Every response here is parsed with zod, so a
// changed engine shows up as a clear `UnexpectedResponseError`.

export * from "./config.ts";
export * from "./errors.ts";
export * from "./gateway.ts";
export * from "./inspector.ts";
export * from "./keys.ts";
export * from "./management.ts";
export * from "./runners.ts";
export * from "./workflow-history.ts";
