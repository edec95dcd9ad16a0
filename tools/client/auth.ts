// Signing in from a script, a test or the bench: the same
// `POST /api/auth/sign-in` a browser makes, and the connection params that
// every actor expects. Runs in browsers too (no Node imports).
//
//   const alice = await signIn(appUrl, "alice");
//   client.counter.getOrCreate(["home"], { params: alice.params });
//
// An access token lasts 10 minutes (ACCESS_TOKEN_TTL_S in src/auth/tokens.ts).
// Long-running callers refresh it with `refresh()` (`POST /api/auth/token`
// with the session cookie) and open new connections with the new params.

/** What `POST /api/auth/sign-in` and `POST /api/auth/token` return. */
export interface SignedIn {
	userId: string;
	name: string;
	role: "user" | "operator";
	token: string;
	/** Epoch milliseconds. */
	expiresAt: number;
	/** Connection params for any actor: `{ token }`. */
	params: { token: string };
	/** The session cookie (`name=value`), for `refresh`. */
	cookie: string;
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

async function tokenRequest(url: string, init: RequestInit): Promise<SignedIn> {
	const res = await fetch(url, { method: "POST", ...init });
	const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
	if (!res.ok) {
		const code = typeof body.code === "string" ? body.code : undefined;
		throw new SignInError(res.status, code, `${url}: ${res.status} ${code ?? ""} ${String(body.message ?? "")}`);
	}
	const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
	const token = String(body.token);
	return {
		userId: String(body.userId),
		name: String(body.name),
		role: body.role === "operator" ? "operator" : "user",
		token,
		expiresAt: Number(body.expiresAt),
		params: { token },
		cookie,
	};
}

/**
 * Signs in as a new local user named `name` (the server issues the user id).
 * With `operatorToken`, signs in as an operator (`Authorization: Bearer`).
 */
export function signIn(appUrl: string, name: string, options: { operatorToken?: string } = {}): Promise<SignedIn> {
	return tokenRequest(`${appUrl}/api/auth/sign-in`, {
		headers: {
			"content-type": "application/json",
			...(options.operatorToken === undefined ? {} : { authorization: `Bearer ${options.operatorToken}` }),
		},
		body: JSON.stringify({ name }),
	});
}

/** A fresh access token for the same user, from the session cookie `signIn` returned. */
export async function refresh(appUrl: string, session: SignedIn): Promise<SignedIn> {
	const next = await tokenRequest(`${appUrl}/api/auth/token`, { headers: { cookie: session.cookie } });
	return { ...next, cookie: next.cookie || session.cookie };
}
