// One error, shown where it happened, with the actor's code when it has one.

import { describeError } from "../lib/errors.ts";

export function ErrorNote({ error }: { error: unknown }) {
	if (error === null || error === undefined) return null;
	const { code, message } = describeError(error);
	return (
		<p className="error" role="alert">
			{message}
			{code ? <code className="error-code">{code}</code> : null}
		</p>
	);
}
