-- 0009: `event_ids` (0008) is the identity of an event, so the row tables no longer need a key of
-- their own. Their primary keys, (event_id, ts) on `events` and (event_id, row_no, ts) on each
-- `md_<family>`, could not enforce identity anyway (they include ts, the partition key), and every
-- stored row paid one more unique-index insert for them: the writers now insert rows only for the
-- ids their transaction claimed in `event_ids`, which makes a second copy impossible without them
-- (docs/verification.md, "The cost of event identity"). Queries find an event's rows through
-- (subject_id, ts), as before; by event_id alone they scan, so give its ts or a time range too.
ALTER TABLE events DROP CONSTRAINT IF EXISTS events_pkey;
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT table_name FROM family_tables WHERE to_regclass(quote_ident(table_name)) IS NOT NULL LOOP
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT IF EXISTS %I', t, t || '_pkey');
    END LOOP;
END;
$$;
