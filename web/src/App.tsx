// The page: one panel per actor, side by side on a wide screen and stacked on
// a phone. Each panel owns its own connection (see `lib/rivet.ts`).

import { FleetPanel } from "./panels/FleetPanel.tsx";

// example-actors:start (the README's removal block deletes these lines)

import { ChatPanel } from "./panels/ChatPanel.tsx";
import { CounterPanel } from "./panels/CounterPanel.tsx";
import { JobsPanel } from "./panels/JobsPanel.tsx";

// example-actors:end
export function App() {
	return (
		<>
			<a className="skip-link" href="#main">
				Skip to content
			</a>
			<header className="site-header">
				<h1>actor-fleet</h1>
				<p className="muted">Rivet Actors, live in your browser.</p>
			</header>
			<main id="main" className="panels">
				{/* example-actors:start */}
				<CounterPanel />
				<ChatPanel />
				<JobsPanel />
				{/* example-actors:end */}
				<FleetPanel />
			</main>
		</>
	);
}
