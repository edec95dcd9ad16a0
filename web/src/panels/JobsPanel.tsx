// Jobs panel: a batch of jobs run by a coordinator actor (key `[batchId]`)
// across worker actors (key `[<batchId>.w<n>]`).
//
// Flow: the form picks a preset and a new batch id (kept in `?batch=`); the
// batch view connects to that coordinator and calls `submit`, which is safe
// to repeat. Per-worker progress bars follow the coordinator's `progress`
// events; each worker row also connects to its worker and shows the chunk
// progress of the job it is running (operators only: workers take orders from
// the server, and their progress is for operators). On `finished`, and on
// every reconnect of a finished batch, the view loads `results()`.

import { type FormEvent, useCallback, useEffect, useId, useState } from "react";
import {
	type BatchJobResult,
	type BatchStatus,
	type JobProgress,
	MAX_WORKERS,
	type SubmitRequest,
	type WorkerTally,
} from "../../../src/actors/jobs/contract.ts";
import { ConnectionBadge } from "../components/ConnectionBadge.tsx";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { useConnectionPolicy, useLiveConnection } from "../lib/actor.ts";
import { newRequestId } from "../lib/ids.ts";
import { useActor } from "../lib/rivet.ts";
import { useSearchParam } from "../lib/useSearchParam.ts";
import { PRESETS } from "./jobs-presets.ts";

/** Bounds offered by the form: fewer jobs than a batch may hold (`MAX_BATCH_ITEMS`), every worker it may use. */
const MAX_FORM_JOBS = 50;
const MAX_FORM_WORKERS = MAX_WORKERS;
const DEFAULT_JOBS = 8;
const DEFAULT_WORKERS = 3;
/**
 * While a batch runs, how often the view re-reads its status. Events can be
 * missed: a connection the engine kept open while the app server was down
 * (see docs/web.md) hears nothing until the coordinator is back, and the
 * batch may have moved on meanwhile. A running batch keeps its coordinator
 * awake anyway (its sweep), so the check wakes nothing that would sleep.
 */
const RUNNING_STATUS_CHECK_MS = 10_000;

export function JobsPanel({ operator }: { operator: boolean }) {
	const [batchId, setBatchId] = useSearchParam("batch", "");
	// Only the tab that created the batch submits it; a reload or a shared
	// link shows the batch as it is.
	const [pending, setPending] = useState<{ batchId: string; request: SubmitRequest } | null>(null);

	function start(request: SubmitRequest) {
		const id = `batch-${newRequestId().slice(0, 10)}`;
		setPending({ batchId: id, request });
		setBatchId(id);
	}

	return (
		<section className="panel" aria-labelledby="jobs-heading">
			<header className="panel-header">
				<h2 id="jobs-heading">Jobs</h2>
			</header>
			<BatchForm onSubmit={start} />
			{batchId ? (
				<BatchView
					key={batchId}
					batchId={batchId}
					request={pending?.batchId === batchId ? pending.request : null}
					operator={operator}
				/>
			) : null}
		</section>
	);
}

function BatchForm({ onSubmit }: { onSubmit: (request: SubmitRequest) => void }) {
	const presetId = useId();
	const jobsId = useId();
	const workersId = useId();
	const [preset, setPreset] = useState(PRESETS[0]?.id ?? "");
	const [jobs, setJobs] = useState(DEFAULT_JOBS);
	const [workers, setWorkers] = useState(DEFAULT_WORKERS);

	function submit(event: FormEvent) {
		event.preventDefault();
		const chosen = PRESETS.find((p) => p.id === preset);
		if (chosen) onSubmit({ items: chosen.build(jobs), workers });
	}

	return (
		<form className="stack" onSubmit={submit} aria-label="New batch">
			<div className="field">
				<label htmlFor={presetId}>Jobs</label>
				<select id={presetId} value={preset} onChange={(e) => setPreset(e.target.value)}>
					{PRESETS.map((p) => (
						<option key={p.id} value={p.id}>
							{p.label}
						</option>
					))}
				</select>
			</div>
			<div className="row">
				<span className="pair">
					<label htmlFor={jobsId}>How many</label>
					<input
						id={jobsId}
						type="number"
						inputMode="numeric"
						min={1}
						max={MAX_FORM_JOBS}
						required
						value={jobs}
						onChange={(e) => setJobs(e.target.valueAsNumber)}
					/>
				</span>
				<span className="pair">
					<label htmlFor={workersId}>Workers</label>
					<input
						id={workersId}
						type="number"
						inputMode="numeric"
						min={1}
						max={MAX_FORM_WORKERS}
						required
						value={workers}
						onChange={(e) => setWorkers(e.target.valueAsNumber)}
					/>
				</span>
				<button type="submit">Run batch</button>
			</div>
		</form>
	);
}

/** Events can arrive out of order; a batch only ever moves forward. */
function newer(current: BatchStatus | null, next: BatchStatus): BatchStatus {
	if (current === null || next.state === "done") return next;
	if (current.state === "done") return current;
	return next.done + next.failed >= current.done + current.failed ? next : current;
}

