// Counter panel: one counter actor, key `[name]` from the `?counter=` query
// parameter (default "demo").
//
// Flow: connect with `useActor`, read the count once with `getCount()`, then
// follow the `newCount` event, which the actor broadcasts after every change,
// so every tab on the same counter shows the same number. Increments carry a
// `requestId`, which makes retrying them safe. "Add later" arms a schedule in
// the actor (`incrementLater`); when it fires the event updates the count.

import { type FormEvent, useCallback, useEffect, useId, useState } from "react";
import { MAX_DELAY_MS, MAX_INCREMENT, type PendingTimer } from "../../../src/actors/counter/contract.ts";
import { ConnectionBadge } from "../components/ConnectionBadge.tsx";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { KeyForm } from "../components/KeyForm.tsx";
import { newRequestId } from "../lib/ids.ts";
import { retryIdempotent } from "../lib/retry.ts";
import { useActor } from "../lib/rivet.ts";
import { useNow } from "../lib/useNow.ts";
import { useSearchParam } from "../lib/useSearchParam.ts";

const STEPS = [1, 5] as const;
/** The actor's limits, so the browser can say no before the network. */
const MAX_AMOUNT = MAX_INCREMENT;
const MAX_DELAY_S = MAX_DELAY_MS / 1_000;
const DEFAULT_DELAY_S = 5;
const COUNTDOWN_TICK_MS = 1_000;

export function CounterPanel() {
	const [name, setName] = useSearchParam("counter", "demo");
	const counter = useActor({ name: "counter", key: [name] });
	const { connection, connStatus } = counter;
	const [count, setCount] = useState<number | null>(null);
	const [timers, setTimers] = useState<PendingTimer[]>([]);
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState<unknown>(null);

	const refreshTimers = useCallback(async () => {
		if (!connection) return;
		setTimers(await connection.listTimers());
	}, [connection]);

	// A new counter name means a new actor: forget what the old one showed.
	// biome-ignore lint/correctness/useExhaustiveDependencies: `name` is the trigger, not an input.
	useEffect(() => {
		setCount(null);
		setTimers([]);
		setError(null);
	}, [name]);

	// Read the current value on every (re)connect; events only carry changes.
	useEffect(() => {
		if (!connection || connStatus !== "connected") return;
		let current = true;
		Promise.all([connection.getCount(), connection.listTimers()]).then(
			([value, pending]) => {
				if (!current) return;
				setCount(value);
				setTimers(pending);
			},
			(e: unknown) => current && setError(e),
		);
		return () => {
			current = false;
		};
	}, [connection, connStatus]);

	counter.useEvent("newCount", (value: number) => {
		setCount(value);
		// A scheduled increment that just landed leaves the pending list.
		refreshTimers().catch(setError);
	});

	async function run(action: () => Promise<unknown>) {
		setBusy(true);
		setError(null);
		try {
			await action();
		} catch (e) {
			setError(e);
		} finally {
			setBusy(false);
		}
	}

	function increment(amount: number) {
		if (!connection) return;
		// One id per click: a retry after a timeout cannot count the click twice.
		const requestId = newRequestId();
		void run(async () => setCount(await retryIdempotent(() => connection.increment(amount, { requestId }))));
	}

	function incrementLater(amount: number, delayS: number) {
		if (!connection) return;
		void run(async () => {
			await connection.incrementLater(amount, Math.round(delayS * 1_000));
			await refreshTimers();
		});
	}

	const ready = connection !== null && connStatus === "connected";

	return (
		<section className="panel" aria-labelledby="counter-heading">
			<header className="panel-header">
				<h2 id="counter-heading">Counter</h2>
				<ConnectionBadge status={connStatus} label="Counter" />
			</header>
			<KeyForm label="Counter name" value={name} onChange={setName} />
			<p className="count-line">
				<output className="count" aria-label="Count" aria-live="polite">
					{count ?? "–"}
				</output>
			</p>
			<fieldset className="row plain">
				<legend className="visually-hidden">Increment now</legend>
				{STEPS.map((step) => (
					<button key={step} type="button" disabled={!ready || busy} onClick={() => increment(step)}>
						+{step}
					</button>
				))}
			</fieldset>
			<LaterForm disabled={!ready || busy} onSubmit={incrementLater} />
			<TimerList timers={timers} />
			<ErrorNote error={error ?? counter.error} />
		</section>
	);
}

function LaterForm({ disabled, onSubmit }: { disabled: boolean; onSubmit: (amount: number, delayS: number) => void }) {
	const amountId = useId();
	const delayId = useId();
	const [amount, setAmount] = useState(1);
	const [delayS, setDelayS] = useState(DEFAULT_DELAY_S);

	function submit(event: FormEvent) {
		event.preventDefault();
		onSubmit(amount, delayS);
	}

	return (
		<form className="row" onSubmit={submit} aria-label="Delayed increment">
			<span className="pair">
				<label htmlFor={amountId}>Add</label>
				<input
					id={amountId}
					type="number"
					inputMode="numeric"
					min={1}
					max={MAX_AMOUNT}
					step={1}
					required
					value={amount}
					onChange={(e) => setAmount(e.target.valueAsNumber)}
				/>
			</span>
			<span className="pair">
				<label htmlFor={delayId}>after (seconds)</label>
				<input
					id={delayId}
					type="number"
					inputMode="decimal"
					min={0}
					max={MAX_DELAY_S}
					step="any"
					required
					value={delayS}
					onChange={(e) => setDelayS(e.target.valueAsNumber)}
				/>
			</span>
			<button type="submit" disabled={disabled}>
				Add later
			</button>
		</form>
	);
}

function TimerList({ timers }: { timers: PendingTimer[] }) {
	const now = useNow(COUNTDOWN_TICK_MS, timers.length > 0);
	if (timers.length === 0) return null;
	return (
		<ul className="timers" aria-label="Scheduled changes">
			{timers.map((t) => (
				<li key={t.id}>
					{t.kind === "reset" ? "reset to 0" : `+${t.amount}`} at {new Date(t.runAt).toLocaleTimeString()}{" "}
					<span className="muted">(in {Math.max(0, Math.ceil((t.runAt - now) / 1_000))} s)</span>
				</li>
			))}
		</ul>
	);
}
