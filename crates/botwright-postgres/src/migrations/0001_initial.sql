-- botwright schema version 1: state documents, the outbox and scheduled jobs.
-- Runs with search_path set to the store's schema. Times are nanoseconds since the Unix epoch.
-- Keys use the "C" collation: ordered by UTF-8 bytes, which is code point order.

-- Document versions, never reused (also across a delete and re-create).
CREATE SEQUENCE document_versions;

CREATE TABLE documents (
    key     text COLLATE "C" PRIMARY KEY,
    json    text NOT NULL,
    version bigint NOT NULL
);

-- The outbox. state: 0 pending, 1 delivered, 2 dead, 3 withdrawn.
-- outcome: the channel's activity id once delivered, the reason once dead.
CREATE TABLE outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_key text COLLATE "C" NOT NULL,
    payload          text NOT NULL,
    created_at       bigint NOT NULL,
    not_before       bigint NOT NULL,
    state            smallint NOT NULL DEFAULT 0,
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    outcome          text,
    lease_owner      text,
    lease_until      bigint
);
CREATE INDEX outbox_pending ON outbox (id) WHERE state = 0;
CREATE INDEX outbox_pending_by_conversation ON outbox (conversation_key, id) WHERE state = 0;
CREATE INDEX outbox_dead ON outbox (id) WHERE state = 2;

-- Scheduled jobs, claimed with leases.
CREATE TABLE jobs (
    id          text COLLATE "C" PRIMARY KEY,
    due_at      bigint NOT NULL,
    payload     text NOT NULL,
    lease_owner text,
    lease_until bigint
);
CREATE INDEX jobs_due ON jobs (due_at, id);
