// Fills in the `{{NAME}}` placeholders of the committed deployment files in
// `deploy/cluster/`, so the local cluster runs exactly those files with
// loopback addresses, and a real deployment runs them with its own.

import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PROJECT_ROOT } from "./app-server.ts";

export const CLUSTER_DEPLOY_DIR = path.join(PROJECT_ROOT, "deploy/cluster");

const PLACEHOLDER = /\{\{([A-Z0-9_]+)\}\}/g;

/** Replaces every placeholder; a placeholder without a value is an error, never left in. */
export function renderTemplate(text: string, values: Record<string, string>): string {
	const missing = new Set<string>();
	const out = text.replace(PLACEHOLDER, (_, name: string) => {
		const value = values[name];
		if (value === undefined) missing.add(name);
		return value ?? "";
	});
	if (missing.size > 0) throw new Error(`no value for template placeholder(s): ${[...missing].join(", ")}`);
	return out;
}

/** Renders `deploy/cluster/<template>` to `target` and returns `target`. */
export function renderDeployFile(template: string, target: string, values: Record<string, string>): string {
	writeFileSync(target, renderTemplate(readFileSync(path.join(CLUSTER_DEPLOY_DIR, template), "utf8"), values));
	return target;
}
