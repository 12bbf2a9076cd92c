-- Data-sharing consent: a firm lets one bank (bank_id) or every partner bank (bank_id NULL) see
-- its data for a purpose. Rows are never deleted; revoking sets revoked_at. A consent covers a bank
-- at time t when: revoked_at IS NULL AND (expires_at IS NULL OR expires_at > t)
-- AND (bank_id IS NULL OR bank_id = that bank).
CREATE TABLE consents (
    id              TEXT PRIMARY KEY,
    firm_id         TEXT NOT NULL REFERENCES firms (id),
    bank_id         TEXT REFERENCES banks (id),
    purpose         TEXT NOT NULL DEFAULT 'financing_matching',
    granted_at      TEXT NOT NULL,
    granted_by_key  TEXT,
    expires_at      TEXT,
    revoked_at      TEXT,
    revoked_by_key  TEXT
);
CREATE INDEX consents_firm ON consents (firm_id);
CREATE INDEX consents_bank ON consents (bank_id, firm_id);
