// CLI commands on an actor's public gateway routes: what any client can do.

import { gatewayAction, gatewayHealth, gatewayMetadata, gatewayRequest, gatewaySendQueue } from "../gateway.ts";
import {
	ACTOR_OPTIONS,
	type Command,
	type CommandContext,
	expectArgs,
	output,
	parseCount,
	parseHeaders,
	parseLooseJson,
	parseStrictJson,
	takeActor,
} from "./command.ts";
import { CommandFailure, printJson, renderFields, UsageError } from "./output.ts";

const ACTOR = "<actor>";

/** `--params` are the connection params a client would pass (checked by the connect hooks). */
function connParams(ctx: CommandContext): { params?: unknown } {
	return ctx.options.params === undefined ? {} : { params: parseStrictJson(ctx.options.params, "--params") };
}

const health: Command = {
	words: ["gateway", "health"],
	usage: ACTOR,
	summary: "whether the actor answers (wakes it if asleep)",
	options: ACTOR_OPTIONS,
	async run(ctx) {
		const { actorId, rest } = await takeActor(ctx);
		expectArgs(rest, { min: 0, max: 0 }, `gateway health ${ACTOR}`);
		const answer = await gatewayHealth(ctx.engine, actorId);
		output(ctx, { actorId, health: answer }, () => `${actorId}: ${answer}`);
	},
};

const metadata: Command = {
	words: ["gateway", "metadata"],
	usage: ACTOR,
	summary: "the runtime and rivetkit version hosting the actor",
	options: ACTOR_OPTIONS,
	async run(ctx) {
		const { actorId, rest } = await takeActor(ctx);
		expectArgs(rest, { min: 0, max: 0 }, `gateway metadata ${ACTOR}`);
		const meta = await gatewayMetadata(ctx.engine, actorId);
		output(ctx, meta, () => renderFields(Object.entries(meta)));
	},
};

const call: Command = {
	words: ["gateway", "call"],
	usage: `${ACTOR} <action> [args...] [--params JSON]`,
	summary: "call an action as a client would (runs the connection hooks)",
	options: [...ACTOR_OPTIONS, "params"],
	async run(ctx) {
		const { actorId, rest } = await takeActor(ctx);
		const [action, ...args] = rest;
		if (action === undefined) throw new UsageError(`usage: inspect gateway call ${this.usage}`);
		const result = await gatewayAction(ctx.engine, actorId, action, args.map(parseLooseJson), connParams(ctx));
		output(ctx, { output: result }, () => (result === undefined ? "(no output)" : JSON.stringify(result, null, 2)));
	},
};

const send: Command = {
	words: ["gateway", "send"],
	usage: `${ACTOR} <queue> [json-body] [--wait] [--timeout MS] [--params JSON]`,
	summary: "send a queue message as a client would; --wait returns the actor's response",
	options: [...ACTOR_OPTIONS, "wait", "timeout", "params"],
	details: "rivetkit 2.3.19 silently drops messages for queue names the actor does not declare.",
	async run(ctx) {
		const { actorId, rest } = await takeActor(ctx);
		expectArgs(rest, { min: 1, max: 2 }, `gateway send ${this.usage}`);
		const [queue = "", body] = rest;
		const timeoutMs = parseCount(ctx.options.timeout, "--timeout");
		const result = await gatewaySendQueue(
			ctx.engine,
			actorId,
			queue,
			body === undefined ? null : parseLooseJson(body),
			{
				wait: ctx.options.wait ?? false,
				...(timeoutMs === undefined ? {} : { timeoutMs }),
				...connParams(ctx),
			},
		);
		if (ctx.options.json) printJson(ctx.io, result);
		if (result.status === "timedOut") throw new CommandFailure(`no response within the timeout (message stays queued)`);
		if (!ctx.options.json) {
			ctx.io.stdout(`${ctx.options.wait ? `completed: ${JSON.stringify(result.response ?? null)}` : "sent"}\n`);
		}
	},
};

const request: Command = {
	words: ["gateway", "request"],
	usage: `${ACTOR} <path> [--method M] [--body TEXT] [--header 'name: value' ...] [--params JSON]`,
	summary: "forward an HTTP request to the actor's onRequest and print the response",
	options: [...ACTOR_OPTIONS, "method", "body", "header", "params"],
	async run(ctx) {
		const { actorId, rest } = await takeActor(ctx);
		expectArgs(rest, { min: 1, max: 1 }, `gateway request ${this.usage}`);
		const res = await gatewayRequest(ctx.engine, actorId, rest[0] ?? "/", {
			...(ctx.options.method ? { method: ctx.options.method } : {}),
			...(ctx.options.body === undefined ? {} : { body: ctx.options.body }),
			headers: parseHeaders(ctx.options.header),
			...connParams(ctx),
		});
		const text = await res.text();
		const contentType = res.headers.get("content-type") ?? "";
		output(
			ctx,
			{ status: res.status, contentType, body: contentType.includes("json") ? parseLooseJson(text) : text },
			() => `HTTP ${res.status}${contentType ? ` (${contentType})` : ""}\n${text}`.trimEnd(),
		);
		if (!res.ok) throw new CommandFailure(`the actor answered HTTP ${res.status}`);
	},
};

export const gatewayCommands: readonly Command[] = [health, metadata, call, send, request];
