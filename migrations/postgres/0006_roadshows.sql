-- Issue 6: fund roadshows (齐鲁企舞), registration with capacity and waitlist, presenters, investor
-- visibility of firms, investment intentions, and the mail outbox.
--
-- Capacity is enforced here, not in a count-then-insert: `seats_taken` lives on the roadshow row and
-- is only ever raised by `UPDATE roadshows SET seats_taken = seats_taken + n WHERE id = $1 AND
-- seats_taken + n <= capacity`; the CHECK below refuses any write that would oversell even if a
-- query were wrong. Waitlist order comes from the per-roadshow counter `waitlist_seq`, raised the
-- same way under the same row lock.

CREATE TABLE roadshows (
    id                     TEXT COLLATE "C" PRIMARY KEY,
    title                  TEXT NOT NULL,
    centre                 TEXT NOT NULL CHECK (centre IN ('jinan', 'beijing', 'shanghai', 'shenzhen', 'online')),
    venue                  TEXT,
    starts_at              TEXT COLLATE "C" NOT NULL,
    ends_at                TEXT COLLATE "C" NOT NULL,
    registration_opens_at  TEXT COLLATE "C" NOT NULL,
    registration_closes_at TEXT COLLATE "C" NOT NULL,
    cancellation_deadline  TEXT COLLATE "C" NOT NULL,
    capacity               BIGINT NOT NULL CHECK (capacity >= 0),
    seats_taken            BIGINT NOT NULL DEFAULT 0,
    waitlist_seq           BIGINT NOT NULL DEFAULT 0,
    requires_approval      BOOLEAN NOT NULL DEFAULT FALSE,
    status                 TEXT NOT NULL CHECK (status IN ('draft', 'published', 'closed', 'cancelled', 'completed')),
    -- Calendar SEQUENCE of the roadshow in the public feed, raised on every change people see.
    sequence               BIGINT NOT NULL DEFAULT 0,
    cancel_reason          TEXT,
    created_at             TEXT COLLATE "C" NOT NULL,
    updated_at             TEXT COLLATE "C" NOT NULL,
    CHECK (seats_taken >= 0 AND seats_taken <= capacity),
    CHECK (starts_at < ends_at)
);
CREATE INDEX roadshows_status_start ON roadshows (status, starts_at);
CREATE INDEX roadshows_centre ON roadshows (centre, id);

-- Industry focus: GB/T 4754 codes or prefixes (`C35`, `C3562`, `I`); none = every industry.
CREATE TABLE roadshow_industries (
    roadshow_id TEXT COLLATE "C" NOT NULL REFERENCES roadshows (id) ON DELETE CASCADE,
    prefix      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (roadshow_id, prefix)
);

