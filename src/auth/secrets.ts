// Comparing a presented secret with the expected one.

import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Whether `presented` equals `expected`, in time that does not depend on
 * where they differ. Both sides are hashed first: `timingSafeEqual` needs
 * equal lengths, and comparing digests also hides the expected length.
 */
export function safeEqual(presented: string, expected: string): boolean {
	const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();
	return timingSafeEqual(digest(presented), digest(expected));
}

/** The token of an `Authorization: Bearer <token>` header, or `undefined`. */
export function bearerToken(header: string | undefined | null): string | undefined {
	const match = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(header ?? "");
	return match?.[1];
}
