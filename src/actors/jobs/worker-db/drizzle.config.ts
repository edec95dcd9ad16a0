// drizzle-kit settings for the worker's database (`npm run db:generate`).
import { defineConfig } from "rivetkit/db/drizzle";

export default defineConfig({
	schema: "./src/actors/jobs/worker-db/schema.ts",
	out: "./src/actors/jobs/worker-db/migrations",
});
