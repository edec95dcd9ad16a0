// drizzle-kit settings for the coordinator's database (`npm run db:generate`).
import { defineConfig } from "rivetkit/db/drizzle";

export default defineConfig({
	schema: "./src/db/coordinator/schema.ts",
	out: "./src/db/coordinator/migrations",
});
