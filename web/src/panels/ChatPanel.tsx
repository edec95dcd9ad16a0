// Chat panel: one chat room actor, key `[roomId]` from the `?room=` query
// parameter, joined as the signed-in user.
//
// Flow: the room form picks a room; the panel connects (`@rivetkit/react`'s
// `useActor`, kept live by lib/actor.ts) with the page's access token, which the room verifies in `createConnState`: the
// author of a post is the token's user, and each message carries its author's
// user id and display name, which is what the list shows; a
// refusal is shown in words with its stable code. Once connected, the panel
// loads the latest page of history from the room's SQLite, then follows
// `message` and `presence` events; on every reconnect it loads the latest page
// again, so messages posted while it was away appear, each once (messages are
// kept by id). Older pages load on demand. A post carries one `requestId`
// and is tried again, on whatever connection is live, until the room answers
// or `POST_DEADLINE_MS` passes, so it appears once.

import { type FormEvent, useCallback, useEffect, useId, useRef, useState } from "react";
import { type ChatMessage, type ChatPresence, MAX_MESSAGE_LENGTH } from "../../../src/actors/chat-room/contract.ts";
import { ConnectionBadge } from "../components/ConnectionBadge.tsx";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { useConnectionPolicy, useLiveConnection } from "../lib/actor.ts";
import { describeError, isUserError } from "../lib/errors.ts";
import { newRequestId } from "../lib/ids.ts";
import { useActor } from "../lib/rivet.ts";
import { useSearchParam } from "../lib/useSearchParam.ts";

/** Messages per history page. */
const HISTORY_PAGE = 30;
/** How long a post keeps trying (across reconnects, with its `requestId`) before it is shown as failed. */
const POST_DEADLINE_MS = 60_000;
/** Pause between two tries of a post. */
const POST_RETRY_MS = 500;
const MAX_ROOM_LENGTH = 64;

/** What the room's refusal codes mean to the person at the keyboard. */
const REFUSALS: Record<string, string> = {
	"user.unauthenticated": "The room did not accept your sign-in: sign in again.",
	"user.forbidden": "You may not enter this room.",
	"user.rate_limited": "Too many requests: wait a moment, then try again.",
	"user.origin_not_allowed": "The server does not accept chat from this page's address (see ALLOWED_ORIGINS).",
};

export function ChatPanel({ displayName, userId }: { displayName: string; userId: string }) {
	const [room, setRoom] = useSearchParam("room", "lobby");
	const [joined, setJoined] = useState(false);

	return (
		<section className="panel" aria-labelledby="chat-heading">
			<header className="panel-header">
				<h2 id="chat-heading">Chat</h2>
			</header>
			{!joined ? (
				<JoinForm
					room={room}
					onJoin={(nextRoom) => {
						setRoom(nextRoom);
						setJoined(true);
					}}
				/>
			) : (
				<ChatRoom key={room} room={room} displayName={displayName} userId={userId} onLeave={() => setJoined(false)} />
			)}
		</section>
	);
}

function JoinForm({ room, onJoin }: { room: string; onJoin: (room: string) => void }) {
	const roomId = useId();
	const [roomDraft, setRoomDraft] = useState(room);

	function submit(event: FormEvent) {
		event.preventDefault();
		onJoin(roomDraft.trim());
	}

	return (
		<form className="stack" onSubmit={submit} aria-label="Join a room">
			<div className="field">
				<label htmlFor={roomId}>Room</label>
				<input
					id={roomId}
					required
					maxLength={MAX_ROOM_LENGTH}
					autoComplete="off"
					value={roomDraft}
					onChange={(e) => setRoomDraft(e.target.value)}
				/>
			</div>
			<div className="row">
				<button type="submit">Join</button>
			</div>
		</form>
	);
}

