-- Inputs that readiness, the tier check and the programme statistics read beside a firm's record:
-- ROE after 扣非 and the audit date per fiscal year; dated share capital and market-value
-- estimates (an evaluation on a past date reads the figure valid then); equity rounds and the
-- date through which they are complete; attested qualitative conditions (append-only, the latest
-- statement in force speaks); the tier scheme's scoring inputs per fiscal year; the year each tier
-- was first recognised. Money in fen, dates as text, as everywhere (src/db/types.rs).

ALTER TABLE financials ADD COLUMN weighted_roe_deducted TEXT;
ALTER TABLE financials ADD COLUMN audited_on TEXT COLLATE "C";

CREATE TABLE share_capital_history (
    firm_id      TEXT COLLATE "C" NOT NULL REFERENCES firms (id) ON DELETE CASCADE,
    effective_on TEXT COLLATE "C" NOT NULL,
    amount       BIGINT NOT NULL CHECK (amount > 0),
    document_ref TEXT,
    source       TEXT NOT NULL CHECK (source IN ('office', 'firm')),
    recorded_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (firm_id, effective_on)
);

CREATE TABLE market_value_estimates (
    firm_id      TEXT COLLATE "C" NOT NULL REFERENCES firms (id) ON DELETE CASCADE,
    estimated_on TEXT COLLATE "C" NOT NULL,
    amount       BIGINT NOT NULL CHECK (amount > 0),
    basis        TEXT,
    document_ref TEXT,
    source       TEXT NOT NULL CHECK (source IN ('office', 'firm', 'firm_record')),
    recorded_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (firm_id, estimated_on)
);

-- The firm record's expected_market_value is one source of the history: every write of a new
-- value is kept as an estimate dated the day it was written, whichever path wrote it (API,
-- import, seed), so that readiness on an earlier date never reads it.
CREATE FUNCTION firms_record_market_value() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.expected_market_value IS NOT NULL AND NEW.expected_market_value > 0
       AND (TG_OP = 'INSERT' OR OLD.expected_market_value IS DISTINCT FROM NEW.expected_market_value) THEN
        INSERT INTO market_value_estimates (firm_id, estimated_on, amount, basis, document_ref, source, recorded_at)
        VALUES (NEW.id, SUBSTR(NEW.updated_at, 1, 10), NEW.expected_market_value, NULL, NULL, 'firm_record', NEW.updated_at)
        ON CONFLICT (firm_id, estimated_on) DO UPDATE SET amount = excluded.amount, basis = NULL,
            document_ref = NULL, source = excluded.source, recorded_at = excluded.recorded_at;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER firms_market_value AFTER INSERT OR UPDATE OF expected_market_value ON firms FOR EACH ROW
    EXECUTE FUNCTION firms_record_market_value();

INSERT INTO market_value_estimates (firm_id, estimated_on, amount, basis, document_ref, source, recorded_at)
SELECT id, SUBSTR(updated_at, 1, 10), expected_market_value, NULL, NULL, 'firm_record', updated_at
FROM firms WHERE expected_market_value IS NOT NULL AND expected_market_value > 0;

CREATE TABLE equity_financing_records (
    firm_id          TEXT COLLATE "C" PRIMARY KEY REFERENCES firms (id) ON DELETE CASCADE,
    complete_through TEXT COLLATE "C",
    source           TEXT NOT NULL CHECK (source IN ('office', 'firm')),
    recorded_at      TEXT COLLATE "C" NOT NULL
);

CREATE TABLE equity_rounds (
    id                       TEXT COLLATE "C" PRIMARY KEY,
    firm_id                  TEXT COLLATE "C" NOT NULL REFERENCES equity_financing_records (firm_id) ON DELETE CASCADE,
    paid_in_on               TEXT COLLATE "C" NOT NULL,
    amount                   BIGINT NOT NULL CHECK (amount > 0),
    post_money_valuation     BIGINT CHECK (post_money_valuation > 0),
    round                    TEXT,
    investor                 TEXT,
    investor_kind            TEXT,
    by_qualified_institution BOOLEAN NOT NULL,
    document_ref             TEXT,
    source                   TEXT NOT NULL CHECK (source IN ('office', 'firm')),
    recorded_at              TEXT COLLATE "C" NOT NULL
);
CREATE INDEX equity_rounds_firm ON equity_rounds (firm_id, paid_in_on);
CREATE INDEX equity_rounds_paid_in ON equity_rounds (paid_in_on, investor_kind);

CREATE TABLE attestations (
    id           TEXT COLLATE "C" PRIMARY KEY,
    firm_id      TEXT COLLATE "C" NOT NULL REFERENCES firms (id) ON DELETE CASCADE,
    key          TEXT COLLATE "C" NOT NULL,
    holds        BOOLEAN NOT NULL,
    stated_on    TEXT COLLATE "C" NOT NULL,
    valid_until  TEXT COLLATE "C",
    document_ref TEXT,
    remark       TEXT,
    source       TEXT NOT NULL CHECK (source IN ('office', 'self_declared')),
    actor_key_id TEXT COLLATE "C",
    recorded_at  TEXT COLLATE "C" NOT NULL,
    CHECK (valid_until IS NULL OR valid_until >= stated_on)
);
CREATE INDEX attestations_firm ON attestations (firm_id, key, stated_on);

CREATE TABLE tier_inputs (
    firm_id                     TEXT COLLATE "C" NOT NULL REFERENCES firms (id) ON DELETE CASCADE,
    fiscal_year                 INTEGER NOT NULL,
    ip_best_class               TEXT,
    class_i_ip_in_use           BIGINT,
    strategic_emerging_industry BOOLEAN,
    niche_market_years          TEXT,
    product_chain_role          TEXT,
    digitalisation_level        BIGINT CHECK (digitalisation_level BETWEEN 1 AND 4),
    quality_items               BIGINT,
    rd_institution_level        TEXT,
    national_niche_market_share TEXT,
    provincial_key_industry     TEXT,
    innovative_operation_items  BIGINT,
    niche_share_rank            TEXT,
    cloud_migrated              BOOLEAN,
    key_chain_supplier          BOOLEAN,
    source                      TEXT NOT NULL CHECK (source IN ('office', 'firm')),
    updated_at                  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (firm_id, fiscal_year)
);
CREATE INDEX tier_inputs_year ON tier_inputs (fiscal_year, firm_id);

CREATE TABLE tier_recognitions (
    firm_id         TEXT COLLATE "C" NOT NULL REFERENCES firms (id) ON DELETE CASCADE,
    tier            TEXT NOT NULL CHECK (tier IN ('innovative_sme', 'provincial_srdi', 'little_giant')),
    recognized_year INTEGER NOT NULL,
    document_ref    TEXT,
    recorded_at     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (firm_id, tier)
);
