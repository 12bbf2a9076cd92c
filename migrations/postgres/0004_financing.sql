-- Issue 4, 融资服务对接: the LPR table, loan products, materialised matches and the durable queue
-- that keeps them current, and financing applications with their dated history.
-- Encodings as in 0001 (text ids and timestamps, money in fen, enums as wire text, JSON as text).

-- Loan Prime Rate fixings in percent (decimal text), both tenors per effective date.
CREATE TABLE lpr_fixings (
    effective_on TEXT COLLATE "C" PRIMARY KEY,
    one_year     TEXT NOT NULL,
    five_year    TEXT NOT NULL,
    updated_at   TEXT COLLATE "C" NOT NULL
);

-- A bank's loan product. Eligibility rules are data (JSON of domain::product::Eligibility).
-- Never deleted: withdrawing sets active = FALSE, so applications and match history keep their product.
CREATE TABLE products (
    id              TEXT COLLATE "C" PRIMARY KEY,
    bank_id         TEXT COLLATE "C" NOT NULL REFERENCES banks (id),
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    amount_min      BIGINT,
    amount_max      BIGINT NOT NULL,
    term_months_min INTEGER,
    term_months_max INTEGER NOT NULL,
    rate_spread_bp  INTEGER,
    lpr_tenor       TEXT,
    fixed_rate      TEXT,
    collateral      TEXT NOT NULL,
    eligibility     TEXT NOT NULL,
    valid_from      TEXT COLLATE "C",
    valid_to        TEXT COLLATE "C",
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    version         BIGINT NOT NULL,
    created_at      TEXT COLLATE "C" NOT NULL,
    updated_at      TEXT COLLATE "C" NOT NULL,
    withdrawn_at    TEXT COLLATE "C"
);
CREATE INDEX products_bank ON products (bank_id, id);
CREATE INDEX products_active ON products (active, id);

-- Materialised matches: one row per (firm, product) that is or was eligible. `status` is
-- active or withdrawn; `version` counts the pair's appearances/changes/withdrawals (it keys the
-- match.* events); `seq` is the global change sequence from match_clock (incremental sync).
-- Derived data: no foreign keys, so a full rebuild writes fast.
CREATE TABLE matches (
    firm_id     TEXT COLLATE "C" NOT NULL,
    product_id  TEXT COLLATE "C" NOT NULL,
    bank_id     TEXT COLLATE "C" NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'withdrawn')),
    score       INTEGER NOT NULL,
    met_bits    INTEGER NOT NULL,
    unmet_bits  INTEGER NOT NULL,
    fingerprint BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (firm_id, product_id)
);
CREATE INDEX matches_bank_seq ON matches (bank_id, seq, firm_id, product_id);

-- The change sequence. Every transaction that changes what a bank's match list shows takes
-- `UPDATE match_clock SET seq = seq + 1 RETURNING seq` before writing match rows: the row lock is
-- held to commit, so seq order is commit order and a reader never misses a row below the value it read.
CREATE TABLE match_clock (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO match_clock (id, seq) VALUES (1, 0);

-- Durable re-evaluation work: ('firm', id) = that firm against every active product;
-- ('product', id) = that product against every firm. Enqueueing bumps `gen`; a job deletes its row
-- only if `gen` is still the one it read, so a change during the job is never lost.
-- Product jobs record their progress (last firm id done) to resume after a crash.
CREATE TABLE match_queue (
    kind           TEXT NOT NULL CHECK (kind IN ('firm', 'product')),
    subject_id     TEXT COLLATE "C" NOT NULL,
    gen            BIGINT NOT NULL,
    progress_gen   BIGINT,
    progress_after TEXT COLLATE "C",
    enqueued_at    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (kind, subject_id)
);
CREATE INDEX match_queue_order ON match_queue (kind, enqueued_at, subject_id);

-- When time alone changes an outcome (a firm's anniversary, a product's validity window),
-- the subject is re-queued on `due_on`.
CREATE TABLE match_rechecks (
    kind       TEXT NOT NULL CHECK (kind IN ('firm', 'product')),
    subject_id TEXT COLLATE "C" NOT NULL,
    due_on     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (kind, subject_id)
);
CREATE INDEX match_rechecks_due ON match_rechecks (due_on);

-- The matching worker finds consents that lapsed since its last pass by expiry time.
CREATE INDEX consents_expiry ON consents (expires_at);

-- Small named watermarks of the matching worker (e.g. how far consent expiries were processed).
CREATE TABLE match_state (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Every firm-side fact in the outbox queues its firm for re-evaluation, in the transaction that
-- records it: API changes, bulk imports and future capabilities alike. Events the financing
-- module writes itself (match.*, consent.*, application.*) do not change eligibility.
CREATE FUNCTION match_enqueue_firm() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO match_queue (kind, subject_id, gen, enqueued_at)
    VALUES ('firm', NEW.firm_id, 1, NEW.occurred_at)
    ON CONFLICT (kind, subject_id) DO UPDATE SET gen = match_queue.gen + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_match_enqueue AFTER INSERT ON events FOR EACH ROW
    WHEN (NEW.firm_id IS NOT NULL AND NEW.event_type NOT LIKE 'match.%'
          AND NEW.event_type NOT LIKE 'consent.%' AND NEW.event_type NOT LIKE 'application.%')
    EXECUTE FUNCTION match_enqueue_firm();

-- Financing applications. One open application (submitted, under review or approved) per firm
-- and product.
CREATE TABLE applications (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    firm_id              TEXT COLLATE "C" NOT NULL REFERENCES firms (id),
    product_id           TEXT COLLATE "C" NOT NULL REFERENCES products (id),
    bank_id              TEXT COLLATE "C" NOT NULL REFERENCES banks (id),
    amount               BIGINT NOT NULL,
    term_months          INTEGER NOT NULL,
    purpose              TEXT NOT NULL,
    status               TEXT NOT NULL,
    approved_amount      BIGINT,
    approved_term_months INTEGER,
    approved_rate        TEXT,
    approved_on          TEXT COLLATE "C",
    disbursed_amount     BIGINT,
    disbursed_on         TEXT COLLATE "C",
    decline_reason_code  TEXT,
    decline_reason_text  TEXT,
    submitted_at         TEXT COLLATE "C" NOT NULL,
    updated_at           TEXT COLLATE "C" NOT NULL
);
CREATE INDEX applications_firm ON applications (firm_id, id);
CREATE INDEX applications_bank ON applications (bank_id, id);
CREATE INDEX applications_product ON applications (product_id, id);
CREATE UNIQUE INDEX applications_open ON applications (firm_id, product_id)
    WHERE status IN ('submitted', 'under_review', 'approved');

-- Each move of an application: dated and attributed (role, key, subject).
CREATE TABLE application_history (
    id             TEXT COLLATE "C" PRIMARY KEY,
    application_id TEXT COLLATE "C" NOT NULL REFERENCES applications (id),
    from_status    TEXT,
    to_status      TEXT NOT NULL,
    actor_role     TEXT NOT NULL,
    actor_key_id   TEXT COLLATE "C",
    actor_subject  TEXT COLLATE "C",
    detail         TEXT,
    remark         TEXT,
    at             TEXT COLLATE "C" NOT NULL
);
CREATE INDEX application_history_app ON application_history (application_id, at, id);
