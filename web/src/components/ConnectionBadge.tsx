// Shows a connection's status in words (not only a colour), announced to
// screen readers when it changes.

import type { ActorConnStatus } from "@rivetkit/react";

const LABELS: Record<ActorConnStatus, string> = {
	idle: "not connected",
	connecting: "connecting…",
	connected: "live",
	// rivetkit reconnects a dropped connection by itself until it is disposed.
	disconnected: "reconnecting…",
};

export function ConnectionBadge({ status, label }: { status: ActorConnStatus; label: string }) {
	return (
		<span className={`badge badge-${status}`} role="status" aria-label={`${label} connection: ${LABELS[status]}`}>
			{LABELS[status]}
		</span>
	);
}
