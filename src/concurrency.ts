// A bounded fan-out: the coordinator dispatches to its workers with it, and
// the server wakes sleeping batches with it at start (src/workarounds/resume-after-outage.ts).

/** Runs `fn` over `items`, at most `limit` at a time. */
export async function forEachConcurrently<T>(
	items: readonly T[],
	limit: number,
	fn: (item: T) => Promise<void>,
): Promise<void> {
	let next = 0;
	const lane = async () => {
		while (next < items.length) {
			const item = items[next++];
			if (item !== undefined) await fn(item);
		}
	};
	await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
