// The chat room's SQLite schema (drizzle). Every chatRoom actor has its own
// database with this shape; `npm run db:generate` turns changes here into a
// migration under `./migrations` and the module `./migrations.ts`.

import { integer, sqliteTable, text, uniqueIndex } from "rivetkit/db/drizzle";

export const messages = sqliteTable(
	"messages",
	{
		// INTEGER PRIMARY KEY is SQLite's rowid: the table is stored as a b-tree
		// on it, so paging by id (`id < ? ORDER BY id DESC LIMIT ?`) is an index
		// range scan with no extra index. AUTOINCREMENT never reuses an id, so a
		// client's `before` cursor stays valid.
		id: integer("id").primaryKey({ autoIncrement: true }),
		// The author's display name at the time of posting: a label, not an identity.
		username: text("username").notNull(),
		// The author's identity: the verified token's user id, never an argument.
		userId: text("user_id").notNull().default(""),
		text: text("text").notNull(),
		createdAt: integer("created_at").notNull(),
		// The client's idempotency key, stored in the same row (one durable
		// write): a retried post finds its first result instead of a duplicate.
		requestId: text("request_id"),
	},
	// Idempotency keys are per author: two people may both be called "alice".
	(table) => [uniqueIndex("messages_user_id_request_id").on(table.userId, table.requestId)],
);

export type MessageRow = typeof messages.$inferSelect;