function ChatRoom({
	room,
	displayName,
	userId,
	onLeave,
}: {
	room: string;
	displayName: string;
	userId: string;
	onLeave: () => void;
}) {
	const policy = useConnectionPolicy();
	const chat = useActor({ name: "chatRoom", key: [room], params: policy.params, enabled: policy.enabled });
	const { connection, status, refusal, guard } = useLiveConnection(policy, chat);
	const [messages, setMessages] = useState<ChatMessage[]>([]);
	const [online, setOnline] = useState<string[]>([]);
	const [lastPresence, setLastPresence] = useState<string | null>(null);
	const [hasMore, setHasMore] = useState(false);
	const [error, setError] = useState<unknown>(null);
	// The live connection now, for posts that outlive the one they started on.
	const live = useRef(connection);
	live.current = connection;

	// History pages, events and our own posts can bring the same message more
	// than once and in any order; ids are the room's order.
	const addMessages = useCallback((incoming: ChatMessage[]) => {
		setMessages((current) => {
			const byId = new Map(current.map((m) => [m.id, m]));
			for (const m of incoming) byId.set(m.id, m);
			return [...byId.values()].sort((a, b) => a.id - b.id);
		});
	}, []);

	// Subscribed before the read below is sent (effects run in this order), so
	// no message falls between the page and the first event.
	chat.useEvent("message", (message: ChatMessage) => addMessages([message]));
	chat.useEvent("presence", (presence: ChatPresence) => {
		setOnline(presence.online);
		setLastPresence(`${presence.username} ${presence.kind === "join" ? "joined" : "left"}`);
	});

	// On every (re)connect: the latest page and who is here. Messages that
	// arrived while disconnected are in that page.
	useEffect(() => {
		if (!connection) return;
		let current = true;
		guard(Promise.all([connection.history({ limit: HISTORY_PAGE }), connection.info()])).then(
			([page, info]) => {
				if (!current) return;
				addMessages(page.messages);
				setHasMore((before) => before || page.hasMore);
				setOnline(info.online);
				setError(null);
			},
			(e: unknown) => current && setError(e),
		);
		return () => {
			current = false;
		};
	}, [connection, guard, addMessages]);

	async function loadOlder() {
		if (!connection) return;
		const oldest = messages[0];
		try {
			const page = await guard(connection.history({ limit: HISTORY_PAGE, ...(oldest ? { before: oldest.id } : {}) }));
			addMessages(page.messages);
			setHasMore(page.hasMore);
		} catch (e) {
			setError(e);
		}
	}

	if (status === "refused") {
		const { code, message } = describeError(refusal);
		return (
			<div className="stack">
				<p className="error" role="alert">
					{REFUSALS[code ?? ""] ?? message}
					{code ? <code className="error-code">{code}</code> : null}
				</p>
				<div className="row">
					<button type="button" onClick={onLeave}>
						Back
					</button>
				</div>
			</div>
		);
	}

	return (
		<div className="stack">
			<div className="row spread">
				<p className="room-line">
					<strong>#{room}</strong> as <strong>{displayName}</strong>
				</p>
				<ConnectionBadge status={status} label="Chat" />
			</div>
			<ErrorNote error={error} />
			<p className="muted" aria-live="polite">
				Online: {online.length > 0 ? online.join(", ") : "nobody yet"}
				{lastPresence ? ` (${lastPresence})` : null}
			</p>
			{hasMore ? (
				<button type="button" className="secondary" onClick={() => void loadOlder()}>
					Load older messages
				</button>
			) : null}
			<MessageList messages={messages} me={userId} />
			<Composer
				disabled={!connection}
				onPost={async (text) => {
					// One id for every try: the room stores the message once, whichever try lands.
					const requestId = newRequestId();
					const deadline = Date.now() + POST_DEADLINE_MS;
					for (;;) {
						const conn = live.current;
						try {
							if (!conn) throw new Error("not connected");
							addMessages([await guard(conn.postMessage(text, { requestId }))]);
							return;
						} catch (e) {
							if (isUserError(e) || Date.now() > deadline) throw e;
							await new Promise((resolve) => setTimeout(resolve, POST_RETRY_MS));
						}
					}
				}}
			/>
			<div className="row">
				<button type="button" className="secondary" onClick={onLeave}>
					Leave
				</button>
			</div>
		</div>
	);
}

/** `me` is the signed-in user's id: names are labels (two people can both be "ada"), ids are not. */
function MessageList({ messages, me }: { messages: ChatMessage[]; me: string }) {
	const end = useRef<HTMLDivElement>(null);
	useEffect(() => {
		if (messages.length > 0) end.current?.scrollIntoView({ block: "nearest" });
	}, [messages.length]);
	return (
		<div className="messages">
			{messages.length === 0 ? <p className="muted">No messages yet.</p> : null}
			<ol aria-label="Messages" aria-live="polite">
				{messages.map((m) => (
					<li key={m.id} className={m.userId === me ? "mine" : undefined}>
						<span className="author">{m.username}</span>{" "}
						<time className="muted" dateTime={new Date(m.createdAt).toISOString()}>
							{new Date(m.createdAt).toLocaleTimeString()}
						</time>
						<p className="text">{m.text}</p>
					</li>
				))}
			</ol>
			<div ref={end} />
		</div>
	);
}

function Composer({ disabled, onPost }: { disabled: boolean; onPost: (text: string) => Promise<void> }) {
	const id = useId();
	const [text, setText] = useState("");
	const [sending, setSending] = useState(false);
	const [error, setError] = useState<unknown>(null);

	async function submit(event: FormEvent) {
		event.preventDefault();
		const body = text.trim();
		if (body.length === 0) return;
		setSending(true);
		setError(null);
		try {
			await onPost(body);
			setText("");
		} catch (e) {
			setError(e);
		} finally {
			setSending(false);
		}
	}

	return (
		<form className="stack" onSubmit={submit} aria-label="Post a message">
			<div className="row">
				<label htmlFor={id} className="visually-hidden">
					Message
				</label>
				<input
					id={id}
					placeholder="Write a message"
					maxLength={MAX_MESSAGE_LENGTH}
					autoComplete="off"
					value={text}
					onChange={(e) => setText(e.target.value)}
				/>
				<button type="submit" disabled={disabled || sending}>
					Send
				</button>
			</div>
			<ErrorNote error={error} />
		</form>
	);
}
