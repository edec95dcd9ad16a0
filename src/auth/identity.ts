// Who a person is: the one place a real identity provider plugs in.
//
// The template ships a local sign-in that needs no account: whoever signs in
// gets a brand-new user id, generated here on the server. The display name
// they type is only a label (two people may both call themselves "alice");
// nothing in the app grants access by name. That is enough to try the app
// and to test authorization, and it cannot be used to become someone else:
// the client never chooses the id.
//
// To use a real provider, replace `signIn` and keep its result type. The
// route (`POST /api/auth/sign-in` in src/auth/routes.ts) calls it and turns
// the result into a session cookie and an access token; actors only ever
// see the user id, name and role that end up in the token. For example:
//
//   // OIDC (Auth0, Keycloak, Google, …) with `jose`, after the browser's
//   // redirect brought back an ID token:
//   const { payload } = await jwtVerify(input.idToken, JWKS, { issuer, audience });
//   return { userId: `oidc_${payload.sub}`, name: String(payload.name ?? ""), role: "user" };
//
//   // Clerk: `verifyToken(input.sessionToken, { secretKey })` from
//   // `@clerk/backend`, then `{ userId: `clerk_${payload.sub}`, ... }`.
//
// Prefix provider ids (`oidc_`, `clerk_`) so they can never collide with the
// local `u_` ids, and map roles from the provider's groups or claims, never
// from anything the browser sends.
//
// The local provider gives an identity to anyone who asks, so the route
// limits sign-ins per client address (docs/auth.md, "Sign-in costs
// something"). A real provider makes identities cost what it charges for
// one (a verified email, a captcha, a directory entry).

import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { UserRole } from "./tokens.ts";

/** Longest display name, in characters. */
export const MAX_DISPLAY_NAME_LENGTH = 32;

/**
 * What the sign-in form sends. Strict: a client that also sends `userId` (or
 * `role`) is told so rather than silently ignored.
 */
export const signInRequestSchema = z.strictObject({
	name: z
		.string()
		.trim()
		.min(1)
		.max(MAX_DISPLAY_NAME_LENGTH)
		// No control characters: names are shown to other users.
		.regex(/^[^\p{Cc}]+$/u, "must not contain control characters"),
});

export type SignInRequest = z.output<typeof signInRequestSchema>;

export interface SignedInUser {
	userId: string;
	name: string;
	role: UserRole;
}

export interface SignInOptions {
	/** The caller proved it holds `OPERATOR_TOKEN` (checked by the route). */
	operator: boolean;
}

/** The local provider: a new account per sign-in, with a server-issued id. */
export async function signIn(input: SignInRequest, options: SignInOptions): Promise<SignedInUser> {
	return { userId: `u_${randomUUID()}`, name: input.name, role: options.operator ? "operator" : "user" };
}
