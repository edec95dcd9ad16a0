// `npm run inspect -- <command>`: the debug CLI (see README, "Debugging").
// Everything lives in `tools/debug/cli/main.ts` so the tests can run it in-process.

import { runCli } from "./debug/cli/main.ts";

process.exitCode = await runCli(process.argv.slice(2), {
	stdout: (text) => process.stdout.write(text),
	stderr: (text) => process.stderr.write(text),
	env: process.env,
});