CREATE TABLE roadshow_registrations (
    id              TEXT COLLATE "C" PRIMARY KEY,
    roadshow_id     TEXT COLLATE "C" NOT NULL REFERENCES roadshows (id),
    fund_id         TEXT COLLATE "C" NOT NULL REFERENCES funds (id),
    status          TEXT NOT NULL CHECK (status IN ('pending_approval', 'confirmed', 'waitlisted', 'cancelled', 'rejected')),
    attendee_name   TEXT NOT NULL,
    attendee_email  TEXT NOT NULL,
    -- trim + lower-case, computed in Rust (SQLite's lower() only folds ASCII).
    email_key       TEXT COLLATE "C" NOT NULL,
    party_size      INTEGER NOT NULL CHECK (party_size BETWEEN 1 AND 10),
    -- Order on the waitlist (from roadshows.waitlist_seq); NULL unless waitlisted.
    waitlist_seq    BIGINT,
    checkin_token   TEXT COLLATE "C" NOT NULL UNIQUE,
    checked_in_at   TEXT COLLATE "C",
    -- SEQUENCE of the last calendar object mailed for this registration; NULL before the first.
    ics_sequence    INTEGER,
    confirmed_at    TEXT COLLATE "C",
    cancelled_at    TEXT COLLATE "C",
    cancel_reason   TEXT,
    created_by_key  TEXT COLLATE "C",
    created_at      TEXT COLLATE "C" NOT NULL,
    updated_at      TEXT COLLATE "C" NOT NULL,
    CHECK ((status = 'waitlisted') = (waitlist_seq IS NOT NULL))
);
-- One active registration per roadshow and e-mail address.
CREATE UNIQUE INDEX roadshow_registrations_active_email ON roadshow_registrations (roadshow_id, email_key)
    WHERE status IN ('pending_approval', 'confirmed', 'waitlisted');
CREATE INDEX roadshow_registrations_waitlist ON roadshow_registrations (roadshow_id, status, waitlist_seq);
CREATE INDEX roadshow_registrations_fund ON roadshow_registrations (fund_id, roadshow_id, id);

-- Every check-in attempt with its outcome, including refusals (pretix-style failed-scan log).
CREATE TABLE roadshow_checkins (
    id              TEXT COLLATE "C" PRIMARY KEY,
    roadshow_id     TEXT COLLATE "C" NOT NULL REFERENCES roadshows (id),
    registration_id TEXT COLLATE "C",
    outcome         TEXT NOT NULL,
    actor_key_id    TEXT COLLATE "C",
    at              TEXT COLLATE "C" NOT NULL
);
CREATE INDEX roadshow_checkins_roadshow ON roadshow_checkins (roadshow_id, at);

-- A presenting firm's slot; the id is the slot id that the calendar UID is derived from.
CREATE TABLE roadshow_presenters (
    id             TEXT COLLATE "C" PRIMARY KEY,
    roadshow_id    TEXT COLLATE "C" NOT NULL REFERENCES roadshows (id),
    firm_id        TEXT COLLATE "C" NOT NULL REFERENCES firms (id),
    slot_starts_at TEXT COLLATE "C" NOT NULL,
    slot_ends_at   TEXT COLLATE "C" NOT NULL,
    sequence       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT COLLATE "C" NOT NULL,
    updated_at     TEXT COLLATE "C" NOT NULL,
    UNIQUE (roadshow_id, firm_id),
    CHECK (slot_starts_at < slot_ends_at)
);
CREATE INDEX roadshow_presenters_firm ON roadshow_presenters (firm_id, roadshow_id);

-- A firm's own opt-in to be shown to fund managers (recommended as a roadshow presenter).
CREATE TABLE firm_investor_visibility (
    firm_id        TEXT COLLATE "C" PRIMARY KEY REFERENCES firms (id),
    visible        BOOLEAN NOT NULL,
    updated_by_key TEXT COLLATE "C",
    updated_at     TEXT COLLATE "C" NOT NULL
);

CREATE TABLE investments (
    id          TEXT COLLATE "C" PRIMARY KEY,
    fund_id     TEXT COLLATE "C" NOT NULL REFERENCES funds (id),
    firm_id     TEXT COLLATE "C" NOT NULL REFERENCES firms (id),
    roadshow_id TEXT COLLATE "C" REFERENCES roadshows (id),
    status      TEXT NOT NULL CHECK (status IN ('intention', 'closed', 'withdrawn')),
    amount      BIGINT NOT NULL CHECK (amount > 0),
    round       TEXT NOT NULL,
    decided_on  TEXT COLLATE "C" NOT NULL,
    note        TEXT,
    created_at  TEXT COLLATE "C" NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX investments_fund ON investments (fund_id, id);
CREATE INDEX investments_firm ON investments (firm_id, id);
CREATE INDEX investments_roadshow ON investments (roadshow_id);
CREATE INDEX investments_status_date ON investments (status, decided_on);

-- Mail outbox: a row per mail, written in the transaction of the change it reports. `request` is
-- the stored MailRequest (JSON) that the worker renders; `subject` is kept for operators.
CREATE TABLE mail_outbox (
    id              TEXT COLLATE "C" PRIMARY KEY,
    kind            TEXT NOT NULL,
    subject         TEXT NOT NULL,
    request         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT COLLATE "C" NOT NULL,
    locked_until    TEXT COLLATE "C",
    last_error      TEXT,
    created_at      TEXT COLLATE "C" NOT NULL,
    sent_at         TEXT COLLATE "C"
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
