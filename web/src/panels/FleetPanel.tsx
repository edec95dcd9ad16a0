// Fleet panel: every actor the engine knows, grouped by kind, with what it is
// doing (starting, awake, sleeping, crashed). Read-only.
//
// Flow: polls the app's own `GET /api/fleet` (see `src/fleet.ts`), which asks
// the engine with the server's credentials; the browser never sees an engine
// token. The view is for operators: the panel asks for the operator token
// (kept in this tab's sessionStorage only) and sends it as a Bearer token;
// without one it asks nothing of the server. The engine has no push feed for
// this, so the panel refreshes every few seconds while the tab is visible.

import { useCallback, useEffect, useState } from "react";
import type { FleetActorStatus, FleetGroup, FleetView } from "../../../src/fleet.ts";
import { ErrorNote } from "../components/ErrorNote.tsx";

const REFRESH_INTERVAL_MS = 3_000;
const FLEET_URL = "/api/fleet";
/** Where this tab keeps the operator token (never localStorage: it must not outlive the tab). */
const OPERATOR_TOKEN_KEY = "actor-fleet.operator-token";

const STATUS_LABELS: Record<FleetActorStatus, string> = {
	starting: "starting",
	awake: "awake",
	sleeping: "sleeping",
	crashed: "crashed",
	destroyed: "destroyed",
};

async function fetchFleet(operatorToken: string): Promise<FleetView> {
	const res = await fetch(FLEET_URL, {
		headers: { accept: "application/json", authorization: `Bearer ${operatorToken}` },
	});
	const body = (await res.json()) as FleetView | { code: string; message: string };
	if (!res.ok || !("groups" in body)) {
		throw new Error("message" in body ? body.message : `GET ${FLEET_URL} answered ${res.status}`);
	}
	return body;
}

export function FleetPanel() {
	const [fleet, setFleet] = useState<FleetView | null>(null);
	const [error, setError] = useState<unknown>(null);
	const [loading, setLoading] = useState(false);
	const [operatorToken, setOperatorToken] = useState(() => sessionStorage.getItem(OPERATOR_TOKEN_KEY) ?? "");

	const refresh = useCallback(async () => {
		if (operatorToken === "") return;
		setLoading(true);
		try {
			setFleet(await fetchFleet(operatorToken));
			setError(null);
		} catch (e) {
			setError(e);
		} finally {
			setLoading(false);
		}
	}, [operatorToken]);

	const enabled = operatorToken !== "" && fleet?.enabled !== false;
	useEffect(() => {
		if (!enabled) return;
		void refresh();
		const timer = setInterval(() => {
			if (document.visibilityState === "visible") void refresh();
		}, REFRESH_INTERVAL_MS);
		return () => clearInterval(timer);
	}, [enabled, refresh]);

	return (
		<section className="panel" aria-labelledby="fleet-heading">
			<header className="panel-header">
				<h2 id="fleet-heading">Fleet</h2>
				<button
					type="button"
					className="secondary"
					onClick={() => void refresh()}
					disabled={loading || operatorToken === ""}
				>
					Refresh
				</button>
			</header>
			<form
				className="row"
				onSubmit={(event) => {
					event.preventDefault();
					const value = String(new FormData(event.currentTarget).get("operator-token") ?? "").trim();
					sessionStorage.setItem(OPERATOR_TOKEN_KEY, value);
					setFleet(null);
					setOperatorToken(value);
				}}
			>
				<label>
					Operator token
					<input name="operator-token" type="password" autoComplete="off" defaultValue={operatorToken} />
				</label>
				<button type="submit" className="secondary">
					Show
				</button>
			</form>
			{operatorToken === "" ? <p className="muted">The fleet view is for operators.</p> : null}
			<ErrorNote error={error} />
			{fleet === null ? null : !fleet.enabled ? (
				<p className="muted">The fleet view is off on this server (set FLEET_VIEW=on to show it).</p>
			) : (
				<>
					<p className="muted" aria-live="polite">
						{countActors(fleet.groups)} actors, updated {new Date(fleet.fetchedAt).toLocaleTimeString()}
					</p>
					{fleet.groups.map((group) => (
						<FleetTable key={group.name} group={group} />
					))}
				</>
			)}
		</section>
	);
}

function countActors(groups: FleetGroup[]): number {
	return groups.reduce((n, g) => n + g.actors.length, 0);
}

function FleetTable({ group }: { group: FleetGroup }) {
	return (
		<div className="table-wrap">
			<table>
				<caption>
					{group.displayName} <span className="muted">({group.name})</span>
				</caption>
				<thead>
					<tr>
						<th scope="col">Key</th>
						<th scope="col">Status</th>
						<th scope="col">Created</th>
					</tr>
				</thead>
				<tbody>
					{group.actors.length === 0 ? (
						<tr>
							<td colSpan={3} className="muted">
								none yet
							</td>
						</tr>
					) : null}
					{group.actors.map((actor) => (
						<tr key={actor.id}>
							<th scope="row" className="key-cell">
								<span title={actor.id}>{actor.key ?? "(no key)"}</span>
							</th>
							<td>
								<span className={`status status-${actor.status}`}>
									<span aria-hidden="true">● </span>
									{STATUS_LABELS[actor.status]}
								</span>
							</td>
							<td className="nowrap">{new Date(actor.createdAt).toLocaleTimeString()}</td>
						</tr>
					))}
				</tbody>
			</table>
			{group.more ? <p className="muted">More {group.name} actors exist than are listed here.</p> : null}
		</div>
	);
}