function BatchView({
	batchId,
	request,
	operator,
}: {
	batchId: string;
	request: SubmitRequest | null;
	operator: boolean;
}) {
	const policy = useConnectionPolicy();
	const coordinator = useActor({ name: "coordinator", key: [batchId], params: policy.params, enabled: policy.enabled });
	const { connection, status: linkStatus, refusal, guard } = useLiveConnection(policy, coordinator);
	const [status, setStatus] = useState<BatchStatus | null>(null);
	const [results, setResults] = useState<BatchJobResult[] | null>(null);
	const [error, setError] = useState<unknown>(null);

	const update = useCallback((next: BatchStatus) => setStatus((current) => newer(current, next)), []);

	const loadResults = useCallback(async () => {
		if (!connection) return;
		setResults(await guard(connection.results()));
	}, [connection, guard]);

	// Subscribed before the call below is sent (effects run in this order), so
	// no progress falls between its answer and the first event.
	coordinator.useEvent("progress", (s: BatchStatus) => update(s));
	coordinator.useEvent("finished", (s: BatchStatus) => {
		update(s);
		loadResults().catch(setError);
	});

	// On every (re)connect: submit (the same request again is answered with
	// the batch's status, so this is safe after a reconnect), or just read.
	useEffect(() => {
		if (!connection) return;
		let current = true;
		const first = request ? connection.submit(request) : connection.status();
		guard(first)
			.then(async (s) => {
				if (!current) return;
				update(s);
				setError(null);
				if (s.state === "done") setResults(await guard(connection.results()));
			})
			.catch((e: unknown) => current && setError(e));
		return () => {
			current = false;
		};
	}, [connection, request, update, guard]);

	// While the batch runs: re-read its status now and then (see RUNNING_STATUS_CHECK_MS).
	const running = status?.state === "running";
	useEffect(() => {
		if (!connection || !running) return;
		let current = true;
		const timer = setInterval(() => {
			guard(connection.status())
				.then(async (s) => {
					if (!current) return;
					update(s);
					if (s.state === "done") setResults(await guard(connection.results()));
				})
				// A failed check changes nothing on screen: the badge already says
				// when the connection is down, and the next check tries again.
				.catch(() => {});
		}, RUNNING_STATUS_CHECK_MS);
		return () => {
			current = false;
			clearInterval(timer);
		};
	}, [connection, running, update, guard]);

	const finishedCount = status ? status.done + status.failed : 0;

	return (
		<div className="stack">
			<div className="row spread">
				<p className="room-line">
					Batch <code>{batchId}</code>
				</p>
				<ConnectionBadge status={linkStatus} label="Batch" />
			</div>
			<ErrorNote error={error ?? refusal} />
			{status === null ? null : status.state === "empty" ? (
				<p className="muted">This batch has not been submitted.</p>
			) : (
				<>
					<p role="status" aria-label="Batch progress">
						{status.state === "done" ? "Done" : "Running"}: {finishedCount} of {status.total} jobs finished
						{status.failed > 0 ? `, ${status.failed} failed` : ""}
					</p>
					<progress max={status.total} value={finishedCount} aria-label="All jobs" />
					<ul className="workers" aria-label="Workers">
						{status.workers.map((w) => (
							<WorkerRow key={w.workerId} tally={w} operator={operator} />
						))}
					</ul>
				</>
			)}
			{results ? <ResultTable results={results} /> : null}
		</div>
	);
}

function WorkerRow({ tally, operator }: { tally: WorkerTally; operator: boolean }) {
	// The worker's own connection, for the job it is running right now.
	const policy = useConnectionPolicy({ enabled: operator });
	const worker = useActor({ name: "worker", key: [tally.workerId], params: policy.params, enabled: policy.enabled });
	useLiveConnection(policy, worker);
	const [current, setCurrent] = useState<JobProgress | null>(null);
	worker.useEvent("progress", (p: JobProgress) => setCurrent(p));
	worker.useEvent("jobFinished", () => setCurrent(null));
	const finished = tally.done + tally.failed;
	const label = shortWorkerId(tally.workerId);

	return (
		<li>
			<div className="row spread">
				<span>
					<strong>{label}</strong>: {finished} of {tally.assigned}
					{tally.failed > 0 ? ` (${tally.failed} failed)` : ""}
				</span>
				<span className="muted">
					{current && finished < tally.assigned ? `chunk ${current.done}/${current.total}` : null}
				</span>
			</div>
			<progress max={tally.assigned} value={finished} aria-label={`Worker ${label}`} />
		</li>
	);
}

function shortWorkerId(workerId: string): string {
	return workerId.slice(workerId.lastIndexOf(".") + 1);
}

function ResultTable({ results }: { results: BatchJobResult[] }) {
	return (
		<div className="table-wrap">
			<table>
				<caption>Results</caption>
				<thead>
					<tr>
						<th scope="col">Job</th>
						<th scope="col">Worker</th>
						<th scope="col">Result</th>
					</tr>
				</thead>
				<tbody>
					{results.map((r) => (
						<tr key={r.jobId} className={r.status === "failed" ? "failed" : undefined}>
							<th scope="row">{r.jobId.slice(r.jobId.lastIndexOf(":") + 1)}</th>
							<td>{shortWorkerId(r.workerId)}</td>
							<td>{describeResult(r)}</td>
						</tr>
					))}
				</tbody>
			</table>
		</div>
	);
}

function describeResult(r: BatchJobResult): string {
	if (r.status === "failed") return `failed: ${r.error ?? "unknown error"}`;
	if (r.status !== "done" || r.result === undefined) return "running…";
	const out = r.result;
	if ("digest" in out) return `sha256 ${out.digest.slice(0, 16)}…`;
	if ("largest" in out) return `${out.count.toLocaleString()} primes, largest ${out.largest.toLocaleString()}`;
	return `${out.words} words, ${out.uniqueWords} unique, longest "${out.longest}"`;
}
