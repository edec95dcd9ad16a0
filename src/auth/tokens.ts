// Signed tokens: what the app server issues and what actors verify.
//
// Three kinds, told apart by their audience (`aud`), all HS256 with
// `AUTH_SECRET`:
// - access token (`actor-fleet/access`): short-lived, sent by clients as
//   connection params; carries the user id, display name and role;
// - session (`actor-fleet/session`): long-lived, kept in an HttpOnly cookie,
//   only ever read by `POST /api/auth/token` to mint a new access token;
// - server token (`actor-fleet/server`): minted inside this process for
//   actor→actor calls; no HTTP route ever issues one.
// An access token is refused where a session or server token is expected and
// the other way round, so one kind can never stand in for another.
//
// The library is `hono/utils/jwt` (the JWT code behind `hono/jwt`, shipped
// with hono, which the server already depends on): HS256 through WebCrypto,
// no new dependency, nothing hand-written. `jose` would be the choice for
// asymmetric keys (e.g. verifying an identity provider's RS256 tokens with
// its JWKS); one shared secret is enough here because the same operator runs
// every process that signs or verifies.

import { sign, verify } from "hono/utils/jwt/jwt";
import { z } from "zod";
import { safeEqual } from "./secrets.ts";

/** How long an access token is valid. Clients fetch a fresh one per connection. */
export const ACCESS_TOKEN_TTL_S = 10 * 60;
/** How long a session cookie lasts: the user stays "signed in" on this browser. */
export const SESSION_TTL_S = 30 * 24 * 60 * 60;
/** How long a server token is valid; one is minted per actor→actor call. */
export const SERVER_TOKEN_TTL_S = 60;
/** Longest token accepted, in characters; ours are a few hundred. */
export const MAX_TOKEN_LENGTH = 4_096;

export const TOKEN_ISSUER = "actor-fleet";
export const ACCESS_AUDIENCE = "actor-fleet/access";
export const SESSION_AUDIENCE = "actor-fleet/session";
export const SERVER_AUDIENCE = "actor-fleet/server";

/** The user id of every server token. */
export const SERVER_SUBJECT = "server";

export type UserRole = "user" | "operator";
export type Role = UserRole | "server";

/** Who a verified token speaks for. */
export interface Identity {
	userId: string;
	/** A display label chosen by the user, not an identity: two users may share one. */
	name: string;
	role: Role;
	/** When the token stops being accepted (epoch milliseconds). */
	expiresAt: number;
}

export type TokenErrorCode = "unauthenticated" | "token_expired";

export class TokenError extends Error {
	readonly code: TokenErrorCode;

	constructor(code: TokenErrorCode, message: string) {
		super(message);
		this.code = code;
	}
}

const baseClaims = {
	sub: z.string().min(1).max(128),
	// One audience per token: an array would make its kind ambiguous.
	aud: z.string(),
	name: z.string().max(256),
	iat: z.number().int(),
	// Required here: hono's `verify` only checks `exp` when the claim exists.
	exp: z.number().int(),
};
const userClaimsSchema = z.object({
	...baseClaims,
	role: z.enum(["user", "operator"]),
	// Operators only: which operator token they signed in with (`operatorKeyFor` in settings.ts).
	opk: z.string().max(128).optional(),
});
const serverClaimsSchema = z.object({ ...baseClaims, sub: z.literal(SERVER_SUBJECT), role: z.literal("server") });

export type TokenKind = "access" | "session" | "server";

const AUDIENCES: Record<TokenKind, string> = {
	access: ACCESS_AUDIENCE,
	session: SESSION_AUDIENCE,
	server: SERVER_AUDIENCE,
};
const TTLS_S: Record<TokenKind, number> = {
	access: ACCESS_TOKEN_TTL_S,
	session: SESSION_TTL_S,
	server: SERVER_TOKEN_TTL_S,
};

