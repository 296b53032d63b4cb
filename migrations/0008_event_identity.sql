-- 0008: event_id is the identity of an event (docs/producers.md, "Event identity").
-- One row per stored event, whichever table holds it (events or md_<family>) and whatever its ts:
-- the primary keys of those tables include ts (they are partitioned by it), so on their own they
-- let the same event_id with another ts, or in another table, be stored twice. The writers insert
-- here in the same transaction as the event's rows; a second copy finds the id taken and is a
-- duplicate (same content: `digest` equal) or a conflict (dead-lettered `event_id_conflict`).
-- `digest`: the first 16 bytes of SHA-256 of the entry's payload as the producer sent it; empty
-- for events stored before this migration (content unknown: a later copy counts as a duplicate).
CREATE TABLE IF NOT EXISTS event_ids (
    event_id uuid  PRIMARY KEY,
    digest   bytea NOT NULL
);

-- Events already stored keep their identity.
INSERT INTO event_ids (event_id, digest) SELECT DISTINCT event_id, '\x'::bytea FROM events
ON CONFLICT DO NOTHING;
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT table_name FROM family_tables WHERE to_regclass(quote_ident(table_name)) IS NOT NULL LOOP
        EXECUTE format('INSERT INTO event_ids (event_id, digest) SELECT DISTINCT event_id, ''\x''::bytea FROM %I '
                       'ON CONFLICT DO NOTHING', t);
    END LOOP;
END;
$$;

REVOKE ALL ON event_ids FROM PUBLIC;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fdc-kernel') THEN
        EXECUTE 'GRANT SELECT, INSERT ON event_ids TO "fdc-kernel"';
    END IF;
END
$$;
