// Calls that change something, retried safely: one idempotency key for every
// attempt, so the actor applies the change once however often it arrives.
//
// Why: during a failover (an engine node or an app server dies) a call can
// time out or fail after the actor already applied it, and a call can even be
// acknowledged and then replayed (measured on rivetkit 2.3.19; docs/scaling-out.md). A
// caller that retries with a new key would apply it twice; a caller that does
// not retry loses writes the user made. The fix is a key per logical write,
// chosen before the first attempt and recorded by the actor in the same durable
// write as the effect (the counter's `increment(amount, { requestId })`); a
// repeated key returns the first result and changes nothing.
//
// Flow: attempt with a per-attempt timeout; on a retryable failure wait an
// exponential backoff with full jitter and attempt again with the same key,
// until it succeeds, fails for a reason retrying cannot fix, or the overall
// deadline passes. Runs in browsers too (no Node imports).
//
// Calls that carry no key (a plain `increment(1)`) can still be retried when
// the engine's answer proves the action never ran: `callAtMostOnce` retries
// only those answers, e.g. `actor.no_runner_config_configured`, which the
// engine has returned under load for a pool that exists while resolving the
// actor (measured on 2.3.19: 13-25 of 1,000 get-or-create calls at 50 in
// flight on a serverless pool).

/** How long one attempt may take before it is abandoned and retried. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 5_000;
/** How long the whole call may take, attempts and backoff included. */
export const DEFAULT_DEADLINE_MS = 60_000;
/** The first backoff's upper bound; doubles per attempt. */
export const DEFAULT_INITIAL_BACKOFF_MS = 100;
/** Backoff never grows past this: a failover ends within seconds, and callers should see it end. */
export const DEFAULT_MAX_BACKOFF_MS = 1_000;

export interface RetryPolicy {
	/** `Infinity`: an attempt runs until it settles. */
	attemptTimeoutMs: number;
	deadlineMs: number;
	initialBackoffMs: number;
	maxBackoffMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
	attemptTimeoutMs: DEFAULT_ATTEMPT_TIMEOUT_MS,
	deadlineMs: DEFAULT_DEADLINE_MS,
	initialBackoffMs: DEFAULT_INITIAL_BACKOFF_MS,
	maxBackoffMs: DEFAULT_MAX_BACKOFF_MS,
};

/** What each attempt gets: the same key every time, and a signal that fires at its timeout. */
export interface Attempt {
	requestId: string;
	signal: AbortSignal;
	/** 1 for the first attempt. */
	number: number;
}

export interface RetryOptions extends Partial<RetryPolicy> {
	/** The idempotency key; a new random one by default. Pass one to make a retry of an earlier call. */
	requestId?: string;
	/** Cancels the call (no further attempts). */
	signal?: AbortSignal;
	/** Called before each retry, e.g. to log or count them. */
	onRetry?: (info: { attempt: number; error: unknown; delayMs: number; requestId: string }) => void;
}

/** The call failed on every attempt until the deadline; it may or may not have been applied. */
export class RetriesExhaustedError extends Error {
	readonly requestId: string;
	readonly attempts: number;

	constructor(requestId: string, attempts: number, cause: unknown) {
		super(`gave up after ${attempts} attempt(s) (request ${requestId}): ${describe(cause)}`, { cause });
		this.name = "RetriesExhaustedError";
		this.requestId = requestId;
		this.attempts = attempts;
	}
}

class AttemptTimeoutError extends Error {
	constructor(ms: number) {
		super(`attempt timed out after ${ms} ms`);
		this.name = "AttemptTimeoutError";
	}
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

/** A fresh idempotency key. */
export function newRequestId(): string {
	return globalThis.crypto.randomUUID();
}

/**
 * Whether retrying can help. An actor's `UserError` (group `user`: invalid
 * input, forbidden, overflow...) is a deterministic answer, so it is final.
 * Everything else (a refused or reset connection, a timeout, the engine's
 * `guard/*` and `core/internal_error` while a node or app server is replaced)
 * is transient from the caller's side.
 */
export function isRetryable(error: unknown): boolean {
	if (typeof error === "object" && error !== null && "group" in error) {
		return (error as { group: unknown }).group !== "user";
	}
	return true;
}

/**
 * Engine answers (`group.code`) given before the request reaches the actor:
 * the action cannot have run, so repeating the call cannot apply it twice.
 */
const NEVER_RAN_CODES: ReadonlySet<string> = new Set(["actor.no_runner_config_configured"]);

/** Whether the error proves the call never reached the actor. */
export function neverRan(error: unknown): boolean {
	if (typeof error !== "object" || error === null || !("group" in error) || !("code" in error)) return false;
	const { group, code } = error as { group: unknown; code: unknown };
	return NEVER_RAN_CODES.has(`${String(group)}.${String(code)}`);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve, reject) => {
		if (signal?.aborted) return reject(signal.reason);
		const timer = setTimeout(() => {
			signal?.removeEventListener("abort", onAbort);
			resolve();
		}, ms);
		const onAbort = () => {
			clearTimeout(timer);
			reject(signal?.reason);
		};
		signal?.addEventListener("abort", onAbort, { once: true });
	});
}

