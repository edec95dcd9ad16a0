// CLI commands on the management API: actors, names, create, KV.

import {
	type Actor,
	createActor,
	getOrCreateActor,
	listActorNames,
	listActors,
	listFleet,
	readActorKv,
} from "../management.ts";
import {
	type Command,
	type CommandContext,
	expectArgs,
	output,
	parseCount,
	parseKeyArg,
	takeActor,
} from "./command.ts";
import { CommandFailure, formatTime, renderTable, UsageError } from "./output.ts";

/** Where an actor is in its life, from the engine's timestamps. */
export function actorStatus(actor: Actor): string {
	if (actor.destroy_ts) return "destroyed";
	if (actor.sleep_ts) return "sleeping";
	if (actor.connectable_ts) return "running";
	if (actor.start_ts) return "starting";
	if (actor.pending_allocation_ts) return "pending";
	return "created";
}

function actorTable(actors: readonly Actor[]): string {
	return renderTable(
		["NAME", "KEY", "ID", "STATUS", "POOL", "CREATED"],
		actors.map((a) => [a.name, a.key, a.actor_id, actorStatus(a), a.runner_name_selector, formatTime(a.create_ts)]),
		"no actors",
	);
}

/** Refuses names the app has not registered: the engine would create an actor no server can run. */
async function assertKnownName(ctx: CommandContext, name: string): Promise<void> {
	const names = await listActorNames(ctx.engine);
	if (!names.some((n) => n.name === name)) {
		const known = names.map((n) => n.name).join(", ") || "none yet";
		throw new CommandFailure(
			`no actor named "${name}" is registered in namespace "${ctx.engine.namespace}" (known: ${known})`,
		);
	}
}

const actors: Command = {
	words: ["actors"],
	usage: "[--name NAME [--key KEY]] [--id ID ...] [--limit N] [--cursor C] [--include-destroyed]",
	summary: "list actors: the whole fleet, by name, by name + key, or by ids",
	options: ["name", "key", "id", "limit", "cursor", "include-destroyed"],
	details:
		"Without filters, lists every registered name's actors (first page of each).\nA key starting with [ is a JSON array (a compound rivetkit key).",
	async run(ctx) {
		expectArgs(ctx.args, { min: 0, max: 0 }, `actors ${this.usage}`);
		const { name, key, id, cursor } = ctx.options;
		const limit = parseCount(ctx.options.limit, "--limit");
		const includeDestroyed = ctx.options["include-destroyed"];
		if (name === undefined && key === undefined && id === undefined) {
			if (cursor !== undefined) throw new UsageError("--cursor needs --name or --id");
			const fleet = await listFleet(ctx.engine, {
				includeDestroyed: includeDestroyed ?? false,
				...(limit ? { limitPerName: limit } : {}),
			});
			output(ctx, fleet, () => {
				const table = actorTable(fleet.flatMap((entry) => entry.actors));
				const more = fleet.filter((entry) => entry.cursor !== null).map((entry) => entry.name);
				return more.length > 0 ? `${table}\n(more ${more.join(", ")} actors: use --name and --cursor)` : table;
			});
			return;
		}
		const page = await listActors(ctx.engine, {
			name,
			key: key === undefined ? undefined : parseKeyArg(key),
			ids: id,
			includeDestroyed,
			limit,
			cursor,
		});
		output(ctx, page, () => {
			const full = limit !== undefined && page.actors.length >= limit && page.cursor !== null;
			return full ? `${actorTable(page.actors)}\n(next page: --cursor ${page.cursor})` : actorTable(page.actors);
		});
	},
};

const names: Command = {
	words: ["names"],
	usage: "",
	summary: "actor names the app has registered with the engine",
	options: [],
	async run(ctx) {
		expectArgs(ctx.args, { min: 0, max: 0 }, "names");
		const list = await listActorNames(ctx.engine);
		output(ctx, list, () =>
			renderTable(
				["NAME", "DISPLAY NAME", "ICON"],
				list.map((n) => [n.name, n.metadata.name, n.metadata.icon]),
				"no actor names registered (has the app served /api/rivet/metadata to this engine?)",
			),
		);
	},
};

const create: Command = {
	words: ["create"],
	usage: "<name> [--key KEY]",
	summary: "create a new actor (fails if the key is taken)",
	options: ["key"],
	async run(ctx) {
		expectArgs(ctx.args, { min: 1, max: 1 }, `create ${this.usage}`);
		const name = ctx.args[0] ?? "";
		await assertKnownName(ctx, name);
		const key = ctx.options.key === undefined ? undefined : parseKeyArg(ctx.options.key);
		const actor = await createActor(ctx.engine, { name, key });
		output(ctx, actor, () => actorTable([actor]));
	},
};

const getOrCreate: Command = {
	words: ["get-or-create"],
	usage: "<name> <key>",
	summary: "the actor with this name + key, created if missing",
	options: [],
	async run(ctx) {
		expectArgs(ctx.args, { min: 2, max: 2 }, `get-or-create ${this.usage}`);
		const [name = "", key = ""] = ctx.args;
		await assertKnownName(ctx, name);
		const result = await getOrCreateActor(ctx.engine, { name, key: parseKeyArg(key) });
		output(ctx, result, () => `${actorTable([result.actor])}\n(${result.created ? "created" : "already existed"})`);
	},
};

const kv: Command = {
	words: ["kv"],
	usage: "<actor> <kv-key>",
	summary: "read one key of the actor's KV (text, or base64:... for bytes)",
	options: ["id"],
	details:
		"<actor> is <name> <key>, or --id ID. The inspector token lives at base64:Aw== (byte 0x03).\nSince rivetkit moved actor storage to SQLite this KV is a frozen snapshot, except for that token.",
	async run(ctx) {
		const { actorId, rest } = await takeActor(ctx);
		expectArgs(rest, { min: 1, max: 1 }, `kv ${this.usage}`);
		const raw = rest[0] ?? "";
		const key = raw.startsWith("base64:") ? new Uint8Array(Buffer.from(raw.slice(7), "base64")) : raw;
		const entry = await readActorKv(ctx.engine, actorId, key);
		if (entry === null) throw new CommandFailure(`actor ${actorId} has no KV key ${raw}`);
		const text = new TextDecoder("utf-8", { fatal: false }).decode(entry.value);
		const json = {
			actorId,
			key: raw,
			base64: Buffer.from(entry.value).toString("base64"),
			text,
			updateTs: entry.updateTs,
		};
		output(ctx, json, () => (isPrintable(text) ? text : `base64:${json.base64}`));
	},
};

function isPrintable(text: string): boolean {
	// biome-ignore lint/suspicious/noControlCharactersInRegex: detecting control characters is the point.
	return !/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text);
}

export const fleetCommands: readonly Command[] = [actors, names, create, getOrCreate, kv];
