// Preloaded into every app server a launcher starts (`node --import`): once the
// launcher is gone (killed with SIGKILL, say), the server gets the SIGTERM it
// would have sent and drains as on a normal stop. `node src/server.ts` run by
// hand or in a container loads none of it.

/** Where the launcher puts its pid for this module. */
export const LAUNCHER_PID_VARIABLE = "FLEET_LAUNCHER_PID";
/** How often the server checks that its launcher still runs. */
const LAUNCHER_CHECK_INTERVAL_MS = 1_000;

const launcher = Number(process.env[LAUNCHER_PID_VARIABLE]);
if (Number.isInteger(launcher) && launcher > 0) {
	const timer = setInterval(() => {
		try {
			process.kill(launcher, 0);
		} catch {
			clearInterval(timer);
			console.error(`actor-fleet: the process that started this server (pid ${launcher}) is gone; stopping`);
			process.kill(process.pid, "SIGTERM");
		}
	}, LAUNCHER_CHECK_INTERVAL_MS);
	timer.unref();
}
