// drizzle-kit settings for the chat room's database (`npm run db:generate`).
import { defineConfig } from "rivetkit/db/drizzle";

export default defineConfig({
	schema: "./src/db/chat-room/schema.ts",
	out: "./src/db/chat-room/migrations",
});
