// Fleet panel: every actor the engine knows, grouped by kind, with what it is
// doing (starting, awake, sleeping, crashed). Read-only.
//
// Flow: polls the app's own `GET /api/fleet` (see `src/fleet.ts`), which asks
// the engine with the server's credentials; the browser never sees the
// engine's token. The route is for operators: the page sends the signed-in
// user's access token, which the server accepts when its role is operator.
// Everyone else sees "operators only" and no polling. The engine has no push
// feed for this, so the panel refreshes every few seconds while the tab is
// visible, and on demand; its badge says whether the last refresh worked.

import { useCallback, useEffect, useState } from "react";
import type { FleetActorStatus, FleetGroup, FleetView } from "../../../src/fleet.ts";
import { ConnectionBadge } from "../components/ConnectionBadge.tsx";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { session } from "../lib/session.ts";

const REFRESH_INTERVAL_MS = 3_000;
const FLEET_URL = "/api/fleet";

const STATUS_LABELS: Record<FleetActorStatus, string> = {
	starting: "starting",
	awake: "awake",
	sleeping: "sleeping",
	crashed: "crashed",
	destroyed: "destroyed",
};

/** How long one refresh may take before the panel counts the server as unreachable. */
const FLEET_TIMEOUT_MS = 5_000;

async function fetchFleet(): Promise<FleetView> {
	const { token } = await session.connParams();
	const res = await fetch(FLEET_URL, {
		headers: { accept: "application/json", authorization: `Bearer ${token}` },
		signal: AbortSignal.timeout(FLEET_TIMEOUT_MS),
	});
	let body: FleetView | { code?: string; message?: string } = {};
	try {
		body = (await res.json()) as typeof body;
	} catch {
		// A proxy's error page: reported by status below.
	}
	if (!res.ok || !("groups" in body)) {
		const message = "message" in body ? body.message : undefined;
		throw new Error(message ?? `GET ${FLEET_URL} answered ${res.status}`);
	}
	return body as FleetView;
}

export function FleetPanel({ operator }: { operator: boolean }) {
	if (!operator) {
		return (
			<section className="panel" aria-labelledby="fleet-heading">
				<header className="panel-header">
					<h2 id="fleet-heading">Fleet</h2>
				</header>
				<p className="muted">Operators only: sign in with the operator token to see every actor.</p>
			</section>
		);
	}
	return <OperatorFleet />;
}

function OperatorFleet() {
	const [fleet, setFleet] = useState<FleetView | null>(null);
	const [error, setError] = useState<unknown>(null);
	const [loading, setLoading] = useState(false);
	const [reachable, setReachable] = useState<boolean | null>(null);

	const refresh = useCallback(async () => {
		setLoading(true);
		try {
			setFleet(await fetchFleet());
			setError(null);
			setReachable(true);
		} catch (e) {
			setError(e);
			setReachable(false);
		} finally {
			setLoading(false);
		}
	}, []);

	const enabled = fleet?.enabled !== false;
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
				<span className="row">
					<ConnectionBadge status={reachable === null ? "connecting" : reachable ? "live" : "down"} label="Fleet" />
					<button type="button" className="secondary" onClick={() => void refresh()} disabled={loading}>
						Refresh
					</button>
				</span>
			</header>
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
