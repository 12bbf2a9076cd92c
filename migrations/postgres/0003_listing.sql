-- Listing and tier rules as data (operators correct figures without a code change), listing
-- milestones (append-only; corrections are new rows), and each firm's current stage per venue,
-- maintained in the same transaction as every milestone so statistics need no fold.
CREATE TABLE rule_sets (
    kind           TEXT NOT NULL CHECK (kind IN ('listing', 'tier')),
    venue          TEXT NOT NULL,
    scope          TEXT NOT NULL,
    version        TEXT NOT NULL,
    effective_from TEXT COLLATE "C" NOT NULL,
    effective_to   TEXT COLLATE "C",
    body           TEXT NOT NULL,
    builtin        BOOLEAN NOT NULL,
    updated_at     TEXT COLLATE "C" NOT NULL,
    updated_by_key TEXT COLLATE "C",
    PRIMARY KEY (kind, venue, scope, version)
);

CREATE TABLE listing_events (
    id           TEXT COLLATE "C" PRIMARY KEY,
    firm_id      TEXT COLLATE "C" NOT NULL REFERENCES firms (id),
    venue        TEXT NOT NULL,
    stage        TEXT NOT NULL,
    layer        TEXT,
    reached_on   TEXT COLLATE "C" NOT NULL,
    document_ref TEXT,
    remark       TEXT,
    corrects     TEXT COLLATE "C" REFERENCES listing_events (id),
    retracts     BOOLEAN NOT NULL,
    recorded_at  TEXT COLLATE "C" NOT NULL,
    actor_key_id TEXT COLLATE "C"
);
CREATE INDEX listing_events_firm ON listing_events (firm_id, venue, recorded_at);

CREATE TABLE listing_status (
    firm_id       TEXT COLLATE "C" NOT NULL REFERENCES firms (id),
    venue         TEXT NOT NULL,
    current_stage TEXT,
    current_layer TEXT,
    since         TEXT COLLATE "C",
    reform_on     TEXT COLLATE "C",
    listed_on     TEXT COLLATE "C",
    updated_at    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (firm_id, venue)
);
CREATE INDEX listing_status_venue ON listing_status (venue, current_stage);
