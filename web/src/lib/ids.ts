// Random ids for idempotent retries.
//
// `crypto.randomUUID()` only exists in secure contexts (https, localhost), so
// a phone opening the dev server by LAN address would not have it;
// `getRandomValues` works everywhere.

const REQUEST_ID_BYTES = 16;

export function newRequestId(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(REQUEST_ID_BYTES));
	return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
