// Stops retrying a connection the actor refused.
//
// An actor refuses a connection by throwing a `UserError` in
// `onBeforeConnect` (bad params, wrong token, foreign origin). The connection
// then goes idle with that error, but `@rivetkit/react` 2.3.11 recreates every
// idle connection of an enabled actor at once: a refused connection is
// retried in a tight loop, and its error is cleared before it can be shown.
//
// Usage: keep the refusal in state, connect only while there is none, and let
// this hook fill it from the connection's own error callback:
//
//   const [refusal, setRefusal] = useState<unknown>(null);
//   const room = useActor({ name: "chatRoom", key, params, enabled: refusal === null });
//   useRefusal(room.connection, setRefusal);

import { useEffect } from "react";
import { isUserError } from "./errors.ts";

interface ErrorSource {
	onError(callback: (error: unknown) => void): () => void;
}

export function useRefusal(connection: ErrorSource | null, onRefused: (error: unknown) => void): void {
	useEffect(() => {
		if (!connection) return;
		return connection.onError((error) => {
			if (isUserError(error)) onRefused(error);
		});
	}, [connection, onRefused]);
}
