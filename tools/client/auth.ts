// Signing in from a script, a test or the bench: the same
// `POST /api/auth/sign-in` a browser makes, and the connection params that
// every actor expects. Runs in browsers too (no Node imports).
//
//   const alice = await signIn(appUrl, "alice");
//   client.counter.getOrCreate(["home"], { params: alice.params });
//
// An access token lasts 10 minutes (ACCESS_TOKEN_TTL_S in src/auth/tokens.ts);
// a caller that needs longer signs in again.

/** What `POST /api/auth/sign-in` returns. */
export interface SignedIn {
	userId: string;
	name: string;
	role: "user" | "operator";
	token: string;
	/** Epoch milliseconds. */
	expiresAt: number;
	/** Connection params for any actor: `{ token }`. */
	params: { token: string };
}

export class SignInError extends Error {
	readonly status: number;
	readonly code: string | undefined;

	constructor(status: number, code: string | undefined, message: string) {
		super(message);
		this.name = "SignInError";
		this.status = status;
		this.code = code;
	}
}

/**
 * Signs in as a new local user named `name` (the server issues the user id).
 * With `operatorToken`, signs in as an operator (`Authorization: Bearer`).
 */
export async function signIn(
	appUrl: string,
	name: string,
	options: { operatorToken?: string } = {},
): Promise<SignedIn> {
	const url = `${appUrl}/api/auth/sign-in`;
	const res = await fetch(url, {
		method: "POST",
		headers: {
			"content-type": "application/json",
			...(options.operatorToken === undefined ? {} : { authorization: `Bearer ${options.operatorToken}` }),
		},
		body: JSON.stringify({ name }),
	});
	const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
	if (!res.ok) {
		const code = typeof body.code === "string" ? body.code : undefined;
		throw new SignInError(res.status, code, `${url}: ${res.status} ${code ?? ""} ${String(body.message ?? "")}`);
	}
	const token = String(body.token);
	return {
		userId: String(body.userId),
		name: String(body.name),
		role: body.role === "operator" ? "operator" : "user",
		token,
		expiresAt: Number(body.expiresAt),
		params: { token },
	};
}
