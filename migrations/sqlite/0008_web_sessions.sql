-- Web pages: sessions of signed-in people and one-time sign-in links sent by e-mail.
--
-- Neither secret is stored: a session cookie and a link token are 256 random bits, and only their
-- SHA-256 is kept (like API keys). A session remembers how it was opened so that every page load
-- can check the credential is still good: the API key not revoked, or the firm's or fund's contact
-- address still the one the link was sent to (kept as the SHA-256 of the normalised address).

CREATE TABLE web_sessions (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'bank', 'fund', 'enterprise')),
    subject_id   TEXT,
    key_id       TEXT,
    link_id      TEXT,
    email_hash   TEXT,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    CHECK ((key_id IS NULL) <> (link_id IS NULL)),
    CHECK ((link_id IS NULL) = (email_hash IS NULL))
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);

CREATE TABLE sign_in_links (
    id         TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL CHECK (role IN ('fund', 'enterprise')),
    subject_id TEXT NOT NULL,
    email_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX sign_in_links_subject ON sign_in_links (subject_id, created_at);
CREATE INDEX sign_in_links_expiry ON sign_in_links (expires_at);

-- Who a sign-in address belongs to is looked up case-insensitively.
CREATE INDEX firms_contact_email_lower ON firms (lower(contact_email));
CREATE INDEX funds_contact_email_lower ON funds (lower(contact_email));
