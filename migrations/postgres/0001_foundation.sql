-- Foundation: keys, banks and funds (as key subjects), firms, financials, the listing reserve pool,
-- the event outbox and idempotency records. Ids, timestamps and dates are text (see src/db/types.rs);
-- COLLATE "C" keeps text order byte order, which keyset pagination relies on.

CREATE TABLE banks (
    id            TEXT COLLATE "C" PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    created_at    TEXT COLLATE "C" NOT NULL
);

CREATE TABLE funds (
    id            TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    created_at    TEXT COLLATE "C" NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT COLLATE "C" PRIMARY KEY,
    key_hash   TEXT NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'bank', 'fund', 'enterprise')),
    subject_id TEXT COLLATE "C",
    label      TEXT NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    revoked_at TEXT COLLATE "C",
    CHECK ((role = 'admin') = (subject_id IS NULL))
);

CREATE TABLE firms (
    id                    TEXT COLLATE "C" PRIMARY KEY,
    credit_code           TEXT COLLATE "C" NOT NULL UNIQUE,
    name                  TEXT NOT NULL,
    city                  TEXT NOT NULL,
    district              TEXT,
    industry_code         TEXT COLLATE "C" NOT NULL,
    tier                  TEXT,
    tier_recognized_year  INTEGER,
    founded_on            TEXT COLLATE "C",
    expected_market_value BIGINT,
    neeq_listed_on        TEXT COLLATE "C",
    neeq_layer            TEXT,
    tax_credit_grade      TEXT,
    lead_bank_id          TEXT COLLATE "C" REFERENCES banks (id),
    tutoring_whitelist    BOOLEAN NOT NULL DEFAULT FALSE,
    contact_name          TEXT,
    contact_email         TEXT,
    contact_phone         TEXT,
    in_reserve_pool       BOOLEAN NOT NULL DEFAULT FALSE,
    event_seq             BIGINT NOT NULL DEFAULT 0,
    created_at            TEXT COLLATE "C" NOT NULL,
    updated_at            TEXT COLLATE "C" NOT NULL
);
CREATE INDEX firms_city_tier ON firms (city, tier, id);
CREATE INDEX firms_tier ON firms (tier, id);
CREATE INDEX firms_industry ON firms (industry_code, id);
CREATE INDEX firms_pool ON firms (in_reserve_pool, id);

CREATE TABLE financials (
    firm_id               TEXT COLLATE "C" NOT NULL REFERENCES firms (id) ON DELETE CASCADE,
    fiscal_year           INTEGER NOT NULL,
    revenue               BIGINT,
    main_business_revenue BIGINT,
    net_profit            BIGINT,
    net_profit_deducted   BIGINT,
    rd_expense            BIGINT,
    operating_cash_flow   BIGINT,
    total_assets          BIGINT,
    total_liabilities     BIGINT,
    net_assets            BIGINT,
    weighted_roe          TEXT,
    invention_patents     BIGINT,
    employees             BIGINT,
    rd_staff              BIGINT,
    updated_at            TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (firm_id, fiscal_year)
);

CREATE TABLE reserve_pool (
    firm_id        TEXT COLLATE "C" PRIMARY KEY REFERENCES firms (id),
    target_venue   TEXT NOT NULL,
    sponsor_broker TEXT,
    key_firm       BOOLEAN NOT NULL DEFAULT FALSE,
    note           TEXT,
    admitted_on    TEXT COLLATE "C" NOT NULL,
    admitted_at    TEXT COLLATE "C" NOT NULL,
    updated_at     TEXT COLLATE "C" NOT NULL
);
CREATE INDEX reserve_pool_venue ON reserve_pool (target_venue, firm_id);

CREATE TABLE reserve_pool_history (
    id             TEXT COLLATE "C" PRIMARY KEY,
    firm_id        TEXT COLLATE "C" NOT NULL REFERENCES firms (id),
    action         TEXT NOT NULL CHECK (action IN ('admitted', 'updated', 'removed')),
    target_venue   TEXT,
    key_firm       BOOLEAN,
    reason         TEXT,
    actor_key_id   TEXT COLLATE "C",
    at             TEXT COLLATE "C" NOT NULL
);
CREATE INDEX reserve_pool_history_firm ON reserve_pool_history (firm_id, at);

-- Transactional outbox: every business fact that others may need to hear about, written in the
-- same transaction as the change. The id is derived from the fact, so a fact is recorded once.
CREATE TABLE events (
    id          TEXT COLLATE "C" PRIMARY KEY,
    event_type  TEXT NOT NULL,
    firm_id     TEXT COLLATE "C",
    bank_id     TEXT COLLATE "C",
    firm_seq    BIGINT,
    occurred_at TEXT COLLATE "C" NOT NULL,
    payload     TEXT NOT NULL
);
CREATE INDEX events_occurred ON events (occurred_at);
CREATE INDEX events_firm ON events (firm_id, firm_seq);

CREATE TABLE idempotency_keys (
    key_id        TEXT COLLATE "C" NOT NULL,
    idem_key      TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    status        INTEGER,
    response_body TEXT,
    created_at    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (key_id, idem_key)
);
