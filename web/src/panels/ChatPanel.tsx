// Chat panel: one chat room actor, key `[roomId]` from the `?room=` query
// parameter, joined under a name the person picks.
//
// Flow: the join form sets `params: { username, token? }`, which the room
// checks in `onBeforeConnect` (a bad name, a foreign origin or a wrong token
// refuses the connection with a stable code, shown in words below). Once
// connected, the panel loads the latest page of history from the room's
// SQLite, then follows `message` and `presence` events. Older pages load on
// demand. Posting carries a `requestId`, so a retried post appears once.

import { type FormEvent, useCallback, useEffect, useId, useRef, useState } from "react";
import {
	type ChatMessage,
	type ChatPresence,
	MAX_MESSAGE_LENGTH,
	USERNAME_HTML_PATTERN,
} from "../../../src/actors/chat-room/contract.ts";
import { ConnectionBadge } from "../components/ConnectionBadge.tsx";
import { ErrorNote } from "../components/ErrorNote.tsx";
import { describeError } from "../lib/errors.ts";
import { newRequestId } from "../lib/ids.ts";
import { retryIdempotent } from "../lib/retry.ts";
import { useActor } from "../lib/rivet.ts";
import { useRefusal } from "../lib/useRefusal.ts";
import { useSearchParam } from "../lib/useSearchParam.ts";

/** Messages per history page. */
const HISTORY_PAGE = 30;

/** What the room's refusal codes mean to the person at the keyboard. */
const REFUSALS: Record<string, string> = {
	"user.invalid_username": "That name is not allowed: use 1–32 letters, digits, _ . or -.",
	"user.origin_not_allowed": "The server does not accept chat from this page's address (see ALLOWED_ORIGINS).",
	"user.forbidden": "The server requires a valid chat token.",
};

interface Identity {
	username: string;
	token: string;
}

export function ChatPanel() {
	const [room, setRoom] = useSearchParam("room", "lobby");
	const [identity, setIdentity] = useState<Identity>({ username: "", token: "" });
	const [joined, setJoined] = useState(false);

	return (
		<section className="panel" aria-labelledby="chat-heading">
			<header className="panel-header">
				<h2 id="chat-heading">Chat</h2>
			</header>
			{!joined ? (
				<JoinForm
					room={room}
					initial={identity}
					onJoin={(nextRoom, id) => {
						setRoom(nextRoom);
						setIdentity(id);
						setJoined(true);
					}}
				/>
			) : (
				<ChatRoom
					key={`${room}/${identity.username}`}
					room={room}
					identity={identity}
					onLeave={() => setJoined(false)}
				/>
			)}
		</section>
	);
}

function JoinForm({
	room,
	initial,
	onJoin,
}: {
	room: string;
	/** What was typed last time, so "Back" after a refusal only needs the fix. */
	initial: Identity;
	onJoin: (room: string, identity: Identity) => void;
}) {
	const nameId = useId();
	const roomId = useId();
	const tokenId = useId();
	const [username, setUsername] = useState(initial.username);
	const [roomDraft, setRoomDraft] = useState(room);
	const [token, setToken] = useState(initial.token);

	function submit(event: FormEvent) {
		event.preventDefault();
		onJoin(roomDraft.trim(), { username: username.trim(), token });
	}

	return (
		<form className="stack" onSubmit={submit} aria-label="Join a room">
			<div className="field">
				<label htmlFor={nameId}>Your name</label>
				<input
					id={nameId}
					required
					pattern={USERNAME_HTML_PATTERN}
					title="1–32 letters, digits, _ . or -"
					autoComplete="nickname"
					value={username}
					onChange={(e) => setUsername(e.target.value)}
				/>
			</div>
			<div className="field">
				<label htmlFor={roomId}>Room</label>
				<input
					id={roomId}
					required
					maxLength={64}
					autoComplete="off"
					value={roomDraft}
					onChange={(e) => setRoomDraft(e.target.value)}
				/>
			</div>
			<div className="field">
				<label htmlFor={tokenId}>
					Chat token <span className="muted">(only if the server requires one)</span>
				</label>
				<input
					id={tokenId}
					type="password"
					autoComplete="off"
					value={token}
					onChange={(e) => setToken(e.target.value)}
				/>
			</div>
			<div className="row">
				<button type="submit">Join</button>
			</div>
		</form>
	);
}

