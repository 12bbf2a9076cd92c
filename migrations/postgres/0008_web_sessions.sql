-- Web pages: sessions of signed-in people and one-time sign-in links sent by e-mail.
--
-- Neither secret is stored: a session cookie and a link token are 256 random bits, and only their
-- SHA-256 is kept (like API keys). A session remembers how it was opened so that every page load
-- can check the credential is still good: the API key not revoked, or the firm's or fund's contact
-- address still the one the link was sent to (kept as the SHA-256 of the normalised address).

CREATE TABLE web_sessions (
    id           TEXT COLLATE "C" PRIMARY KEY,
    token_hash   TEXT COLLATE "C" NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'bank', 'fund', 'enterprise')),
    subject_id   TEXT COLLATE "C",
    key_id       TEXT COLLATE "C",
    link_id      TEXT COLLATE "C",
    email_hash   TEXT COLLATE "C",
    created_at   TEXT COLLATE "C" NOT NULL,
    last_seen_at TEXT COLLATE "C" NOT NULL,
    expires_at   TEXT COLLATE "C" NOT NULL,
    CHECK ((key_id IS NULL) <> (link_id IS NULL)),
    CHECK ((link_id IS NULL) = (email_hash IS NULL))
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);

CREATE TABLE sign_in_links (
    id         TEXT COLLATE "C" PRIMARY KEY,
    token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
    role       TEXT NOT NULL CHECK (role IN ('fund', 'enterprise')),
    subject_id TEXT COLLATE "C" NOT NULL,
    email_hash TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL,
    used_at    TEXT COLLATE "C"
);
CREATE INDEX sign_in_links_subject ON sign_in_links (subject_id, created_at);
CREATE INDEX sign_in_links_expiry ON sign_in_links (expires_at);

-- Who a sign-in address belongs to is looked up case-insensitively.
CREATE INDEX firms_contact_email_lower ON firms (lower(contact_email));
CREATE INDEX funds_contact_email_lower ON funds (lower(contact_email));
