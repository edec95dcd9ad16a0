// Build-time settings the web app reads (`import.meta.env`). Both are
// optional: with neither set, the app talks to the server it was loaded from.

interface ImportMetaEnv {
	/** Where the RivetKit client starts: an engine, or an app's `/api/rivet`. */
	readonly VITE_RIVET_ENDPOINT?: string;
	/** The runner pool actors are created in; must match the server's `RIVET_POOL`. */
	readonly VITE_RIVET_POOL?: string;
}

interface ImportMeta {
	readonly env: ImportMetaEnv;
}
