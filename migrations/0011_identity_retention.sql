-- 0011: identities live as long as their events. Retention drops a partition of `events` or of a
-- typed table together with its events' rows in `event_ids`, in one transaction
-- (docs/operations.md, "Retention"), so the kernel's role needs DELETE there.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fdc-kernel') THEN
        EXECUTE 'GRANT DELETE ON event_ids TO "fdc-kernel"';
    END IF;
END
$$;
