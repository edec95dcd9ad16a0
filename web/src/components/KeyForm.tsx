// Picks which actor a panel shows: a labelled text field applied on submit,
// so typing does not create an actor per keystroke.

import { type FormEvent, useEffect, useId, useState } from "react";

/** Actor keys are user input; the actors validate them, this only trims. */
const MAX_KEY_LENGTH = 64;

export function KeyForm({
	label,
	value,
	onChange,
	buttonLabel = "Open",
}: {
	label: string;
	value: string;
	onChange: (value: string) => void;
	buttonLabel?: string;
}) {
	const id = useId();
	const [draft, setDraft] = useState(value);
	useEffect(() => setDraft(value), [value]);

	function submit(event: FormEvent) {
		event.preventDefault();
		const next = draft.trim();
		if (next.length > 0 && next !== value) onChange(next);
	}

	return (
		<form className="row" onSubmit={submit}>
			<label htmlFor={id}>{label}</label>
			<input
				id={id}
				value={draft}
				maxLength={MAX_KEY_LENGTH}
				autoComplete="off"
				spellCheck={false}
				onChange={(e) => setDraft(e.target.value)}
			/>
			<button type="submit">{buttonLabel}</button>
		</form>
	);
}
