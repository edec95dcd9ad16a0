// drizzle-kit settings for the chat room's database (`npm run db:generate`).
import { defineConfig } from "rivetkit/db/drizzle";

export default defineConfig({
	schema: "./src/actors/chat-room/schema.ts",
	out: "./src/actors/chat-room/migrations",
});
