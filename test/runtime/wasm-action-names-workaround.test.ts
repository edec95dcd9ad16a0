// The action-names workaround on its own. That it makes every actor refuse
// prototype names on the wasm runtime is shown by test/faults/hostile.test.ts
// ("prototype and unknown action names get 404 action_not_found") run with
// `FLEET_RUNTIME=wasm`.

import { describe, expect, test } from "vitest";
import {
	ACTOR_FACTORY_EXPORT,
	refuseInheritedActionNames,
	withOwnActionsOnly,
} from "../../src/workarounds/wasm-action-names.ts";

const increment = () => 1;

describe("actions handed to the wasm core", () => {
	test("only the actor's own actions can be looked up; the other callbacks are kept", () => {
		const onWake = () => undefined;
		const fixed = withOwnActionsOnly({ onWake, actions: { increment } }) as {
			onWake: unknown;
			actions: Record<string, unknown>;
		};
		expect(fixed.onWake).toBe(onWake);
		expect(fixed.actions.increment).toBe(increment);
		for (const inherited of ["constructor", "toString", "hasOwnProperty", "valueOf", "__proto__"]) {
			expect(Reflect.get(fixed.actions, inherited)).toBeUndefined();
		}
	});

	test("values without an actions object pass through untouched", () => {
		const noActions = { onWake: () => undefined };
		expect(withOwnActionsOnly(noActions)).toBe(noActions);
		expect(withOwnActionsOnly(undefined)).toBeUndefined();
	});

	test("the factory export is wrapped in a copy of the exports; without it nothing is", () => {
		const received: unknown[] = [];
		const memory = {};
		const exports = Object.freeze({
			memory,
			[ACTOR_FACTORY_EXPORT]: (callbacks: unknown, config: unknown) => {
				received.push(callbacks, config);
				return [1, 0, 0];
			},
		});
		const wrapped = refuseInheritedActionNames(exports);
		expect(wrapped?.memory).toBe(memory);
		const create = wrapped?.[ACTOR_FACTORY_EXPORT] as (a: unknown, b: unknown) => unknown;
		expect(create({ actions: { increment } }, "config")).toEqual([1, 0, 0]);
		const [callbacks, config] = received as [{ actions: object }, unknown];
		expect(Object.getPrototypeOf(callbacks.actions)).toBeNull();
		expect(config).toBe("config");
		expect(refuseInheritedActionNames({ memory })).toBeUndefined();
	});
});
