// The sign-in screen: a display name, and for operators the operator token.
//
// The server issues the user id; the name is only a label others see. The
// operator token is typed by a person who has it, sent once in the sign-in
// request's `Authorization` header and never stored; no build of this app
// contains it.

import { type FormEvent, useId, useState } from "react";
import { describeError } from "../lib/errors.ts";
import { session } from "../lib/session.ts";

/** The server's limit on display names (`MAX_DISPLAY_NAME_LENGTH` in src/auth). */
const MAX_NAME_LENGTH = 32;

export function SignIn({ note }: { note?: string | undefined }) {
	const nameId = useId();
	const operatorId = useId();
	const [name, setName] = useState("");
	const [operatorToken, setOperatorToken] = useState("");
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState<string | null>(null);

	async function submit(event: FormEvent) {
		event.preventDefault();
		setBusy(true);
		setError(null);
		try {
			await session.signIn(name.trim(), operatorToken.trim() || undefined);
		} catch (e) {
			setError(describeError(e).message);
		} finally {
			setBusy(false);
		}
	}

	return (
		<section className="panel" aria-labelledby="sign-in-heading">
			<header className="panel-header">
				<h2 id="sign-in-heading">Sign in</h2>
			</header>
			<form className="stack" onSubmit={submit} aria-label="Sign in">
				{note ? <p className="muted">{note}</p> : null}
				<div className="field">
					<label htmlFor={nameId}>Display name</label>
					<input
						id={nameId}
						required
						maxLength={MAX_NAME_LENGTH}
						autoComplete="nickname"
						value={name}
						onChange={(e) => setName(e.target.value)}
					/>
				</div>
				<details>
					<summary>Operator?</summary>
					<div className="field">
						<label htmlFor={operatorId}>Operator token</label>
						<input
							id={operatorId}
							type="password"
							autoComplete="off"
							value={operatorToken}
							onChange={(e) => setOperatorToken(e.target.value)}
						/>
					</div>
				</details>
				<div className="row">
					<button type="submit" disabled={busy}>
						Sign in
					</button>
				</div>
				{error ? (
					<p className="error" role="alert">
						{error}
					</p>
				) : null}
			</form>
		</section>
	);
}
