// Preloaded into every app server a launcher starts (`node --import`, see
// app-server.ts): the server stops by itself when the process that started
// it is gone. A launcher killed with SIGKILL (a crashed `npm start`, a test
// run killed by CI) cannot stop its server; without this the server would
// run on as an orphan. It sends the server the SIGTERM a launcher would
// have sent, so the server drains its actors exactly as on a normal stop
// (src/serve.ts). The product knows nothing of it: it lives with the
// launchers, and `node src/server.ts` run by hand or by a container loads none of it.

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
