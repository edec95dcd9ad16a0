// Shows a connection's status in words (not only a colour), announced to
// screen readers when it changes.

import type { LinkStatus } from "../lib/actor.ts";

const LABELS: Record<LinkStatus, string> = {
	idle: "not connected",
	connecting: "connecting…",
	live: "live",
	// The connection was live and is not now; it comes back by itself (lib/actor.ts).
	down: "connection lost, reconnecting…",
	refused: "refused",
};

export function ConnectionBadge({ status, label }: { status: LinkStatus; label: string }) {
	return (
		<span className={`badge badge-${status}`} role="status" aria-label={`${label} connection: ${LABELS[status]}`}>
			{LABELS[status]}
		</span>
	);
}
