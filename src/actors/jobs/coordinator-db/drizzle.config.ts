// drizzle-kit settings for the coordinator's database (`npm run db:generate`).
import { defineConfig } from "rivetkit/db/drizzle";

export default defineConfig({
	schema: "./src/actors/jobs/coordinator-db/schema.ts",
	out: "./src/actors/jobs/coordinator-db/migrations",
});
