// drizzle-kit settings for the worker's database (`npm run db:generate`).
import { defineConfig } from "rivetkit/db/drizzle";

export default defineConfig({
	schema: "./src/db/worker/schema.ts",
	out: "./src/db/worker/migrations",
});
