-- Registration decides seat or waitlist in the one UPDATE that also locks the roadshow row. An
-- UPDATE's RETURNING sees only the new row, so the decision it made is written on the row.
-- (API-key changes need no announcement here: one instance serves a SQLite file and drops a
-- revoked key from its cache itself.)
ALTER TABLE roadshows ADD COLUMN last_admission TEXT
    CHECK (last_admission IN ('confirmed', 'waitlisted', 'pending_approval'));
