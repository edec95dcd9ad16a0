import { expect, test } from "vitest";

test("the suite runs on Node >= 22 (rivetkit's requirement), from the project's own node", () => {
	const major = Number(process.versions.node.split(".")[0]);
	expect(major).toBeGreaterThanOrEqual(22);
});
