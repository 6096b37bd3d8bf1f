-- botwright schema version 1: state documents, the outbox and scheduled jobs.
-- Times are nanoseconds since the Unix epoch (UTC).

-- Counters kept across restarts: `next_version` hands out document versions, never reused.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (name, value) VALUES ('next_version', 1);

-- Versioned JSON documents (state, dialog stacks, the address book).
-- The default BINARY collation orders keys by UTF-8 bytes, which is code point order.
CREATE TABLE documents (
    key     TEXT PRIMARY KEY,
    json    TEXT NOT NULL,
    version INTEGER NOT NULL
);

-- The outbox. state: 0 pending, 1 delivered, 2 dead, 3 withdrawn.
-- outcome: the channel's activity id once delivered, the reason once dead.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_key TEXT NOT NULL,
    payload          TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    not_before       INTEGER NOT NULL,
    state            INTEGER NOT NULL DEFAULT 0,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    outcome          TEXT,
    lease_owner      TEXT,
    lease_until      INTEGER
);
-- Pending entries in queue order, and the queue of each conversation.
CREATE INDEX outbox_pending ON outbox (id) WHERE state = 0;
CREATE INDEX outbox_pending_by_conversation ON outbox (conversation_key, id) WHERE state = 0;
CREATE INDEX outbox_dead ON outbox (id) WHERE state = 2;

-- Scheduled jobs, claimed with leases.
CREATE TABLE jobs (
    id          TEXT PRIMARY KEY,
    due_at      INTEGER NOT NULL,
    payload     TEXT NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER
);
CREATE INDEX jobs_due ON jobs (due_at);
