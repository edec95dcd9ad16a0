// A value kept in the page's query string (`?counter=demo`), so a view can be
// linked to, bookmarked and opened in a second tab on the same actor.

import { useCallback, useState } from "react";

export function useSearchParam(name: string, fallback: string): [string, (value: string) => void] {
	const [value, setValue] = useState(() => new URLSearchParams(window.location.search).get(name) || fallback);
	const update = useCallback(
		(next: string) => {
			const url = new URL(window.location.href);
			url.searchParams.set(name, next);
			window.history.replaceState(null, "", url);
			setValue(next);
		},
		[name],
	);
	return [value, update];
}
