// The page: one panel per actor, side by side on a wide screen and stacked on
// a phone. Each panel owns its own connection (see `lib/rivet.ts`).

import { ChatPanel } from "./panels/ChatPanel.tsx";
import { CounterPanel } from "./panels/CounterPanel.tsx";
import { FleetPanel } from "./panels/FleetPanel.tsx";
import { JobsPanel } from "./panels/JobsPanel.tsx";

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
				<CounterPanel />
				<ChatPanel />
				<JobsPanel />
				<FleetPanel />
			</main>
		</>
	);
}
