// The current time, re-rendered every `intervalMs` while `active`: for
// countdowns such as "lands in 4 s".

import { useEffect, useState } from "react";

export function useNow(intervalMs: number, active: boolean): number {
	const [now, setNow] = useState(() => Date.now());
	useEffect(() => {
		if (!active) return;
		setNow(Date.now());
		const timer = setInterval(() => setNow(Date.now()), intervalMs);
		return () => clearInterval(timer);
	}, [intervalMs, active]);
	return now;
}
