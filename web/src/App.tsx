// The page: a sign-in screen, then one panel per actor, side by side on a
// wide screen and stacked on a phone. Each panel owns its own connection,
// opened by `@rivetkit/react`'s `useActor` and kept live by `lib/actor.ts`;
// all of them carry the signed-in user's access token (see `lib/session.ts`).

// biome-ignore-all assist/source/organizeImports: the example panels' imports sit between the markers that the README's removal block deletes, after the imports that stay.
import { useEffect } from "react";
import { SignIn } from "./components/SignIn.tsx";
import { session, useSession } from "./lib/session.ts";
// The Fleet panel lists whatever actors the engine runs, so it stays when the examples go.
import { FleetPanel } from "./panels/FleetPanel.tsx";
// example-actors:start (the README's removal block deletes these lines)
import { ChatPanel } from "./panels/ChatPanel.tsx";
import { CounterPanel } from "./panels/CounterPanel.tsx";
import { JobsPanel } from "./panels/JobsPanel.tsx";
// example-actors:end

export function App() {
	const state = useSession();
	// A session cookie from an earlier visit signs the page in without the form.
	useEffect(() => {
		void session.restore();
	}, []);

	return (
		<>
			<a className="skip-link" href="#main">
				Skip to content
			</a>
			<header className="site-header">
				<h1>actor-fleet</h1>
				<p className="muted">Rivet Actors, live in your browser.</p>
				{state.status === "signed-in" ? (
					<p className="row">
						<span>
							Signed in as <strong>{state.session.name}</strong>
							{state.session.role === "operator" ? " (operator)" : ""}
						</span>
						<button type="button" className="secondary" onClick={() => void session.signOut()}>
							Sign out
						</button>
					</p>
				) : null}
			</header>
			{state.status === "loading" ? (
				<main id="main">
					<p className="muted">Loading…</p>
				</main>
			) : state.status === "signed-out" ? (
				<main id="main" className="panels">
					<SignIn note={state.error} />
				</main>
			) : (
				<main id="main" className="panels">
					{/* example-actors:start */}
					<CounterPanel userId={state.session.userId} />
					<ChatPanel displayName={state.session.name} userId={state.session.userId} />
					<JobsPanel operator={state.session.role === "operator"} />
					{/* example-actors:end */}
					<FleetPanel operator={state.session.role === "operator"} />
				</main>
			)}
		</>
	);
}
