// The bench's credentials. Every actor needs a token now; the bench drives
// load far above a user's write limits, so it acts as an operator (operators
// are not rate-limited, see src/actors/rate-limit.ts), and sends jobs to
// workers with a server token, as coordinators do.
//
// The tokens are minted in-process with the development secret the bench's
// own servers run with (src/auth/settings.ts), and last an hour: the app's
// access tokens last 10 minutes and server tokens 60 s, shorter than a full
// run, and stateless rivetkit calls reuse a handle's params without asking
// for fresh ones.

import { DEV_AUTH_SECRET, DEV_OPERATOR_TOKEN, operatorKeyFor } from "../../../src/auth/settings.ts";
import { signServerToken, signUserToken } from "../../../src/auth/tokens.ts";

/** How long the bench's tokens last: longer than any run. */
const BENCH_TOKEN_TTL_S = 60 * 60;

export interface BenchCredentials {
	/** An operator's connection params. */
	params: { token: string };
	/** A server token's connection params (worker queues). */
	serverParams: { token: string };
	/** `x-rivet-conn-params` with the operator's params, for raw gateway HTTP. */
	headers: Record<string, string>;
	/**
	 * Params of another operator identity: chat counts presence per user and
	 * caps connections per user and room, so each bench connection of a room
	 * is its own user.
	 */
	as(name: string): Promise<{ token: string }>;
}

async function operatorParams(name: string): Promise<{ token: string }> {
	// An operator's token carries the key of the operator token it was
	// signed in with; the bench's servers run with the development one.
	const operatorKey = operatorKeyFor(DEV_AUTH_SECRET, DEV_OPERATOR_TOKEN);
	const subject = { userId: `bench-${name}`, name, role: "operator" as const, operatorKey };
	const { token } = await signUserToken("access", subject, DEV_AUTH_SECRET, BENCH_TOKEN_TTL_S);
	return { token };
}

export async function benchCredentials(): Promise<BenchCredentials> {
	const params = await operatorParams("operator");
	const server = await signServerToken(DEV_AUTH_SECRET, BENCH_TOKEN_TTL_S);
	return {
		params,
		serverParams: { token: server.token },
		headers: { "x-rivet-conn-params": JSON.stringify(params) },
		as: operatorParams,
	};
}
