-- One system however many instances run (issue 11): the instances sharing this database, every socket they hold,
-- and the users whose tokens were revoked. What a user or an operator sees of a user's sockets (the connection
-- limit, sessions, presence, status totals) is read from here.
--
-- An instance counts while its lease holds: it renews `lease_until` every third of INSTANCE_LEASE, and an instance
-- that dies (kill -9, a lost host) stops counting, with every socket it held, once its lease runs out. Its rows are
-- deleted a minute later by whichever instance sweeps first. A socket is written here shortly after it opens and
-- deleted shortly after it closes, in batches (SessionJournal), so connects never wait on the database.
--
-- Lock order: a batch of new sockets takes one advisory lock per user (class 0x48524c44, in key order) before it
-- counts the user's sockets, so two instances admitting the same user's sockets at once count one after the other
-- and cannot both let the user past the limit.

-- Both tables describe the present, not history, so they are UNLOGGED: writing them costs no WAL and their
-- commits wait for no fsync, which keeps a storm of connects cheap. A crash of PostgreSQL empties them; each
-- instance then finds its lease gone at its next renewal and writes its sockets again (InstanceLease).
CREATE UNLOGGED TABLE herald_instances (
    incarnation uuid        PRIMARY KEY,  -- one run of one process; INSTANCE_ID may repeat across restarts
    instance_id text        NOT NULL,
    version     text        NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    seen_at     timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz NOT NULL,
    connections integer     NOT NULL DEFAULT 0,
    listening   boolean     NOT NULL DEFAULT false
);

CREATE UNLOGGED TABLE ws_sessions (
    session_id     uuid        PRIMARY KEY,
    incarnation    uuid        NOT NULL,
    local_id       bigint      NOT NULL,  -- the instance's own handle on the socket
    user_id        text        NOT NULL,
    locations      text[]      NOT NULL,
    connected_at   timestamptz NOT NULL,
    client_address text,
    user_agent     text
);

-- A user's sockets, oldest first (the limit, the sessions API).
CREATE INDEX ws_sessions_user ON ws_sessions (user_id, connected_at);
-- The sockets at a location (presence, the sessions API).
CREATE INDEX ws_sessions_locations ON ws_sessions USING gin (locations);
-- An instance's sockets (its own clean-up, and the sweep after its lease ran out).
CREATE INDEX ws_sessions_incarnation ON ws_sessions (incarnation);

-- "Log out everywhere": a token of `user_id` issued before `revoked_before` (or with no iat) is refused.
CREATE TABLE token_revocations (
    user_id        text        PRIMARY KEY,
    revoked_before timestamptz NOT NULL,
    revoked_by     text        NOT NULL,
    revoked_at     timestamptz NOT NULL DEFAULT now()
);
