// Independent, deliberately naive versions of the job computations: the
// tests check the workers' chunked, workflow-driven results against these.

import { createHash } from "node:crypto";

export function naivePrimes(limit: number): { count: number; largest: number } {
	let count = 0;
	let largest = 0;
	for (let n = 2; n <= limit; n++) {
		let prime = true;
		for (let d = 2; d * d <= n; d++) {
			if (n % d === 0) {
				prime = false;
				break;
			}
		}
		if (prime) {
			count++;
			largest = n;
		}
	}
	return { count, largest };
}

export function naiveSha256(text: string, rounds: number): { digest: string } {
	let digest = createHash("sha256").update(text, "utf8").digest();
	for (let r = 1; r < rounds; r++) digest = createHash("sha256").update(digest).digest();
	return { digest: digest.toString("hex") };
}

export function naiveWordstats(text: string) {
	const words = text
		.toLowerCase()
		.split(/[^a-z0-9']+/)
		.map((w) => w.replace(/^'+|'+$/g, ""))
		.filter((w) => w.length > 0);
	const counts = new Map<string, number>();
	for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
	const top = [...counts]
		.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
		.slice(0, 5)
		.map(([word, count]) => ({ word, count }));
	const longest = words.reduce((best, w) => (w.length > best.length ? w : best), "");
	return { words: words.length, uniqueWords: counts.size, top, longest };
}
