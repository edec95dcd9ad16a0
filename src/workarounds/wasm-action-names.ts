// WORKAROUND for a rivetkit-wasm 2.3.19 bug: on the wasm runtime, an action
// named after a property every JavaScript object inherits (`constructor`,
// `toString`, `hasOwnProperty`, `valueOf`, …) is answered 200 instead of
// 404 `action_not_found`, on every actor.
//
// What was measured (2026-12-06, the lab's hostile-input test "prototype and
// unknown action names get 404 action_not_found", on `FLEET_RUNTIME=wasm`):
// `POST /gateway/{id}/action/constructor` answered 200; the native runtime
// answers 404. The state did not change, because what ran was not an action
// of the fleet. rivetkit builds each actor's action callbacks as an ordinary
// object (`actions: Object.fromEntries(…)` in `buildNativeFactory`,
// rivetkit `src/registry/native.ts`) and hands it to the wasm core's
// `ActorFactory`; the core then looks an incoming action name up on that
// object as a JavaScript property, and an ordinary object also has every
// property of `Object.prototype`. So `constructor` finds `Object` itself,
// which the core calls as if it were the action and whose result it sends
// back as the answer.
//
// Upstream report (rivet-dev/rivet, rivetkit-wasm; not filed from here):
//
//   Title: rivetkit-wasm: actions named `constructor`/`toString`/… run
//   `Object.prototype`'s functions instead of answering action_not_found
//
//   rivetkit 2.3.19, `RIVETKIT_RUNTIME=wasm`. Any actor:
//   `POST /gateway/{id}/action/constructor` with `{"args":[]}` answers 200
//   (napi runtime: 404 `action_not_found`); likewise `toString`,
//   `hasOwnProperty`. The wasm `ActorFactory` looks the name up with a
//   property get on `callbacks.actions`, which inherits from
//   `Object.prototype`. Expected: only own properties are actions (build
//   `actions` with `Object.create(null)`, or check `hasOwnProperty` / keep
//   the names in a map in Rust, as the napi runtime does).
//
// Until then, this module wraps the wasm core's `actorfactory_new` export
// (the function behind `new ActorFactory(callbacks, config)` in the
// bindings' `pkg/rivetkit_wasm.js`) so that the core receives the same
// callbacks with `actions` copied onto an object without a prototype: only
// the actor's own actions can then be found, and every other name gets the
// core's own `action_not_found`. Nothing else changes. If the export is
// absent (another rivetkit version), nothing is wrapped and wasm-core.ts
// (here) warns once.
//
// Remove this file, and its use in `wasm-core.ts` (here), when rivetkit-wasm
// looks up own actions only: test/faults/hostile.test.ts then passes on wasm
// without it.

/** The wasm core's export behind `new ActorFactory(callbacks, config)` (rivetkit-wasm 2.3.19). */
export const ACTOR_FACTORY_EXPORT = "actorfactory_new";

type Fn = (...args: unknown[]) => unknown;

/**
 * The same callbacks, with `actions` (when it is an object) copied onto an
 * object that inherits nothing, so a lookup finds own actions only. Any other
 * value is returned as it is.
 */
export function withOwnActionsOnly(callbacks: unknown): unknown {
	if (typeof callbacks !== "object" || callbacks === null) return callbacks;
	const actions = (callbacks as { actions?: unknown }).actions;
	if (typeof actions !== "object" || actions === null) return callbacks;
	const own: Record<string, unknown> = Object.create(null);
	for (const [name, handler] of Object.entries(actions)) own[name] = handler;
	return { ...callbacks, actions: own };
}

/**
 * The wasm instance's exports with `actorfactory_new` wrapped so every actor
 * factory gets its actions through `withOwnActionsOnly`. An instance's own
 * exports object is frozen, so this returns a new object with the same
 * members; `undefined` when the export is missing.
 */
export function refuseInheritedActionNames(exports: Record<string, unknown>): Record<string, unknown> | undefined {
	const create = exports[ACTOR_FACTORY_EXPORT];
	if (typeof create !== "function") return undefined;
	return {
		...exports,
		[ACTOR_FACTORY_EXPORT]: (callbacks: unknown, ...rest: unknown[]) =>
			(create as Fn)(withOwnActionsOnly(callbacks), ...rest),
	};
}
