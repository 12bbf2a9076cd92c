-- Webhooks to partner banks (issue 5). Endpoints, their signing secrets (sealed with
-- SRDI_WEBHOOKS_SECRET_KEY), the signed messages, one delivery per (message, endpoint) and the log
-- of every attempt. Deliveries are inserted by `webhooks::outbox::fan_out` in the same transaction
-- as the event (and so as the business change), which is what makes the outbox lossless.

CREATE TABLE webhook_endpoints (
    id                    TEXT COLLATE "C" PRIMARY KEY,
    bank_id               TEXT COLLATE "C" NOT NULL REFERENCES banks (id),
    url                   TEXT NOT NULL,
    description           TEXT NOT NULL DEFAULT '',
    enabled               BOOLEAN NOT NULL DEFAULT TRUE,
    -- manual | gone (the receiver answered 410) | failing (failing for days)
    disabled_reason       TEXT,
    disabled_at           TEXT COLLATE "C",
    rate_limit_per_second INTEGER NOT NULL,
    max_concurrency       INTEGER NOT NULL,
    -- The current unbroken run of failed attempts (cleared by any success).
    failing_since         TEXT COLLATE "C",
    last_failure_at       TEXT COLLATE "C",
    created_at            TEXT COLLATE "C" NOT NULL,
    updated_at            TEXT COLLATE "C" NOT NULL
);
CREATE INDEX webhook_endpoints_bank ON webhook_endpoints (bank_id, id);

-- The event types an endpoint subscribes to.
CREATE TABLE webhook_endpoint_event_types (
    endpoint_id TEXT COLLATE "C" NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_type  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (endpoint_id, event_type)
);
CREATE INDEX webhook_endpoint_event_types_type ON webhook_endpoint_event_types (event_type, endpoint_id);

-- Optional product filter: when an endpoint has rows here, events whose data names a product_id
-- reach it only for these products.
CREATE TABLE webhook_endpoint_products (
    endpoint_id TEXT COLLATE "C" NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    product_id  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (endpoint_id, product_id)
);

-- Signing secrets, sealed. The current one has expires_at NULL; a rotated-out one keeps signing
-- until its expires_at.
CREATE TABLE webhook_secrets (
    id          TEXT COLLATE "C" PRIMARY KEY,
    endpoint_id TEXT COLLATE "C" NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    sealed      TEXT NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL,
    expires_at  TEXT COLLATE "C"
);
CREATE INDEX webhook_secrets_endpoint ON webhook_secrets (endpoint_id, created_at);

-- The exact bytes sent and signed, once per event (or per test ping). body is NULL once purged.
CREATE TABLE webhook_messages (
    event_id         TEXT COLLATE "C" PRIMARY KEY,
    event_type       TEXT NOT NULL,
    firm_id          TEXT COLLATE "C",
    -- Whether a bank may receive it only while the firm's consent covers the bank (checked again
    -- before every attempt).
    consent_required BOOLEAN NOT NULL,
    body             TEXT,
    created_at       TEXT COLLATE "C" NOT NULL
);
CREATE INDEX webhook_messages_created ON webhook_messages (created_at);

CREATE TABLE webhook_deliveries (
    id               TEXT COLLATE "C" PRIMARY KEY,
    event_id         TEXT COLLATE "C" NOT NULL REFERENCES webhook_messages (event_id) ON DELETE CASCADE,
    endpoint_id      TEXT COLLATE "C" NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    -- event | test | resend | recover: what queued the delivery (last)
    origin           TEXT NOT NULL,
    next_attempt_at  TEXT COLLATE "C",
    -- Lease of the dispatcher that claimed it; after it passes, another may claim the delivery.
    locked_until     TEXT COLLATE "C",
    lock_token       TEXT COLLATE "C",
    attempts         INTEGER NOT NULL DEFAULT 0,
    -- Attempts since last queued: indexes the retry schedule.
    round_attempts   INTEGER NOT NULL DEFAULT 0,
    last_attempt_at  TEXT COLLATE "C",
    last_status_code INTEGER,
    last_error       TEXT,
    delivered_at     TEXT COLLATE "C",
    created_at       TEXT COLLATE "C" NOT NULL,
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, status, created_at);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);

-- The attempt log. No foreign keys: an attempt that finishes after its endpoint was deleted is
-- still written (and purged with the rest after the retention period).
CREATE TABLE webhook_attempts (
    id              TEXT COLLATE "C" PRIMARY KEY,
    delivery_id     TEXT COLLATE "C" NOT NULL,
    endpoint_id     TEXT COLLATE "C" NOT NULL,
    event_id        TEXT COLLATE "C" NOT NULL,
    attempt_number  INTEGER NOT NULL,
    origin          TEXT NOT NULL,
    attempted_at    TEXT COLLATE "C" NOT NULL,
    outcome         TEXT NOT NULL,
    status_code     INTEGER,
    response_body   TEXT,
    error           TEXT,
    duration_ms     BIGINT NOT NULL,
    next_attempt_at TEXT COLLATE "C"
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);
CREATE INDEX webhook_attempts_at ON webhook_attempts (attempted_at);