/**
 * Runs one attempt, ending it at `timeoutMs` even if the call ignores its
 * signal (its late result is then dropped; the key makes that harmless).
 */
async function runAttempt<T>(call: (attempt: Attempt) => Promise<T>, attempt: Attempt, timeoutMs: number): Promise<T> {
	if (!Number.isFinite(timeoutMs)) return call(attempt);
	let timer: ReturnType<typeof setTimeout> | undefined;
	const timedOut = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new AttemptTimeoutError(timeoutMs)), timeoutMs);
	});
	try {
		return await Promise.race([call(attempt), timedOut]);
	} finally {
		clearTimeout(timer);
	}
}

/**
 * Calls `call` until it succeeds, passing the same `requestId` every time.
 * `call` must be safe to repeat: a write that hands the key to an action that
 * deduplicates by it, e.g.
 * `({ requestId, signal }) => client.counter.getOrCreate(key, { signal }).increment(1, { requestId })`,
 * or a read (which ignores the key).
 */
export function callIdempotent<T>(call: (attempt: Attempt) => Promise<T>, options: RetryOptions = {}): Promise<T> {
	return retry(call, options, isRetryable);
}

/**
 * Calls `call`, which is not safe to repeat (no idempotency key), retrying
 * only answers that prove it never reached the actor (`neverRan`). Any other
 * failure, a timeout included, is thrown at once: the action may have run.
 * The attempt timeout is off by default for the same reason.
 */
export function callAtMostOnce<T>(
	call: (attempt: Attempt) => Promise<T>,
	options: Omit<RetryOptions, "requestId"> = {},
): Promise<T> {
	return retry(call, { attemptTimeoutMs: Number.POSITIVE_INFINITY, ...options }, neverRan);
}

async function retry<T>(
	call: (attempt: Attempt) => Promise<T>,
	options: RetryOptions,
	retryable: (error: unknown) => boolean,
): Promise<T> {
	const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...stripUndefined(options) };
	const requestId = options.requestId ?? newRequestId();
	const deadline = Date.now() + policy.deadlineMs;
	for (let number = 1; ; number++) {
		options.signal?.throwIfAborted();
		const signal = attemptSignal(policy.attemptTimeoutMs, options.signal);
		try {
			return await runAttempt(call, { requestId, signal, number }, policy.attemptTimeoutMs);
		} catch (error) {
			if (options.signal?.aborted) throw options.signal.reason;
			if (!retryable(error)) throw error;
			const ceiling = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (number - 1));
			// Full jitter: clients that failed together do not retry together.
			const delayMs = Math.round(Math.random() * ceiling);
			if (Date.now() + delayMs >= deadline) throw new RetriesExhaustedError(requestId, number, error);
			options.onRetry?.({ attempt: number, error, delayMs, requestId });
			await sleep(delayMs, options.signal);
		}
	}
}

/** Aborts at the attempt's timeout (if it has one) or when the caller's signal does. */
function attemptSignal(timeoutMs: number, caller: AbortSignal | undefined): AbortSignal {
	if (!Number.isFinite(timeoutMs)) return caller ?? new AbortController().signal;
	const timeout = AbortSignal.timeout(timeoutMs);
	return caller ? AbortSignal.any([caller, timeout]) : timeout;
}

function stripUndefined(options: RetryOptions): Partial<RetryPolicy> {
	const policy: Partial<RetryPolicy> = {};
	if (options.attemptTimeoutMs !== undefined) policy.attemptTimeoutMs = options.attemptTimeoutMs;
	if (options.deadlineMs !== undefined) policy.deadlineMs = options.deadlineMs;
	if (options.initialBackoffMs !== undefined) policy.initialBackoffMs = options.initialBackoffMs;
	if (options.maxBackoffMs !== undefined) policy.maxBackoffMs = options.maxBackoffMs;
	return policy;
}
