// Counter panel: one counter actor, key `[name]` from the `?counter=` query
// parameter. A counter belongs to the first user who writes to it, so the
// default name is the signed-in user's id: everyone starts on a counter of
// their own, and a shared "demo" counter would belong to whoever clicked
// first. Opening someone else's counter by name shows that it is theirs
// (the actor answers `forbidden`) and offers the way back to your own.
//
// Flow: connect with `@rivetkit/react`'s `useActor` (lib/actor.ts keeps it
// live), read the count on every (re)connect with `getCount()`, then follow
// the `newCount` event (`useEvent`), which the actor sends after every change
// (a burst as its latest count, `COUNT_EVENT_INTERVAL_MS`), so every tab on
// the same counter shows the same number.
// "+1" and "+5" go through an outbox: each click gets a `requestId` and stays
// in the outbox, shown as waiting, until the actor has answered it. It is sent
// whenever the connection is live, and sent again with the same id after a
// timeout or a lost connection, which the actor answers without counting it
// twice. So a click during an outage is neither lost nor applied twice.
// "Add later" arms a schedule in the actor (`incrementLater`); it needs a
// live connection.

import { type FormEvent, useCallback, useEffect, useId, useRef, useState } from "react";
import { MAX_DELAY_MS, MAX_INCREMENT, type PendingTimer } from "../../../src/actors/counter/contract.ts";
import { ConnectionBadge } from "../components/ConnectionBadge.tsx";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { KeyForm } from "../components/KeyForm.tsx";
import { useConnectionPolicy, useLiveConnection } from "../lib/actor.ts";
import { describeError, isUserError } from "../lib/errors.ts";
import { newRequestId } from "../lib/ids.ts";
import { useActor } from "../lib/rivet.ts";
import { useNow } from "../lib/useNow.ts";
import { useSearchParam } from "../lib/useSearchParam.ts";

const STEPS = [1, 5] as const;
/** The actor's limits, so the browser can say no before the network. */
const MAX_AMOUNT = MAX_INCREMENT;
const MAX_DELAY_S = MAX_DELAY_MS / 1_000;
const DEFAULT_DELAY_S = 5;
const COUNTDOWN_TICK_MS = 1_000;
/** Wait before sending an unanswered increment again on a connection that still looks live. */
const OUTBOX_RETRY_MS = 1_000;

interface Outgoing {
	requestId: string;
	amount: number;
}

export function CounterPanel({ userId }: { userId: string }) {
	const [name, setName] = useSearchParam("counter", userId);
	const policy = useConnectionPolicy();
	const counter = useActor({ name: "counter", key: [name], params: policy.params, enabled: policy.enabled });
	const { connection, status, refusal, guard, tokenExpired } = useLiveConnection(policy, counter);
	const [count, setCount] = useState<number | null>(null);
	const [timers, setTimers] = useState<PendingTimer[]>([]);
	const [outbox, setOutbox] = useState<Outgoing[]>([]);
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState<unknown>(null);
	const sending = useRef(false);

	const refreshTimers = useCallback(async () => {
		if (!connection) return;
		setTimers(await connection.listTimers());
	}, [connection]);

	// A new counter name means a new actor: forget what the old one showed.
	// biome-ignore lint/correctness/useExhaustiveDependencies: `name` is the trigger, not an input.
	useEffect(() => {
		setCount(null);
		setTimers([]);
		setOutbox([]);
		setError(null);
	}, [name]);

	// Subscribed before the read below is sent (effects run in this order), so
	// no change falls between the read and the first event.
	counter.useEvent("newCount", (value: number) => {
		setCount(value);
		// A scheduled increment that just landed leaves the pending list.
		refreshTimers().catch(setError);
	});

	// Read the current value on every (re)connect; events only carry changes.
	useEffect(() => {
		if (!connection) return;
		let current = true;
		guard(Promise.all([connection.getCount(), connection.listTimers()])).then(
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
	}, [connection, guard]);

	// The outbox: the oldest click first, on a live connection, until answered.
	useEffect(() => {
		const next = outbox[0];
		if (!connection || !next || sending.current) return;
		sending.current = true;
		let retryTimer: ReturnType<typeof setTimeout> | undefined;
		guard(connection.increment(next.amount, { requestId: next.requestId }))
			.then(
				async () => {
					setOutbox((list) => list.filter((o) => o.requestId !== next.requestId));
					// A repeated id answers with the count of its first call, which
					// may be old by now: show the actor's count instead.
					setCount(await guard(connection.getCount()));
				},
				(e: unknown) => {
					if (isUserError(e) && e.code === "token_expired") {
						// Not a verdict on the click: the connection's token ran out.
						// The click stays queued and goes out, with the same id, on
						// the connection the next token opens.
						tokenExpired();
						retryTimer = setTimeout(() => setOutbox((list) => [...list]), OUTBOX_RETRY_MS);
						return;
					}
					if (isUserError(e)) {
						// Refused on purpose (e.g. over the limit): final, not retried.
						setOutbox((list) => list.filter((o) => o.requestId !== next.requestId));
						setError(e);
						return;
					}
					// Unknown outcome: the same id again, on this connection or the next one.
					retryTimer = setTimeout(() => setOutbox((list) => [...list]), OUTBOX_RETRY_MS);
				},
			)
			.catch(setError)
			.finally(() => {
				sending.current = false;
			});
		return () => clearTimeout(retryTimer);
	}, [connection, outbox, guard, tokenExpired]);

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
		// One id per click, kept until the actor answers: a retry cannot count the click twice.
		setError(null);
		setOutbox((list) => [...list, { requestId: newRequestId(), amount }]);
	}

	function incrementLater(amount: number, delayS: number) {
		if (!connection) return;
		void run(async () => {
			await guard(connection.incrementLater(amount, Math.round(delayS * 1_000)));
			await refreshTimers();
		});
	}

	// The actor refuses every read and write of a counter someone else owns.
	const notMine = describeError(error).code === "user.forbidden";
	const ready = connection !== null && status === "live" && !notMine;
	// Increments wait in the outbox while the connection is down; only a refusal stops them.
	const canQueue = status !== "refused" && status !== "idle" && !notMine;

	return (
		<section className="panel" aria-labelledby="counter-heading">
			<header className="panel-header">
				<h2 id="counter-heading">Counter</h2>
				<ConnectionBadge status={status} label="Counter" />
			</header>
			<KeyForm label="Counter name" value={name} onChange={setName} />
			{notMine ? (
				<div className="stack" role="alert">
					<p>This counter belongs to someone else: only its owner can see or change it.</p>
					<div className="row">
						<button type="button" className="secondary" onClick={() => setName(userId)}>
							Open my counter
						</button>
					</div>
				</div>
			) : null}
			<p className="count-line">
				<output className="count" aria-label="Count" aria-live="polite">
					{count ?? "–"}
				</output>
			</p>
			<fieldset className="row plain">
				<legend className="visually-hidden">Increment now</legend>
				{STEPS.map((step) => (
					<button key={step} type="button" disabled={!canQueue} onClick={() => increment(step)}>
						+{step}
					</button>
				))}
			</fieldset>
			{outbox.length > 0 ? (
				<ul className="outbox muted" aria-label="Waiting to be sent">
					{outbox.map((o) => (
						<li key={o.requestId}>+{o.amount} waiting to be sent</li>
					))}
				</ul>
			) : null}
			<LaterForm disabled={!ready || busy} onSubmit={incrementLater} />
			<TimerList timers={timers} />
			{notMine ? null : <ErrorNote error={error ?? refusal} />}
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
