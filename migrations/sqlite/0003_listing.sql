-- Listing and tier rules as data (operators correct figures without a code change), listing
-- milestones (append-only; corrections are new rows), and each firm's current stage per venue,
-- maintained in the same transaction as every milestone so statistics need no fold.
CREATE TABLE rule_sets (
    kind           TEXT NOT NULL CHECK (kind IN ('listing', 'tier')),
    venue          TEXT NOT NULL,
    scope          TEXT NOT NULL,
    version        TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    effective_to   TEXT,
    body           TEXT NOT NULL,
    builtin        INTEGER NOT NULL,
    updated_at     TEXT NOT NULL,
    updated_by_key TEXT,
    PRIMARY KEY (kind, venue, scope, version)
);

CREATE TABLE listing_events (
    id           TEXT PRIMARY KEY,
    firm_id      TEXT NOT NULL REFERENCES firms (id),
    venue        TEXT NOT NULL,
    stage        TEXT NOT NULL,
    layer        TEXT,
    reached_on   TEXT NOT NULL,
    document_ref TEXT,
    remark       TEXT,
    corrects     TEXT REFERENCES listing_events (id),
    retracts     INTEGER NOT NULL,
    recorded_at  TEXT NOT NULL,
    actor_key_id TEXT
);
CREATE INDEX listing_events_firm ON listing_events (firm_id, venue, recorded_at);

CREATE TABLE listing_status (
    firm_id       TEXT NOT NULL REFERENCES firms (id),
    venue         TEXT NOT NULL,
    current_stage TEXT,
    current_layer TEXT,
    since         TEXT,
    reform_on     TEXT,
    listed_on     TEXT,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (firm_id, venue)
);
CREATE INDEX listing_status_venue ON listing_status (venue, current_stage);
