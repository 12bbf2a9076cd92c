-- Registration decides seat or waitlist in the one UPDATE that also locks the roadshow row. An
-- UPDATE's RETURNING sees only the new row, so the decision it made is written on the row.
ALTER TABLE roadshows ADD COLUMN last_admission TEXT
    CHECK (last_admission IN ('confirmed', 'waitlisted', 'pending_approval'));

-- API keys are cached by every serving instance: any change to a key row (revocation above all)
-- is announced on commit, whichever process made it, so each instance drops the key at once.
CREATE FUNCTION api_keys_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('api_keys_changed', OLD.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER api_keys_changed AFTER UPDATE OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_keys_announce_change();