function ChatRoom({ room, identity, onLeave }: { room: string; identity: Identity; onLeave: () => void }) {
	const params = identity.token
		? { username: identity.username, token: identity.token }
		: { username: identity.username };
	const [refusal, setRefusal] = useState<unknown>(null);
	const chat = useActor({ name: "chatRoom", key: [room], params, enabled: refusal === null });
	useRefusal(chat.connection, setRefusal);
	const { connection, connStatus } = chat;
	const [messages, setMessages] = useState<ChatMessage[]>([]);
	const [online, setOnline] = useState<string[]>([]);
	const [lastPresence, setLastPresence] = useState<string | null>(null);
	const [hasMore, setHasMore] = useState(false);
	const [error, setError] = useState<unknown>(null);

	// History pages, events and our own posts can bring the same message more
	// than once and in any order; ids are the room's order.
	const addMessages = useCallback((incoming: ChatMessage[]) => {
		setMessages((current) => {
			const byId = new Map(current.map((m) => [m.id, m]));
			for (const m of incoming) byId.set(m.id, m);
			return [...byId.values()].sort((a, b) => a.id - b.id);
		});
	}, []);

	// On every (re)connect: the latest page and who is here. Messages that
	// arrived while disconnected are in that page.
	useEffect(() => {
		if (!connection || connStatus !== "connected") return;
		let current = true;
		Promise.all([connection.history({ limit: HISTORY_PAGE }), connection.info()]).then(
			([page, info]) => {
				if (!current) return;
				addMessages(page.messages);
				setHasMore((before) => before || page.hasMore);
				setOnline(info.online);
			},
			(e: unknown) => current && setError(e),
		);
		return () => {
			current = false;
		};
	}, [connection, connStatus, addMessages]);

	chat.useEvent("message", (message: ChatMessage) => addMessages([message]));
	chat.useEvent("presence", (presence: ChatPresence) => {
		setOnline(presence.online);
		setLastPresence(`${presence.username} ${presence.kind === "join" ? "joined" : "left"}`);
	});

	async function loadOlder() {
		if (!connection) return;
		const oldest = messages[0];
		try {
			const page = await connection.history({ limit: HISTORY_PAGE, ...(oldest ? { before: oldest.id } : {}) });
			addMessages(page.messages);
			setHasMore(page.hasMore);
		} catch (e) {
			setError(e);
		}
	}

	if (refusal !== null) {
		const { code, message } = describeError(refusal);
		return (
			<div className="stack">
				<p className="error" role="alert">
					{REFUSALS[code ?? ""] ?? message}
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
					<strong>#{room}</strong> as <strong>{identity.username}</strong>
				</p>
				<ConnectionBadge status={connStatus} label="Chat" />
			</div>
			<ErrorNote error={error ?? chat.error} />
			<p className="muted" aria-live="polite">
				Online: {online.length > 0 ? online.join(", ") : "nobody yet"}
				{lastPresence ? ` (${lastPresence})` : null}
			</p>
			{hasMore ? (
				<button type="button" className="secondary" onClick={() => void loadOlder()}>
					Load older messages
				</button>
			) : null}
			<MessageList messages={messages} me={identity.username} />
			<Composer
				disabled={!connection || connStatus !== "connected"}
				onPost={async (text) => {
					if (!connection) return;
					const requestId = newRequestId();
					const message = await retryIdempotent(() => connection.postMessage(text, { requestId }));
					addMessages([message]);
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
					<li key={m.id} className={m.username === me ? "mine" : undefined}>
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
