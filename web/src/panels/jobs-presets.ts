// Ready-made batches for the Jobs panel: what a person can submit with two
// clicks. Each builds the `items` of a coordinator `submit` request.

import type { JobSpec } from "../../../src/actors/jobs/contract.ts";

export interface Preset {
	id: string;
	label: string;
	build: (count: number) => JobSpec[];
}

const SAMPLE_TEXT =
	"Actors keep their state next to their code. Each actor handles one message at a time, " +
	"so its state needs no locks; many actors run side by side, so the system scales out. " +
	"An actor that sleeps keeps its state, and wakes when the next message arrives.";

/** A `wordstats` input with no words: the worker accepts it, then the job fails. */
const NO_WORDS = "— … —";

const primes = (i: number): JobSpec => ({ kind: "primes", input: { limit: 200_000 + i * 150_000 } });
const sha = (i: number): JobSpec => ({ kind: "sha256", input: { text: `actor-fleet #${i}`, rounds: 150_000 } });
const words = (i: number): JobSpec => ({ kind: "wordstats", input: { text: `${SAMPLE_TEXT} Copy ${i}.` } });

export const PRESETS: Preset[] = [
	{ id: "primes", label: "Count primes", build: (n) => Array.from({ length: n }, (_, i) => primes(i)) },
	{ id: "sha256", label: "Hash chains (SHA-256)", build: (n) => Array.from({ length: n }, (_, i) => sha(i)) },
	{
		id: "mixed",
		label: "Mixed, with one job that fails",
		build: (n) => {
			const kinds = [primes, sha, words];
			const items = Array.from({ length: Math.max(1, n - 1) }, (_, i) => (kinds[i % kinds.length] ?? primes)(i));
			return [...items, { kind: "wordstats", input: { text: NO_WORDS } }];
		},
	},
];
