// CLI commands on the runner API: pools, envoys, runner configs, serverless
// health checks, metadata refresh.

import {
	listEnvoys,
	listPoolNames,
	listRunnerConfigs,
	listRunners,
	type RunnerConfig,
	refreshRunnerMetadata,
	serverlessHealthCheck,
} from "../runners.ts";
import { type Command, expectArgs, output, parseHeaders } from "./command.ts";
import { CommandFailure, cell, formatTime, printJson, renderTable } from "./output.ts";

function describeKind(config: RunnerConfig): string {
	if (config.serverless) return "serverless";
	if (config.normal) return "normal";
	return "unknown";
}

const pools: Command = {
	words: ["pools"],
	usage: "",
	summary: "runner pools: how the engine reaches each one and how many envoys serve it",
	options: [],
	async run(ctx) {
		expectArgs(ctx.args, { min: 0, max: 0 }, "pools");
		const [names, configs, envoys] = await Promise.all([
			listPoolNames(ctx.engine),
			listRunnerConfigs(ctx.engine),
			listEnvoys(ctx.engine),
		]);
		const rows = names.map((pool) => {
			const dcs = Object.values(configs[pool] ?? {});
			return {
				pool,
				kind: dcs.map(describeKind).join(",") || "-",
				url: dcs.map((c) => c.serverless?.url).find((u) => u !== undefined) ?? null,
				envoys: envoys.filter((e) => e.pool_name === pool && !e.stop_ts).length,
			};
		});
		output(ctx, rows, () =>
			renderTable(
				["POOL", "KIND", "URL", "ENVOYS"],
				rows.map((r) => [r.pool, r.kind, r.url, r.envoys]),
				"no pools (no runner configs and no runners)",
			),
		);
	},
};

const runners: Command = {
	words: ["runners"],
	usage: "[--pool POOL]",
	summary: "envoys (rivetkit 2.3.19's runners) and any legacy runners, newest first",
	options: [],
	details: "--pool filters by pool. rivetkit 2.3.19 servers register as envoys; the legacy runner list stays empty.",
	async run(ctx) {
		expectArgs(ctx.args, { min: 0, max: 0 }, `runners ${this.usage}`);
		// `--pool` is a global option (the pool for new actors); here it filters.
		const filter = ctx.options.pool === undefined ? {} : { pool: ctx.options.pool };
		const [envoys, legacy] = await Promise.all([listEnvoys(ctx.engine, filter), listRunners(ctx.engine, filter)]);
		output(ctx, { envoys, runners: legacy }, () => {
			const table = renderTable(
				["ENVOY", "POOL", "VERSION", "SLOTS", "STATUS", "LAST PING"],
				envoys.map((e) => [
					e.envoy_key,
					e.pool_name,
					e.version,
					e.slots,
					e.stop_ts ? "stopped" : "connected",
					formatTime(e.last_ping_ts),
				]),
				"no envoys",
			);
			if (legacy.length === 0) return table;
			const legacyTable = renderTable(
				["RUNNER", "NAME", "VERSION", "CREATED"],
				legacy.map((r) => [r.runner_id, r.name, r.version, formatTime(r.create_ts)]),
				"",
			);
			return `${table}\n\n${legacyTable}`;
		});
	},
};

const runnerConfigs: Command = {
	words: ["runner-configs"],
	usage: "[--pool POOL]",
	summary: "each pool's runner config per datacenter (serverless URL, limits)",
	options: [],
	async run(ctx) {
		expectArgs(ctx.args, { min: 0, max: 0 }, `runner-configs ${this.usage}`);
		const configs = await listRunnerConfigs(ctx.engine, ctx.options.pool ? { pools: [ctx.options.pool] } : {});
		output(ctx, configs, () =>
			renderTable(
				["POOL", "DATACENTER", "KIND", "URL", "MAX RUNNERS", "DRAIN ON UPGRADE", "ERROR"],
				Object.entries(configs).flatMap(([pool, dcs]) =>
					Object.entries(dcs).map(([dc, c]) => [
						pool,
						dc,
						describeKind(c),
						c.serverless?.url,
						c.serverless?.max_runners,
						c.drain_on_version_upgrade ?? c.serverless?.drain_on_version_upgrade,
						cell(c.runner_pool_error),
					]),
				),
				"no runner configs",
			),
		);
	},
};

const healthCheck: Command = {
	words: ["health-check"],
	usage: "<url> [--header 'name: value' ...]",
	summary: "ask the engine to fetch <url>/metadata, as it does before sending actors there",
	options: ["header"],
	details: "Example: inspect health-check http://127.0.0.1:3000/api/rivet",
	async run(ctx) {
		expectArgs(ctx.args, { min: 1, max: 1 }, `health-check ${this.usage}`);
		const url = ctx.args[0] ?? "";
		const result = await serverlessHealthCheck(ctx.engine, url, parseHeaders(ctx.options.header));
		// With --json the engine's answer is printed either way; a failure still exits 1.
		if (ctx.options.json) printJson(ctx.io, result);
		if (!result.ok) {
			throw new CommandFailure(`health check of ${url} failed: ${result.message} ${cell(result.metadata, 400)}`);
		}
		if (!ctx.options.json) ctx.io.stdout(`ok: ${url} answers, version ${result.version}\n`);
	},
};

const refreshMetadata: Command = {
	words: ["refresh-metadata"],
	usage: "<pool>",
	summary: "make the engine re-read a serverless pool's /metadata now",
	options: [],
	async run(ctx) {
		expectArgs(ctx.args, { min: 1, max: 1 }, `refresh-metadata ${this.usage}`);
		const pool = ctx.args[0] ?? "";
		await refreshRunnerMetadata(ctx.engine, pool);
		output(ctx, { pool, refreshed: true }, () => `refreshed metadata of pool "${pool}"`);
	},
};

export const runnerCommands: readonly Command[] = [pools, runners, runnerConfigs, healthCheck, refreshMetadata];