export interface SignedToken {
	token: string;
	/** Epoch milliseconds. */
	expiresAt: number;
}

export interface TokenSubject {
	userId: string;
	name: string;
	role: UserRole;
	/** Role `operator` only: the current operator key (`AuthSettings.operatorKey`); without it the token is no operator's. */
	operatorKey?: string | undefined;
}

/** What `verifyToken` checks against: the signing secret, and the operator key operator tokens must carry. */
export interface TokenKeys {
	authSecret: string;
	/** `undefined`: no operator token is set, so no operator token is accepted. */
	operatorKey: string | undefined;
}

/** Signs an access token or a session for a user. */
export function signUserToken(
	kind: "access" | "session",
	subject: TokenSubject,
	secret: string,
	ttlS = TTLS_S[kind],
): Promise<SignedToken> {
	const opk = subject.role === "operator" && subject.operatorKey !== undefined ? { opk: subject.operatorKey } : {};
	return signToken(kind, { sub: subject.userId, name: subject.name, role: subject.role, ...opk }, secret, ttlS);
}

/** Signs a server token: what actors present to each other. */
export function signServerToken(secret: string, ttlS = SERVER_TOKEN_TTL_S): Promise<SignedToken> {
	return signToken("server", { sub: SERVER_SUBJECT, name: SERVER_SUBJECT, role: "server" }, secret, ttlS);
}

async function signToken(
	kind: TokenKind,
	claims: { sub: string; name: string; role: Role; opk?: string },
	secret: string,
	ttlS: number,
): Promise<SignedToken> {
	const iat = Math.floor(Date.now() / 1_000);
	const exp = iat + ttlS;
	const token = await sign({ ...claims, iss: TOKEN_ISSUER, aud: AUDIENCES[kind], iat, exp }, secret, "HS256");
	return { token, expiresAt: exp * 1_000 };
}

/**
 * Verifies `token` as a token of `kind` and returns who it speaks for.
 * Throws `TokenError`: `unauthenticated` for anything not signed by us for
 * this audience (malformed, wrong secret, wrong kind, missing claims),
 * `token_expired` for a genuine token past its `exp`. An operator's token
 * must also carry the current operator key: one signed in with an operator
 * token that has since been rotated or removed is `unauthenticated`.
 */
export async function verifyToken(token: string, kinds: readonly TokenKind[], keys: TokenKeys): Promise<Identity> {
	if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
		throw new TokenError("unauthenticated", "the token is missing or malformed");
	}
	let payload: Record<string, unknown>;
	try {
		// `exp: false`: hono checks expiry before the signature, which would
		// answer "expired" for a forged token. The signature comes first here;
		// expiry is checked below, on claims we know we signed. `iat: false`:
		// another server's clock may be a second ahead of this one.
		payload = await verify(token, keys.authSecret, {
			alg: "HS256",
			iss: TOKEN_ISSUER,
			aud: kinds.map((kind) => AUDIENCES[kind]),
			exp: false,
			iat: false,
		});
	} catch {
		throw new TokenError("unauthenticated", "the token is not valid");
	}
	const isServer = payload.aud === SERVER_AUDIENCE;
	const claims = (isServer ? serverClaimsSchema : userClaimsSchema).safeParse(payload);
	if (!claims.success) throw new TokenError("unauthenticated", "the token is not valid");
	const expiresAt = claims.data.exp * 1_000;
	if (expiresAt <= Date.now()) throw new TokenError("token_expired", "the token has expired; fetch a new one");
	if (claims.data.role === "operator") {
		const opk = "opk" in claims.data ? claims.data.opk : undefined;
		if (keys.operatorKey === undefined || opk === undefined || !safeEqual(opk, keys.operatorKey)) {
			throw new TokenError("unauthenticated", "the operator token was rotated or removed; sign in again");
		}
	}
	return { userId: claims.data.sub, name: claims.data.name, role: claims.data.role, expiresAt };
}
