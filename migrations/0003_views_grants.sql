-- 0003_views_grants: cheap views and the optional `fdc-kernel` role's grants.
-- The heavy materialized views of SPEC §10 are left out; `events_all` (events ∪ md_* tables) is
-- created and refreshed by the kernel whenever it creates a family table.

-- Keys with their producers (SPEC §10 producer_overview: keys ⟕ producers).
CREATE OR REPLACE VIEW producer_overview AS
SELECT k.fingerprint,
       k.status       AS key_status,
       k.created_at   AS key_created_at,
       k.approved_at,
       k.revoked_at,
       k.superseded_at,
       k.superseded_by,
       p.producer_id,
       p.name         AS producer_name,
       p.description,
       p.created_at   AS producer_created_at,
       p.disabled_at
  FROM producer_keys k
  LEFT JOIN producers p ON p.producer_id = k.producer_id;

-- Nobody writes events through PUBLIC; the kernel role gets exactly what it needs.
REVOKE ALL ON events, event_tags FROM PUBLIC;
REVOKE ALL ON FUNCTION ensure_month_partitions(regclass, date, int) FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fdc-kernel') THEN
        -- CREATE: the kernel creates md_<family> tables and the events_all view at run time.
        EXECUTE 'GRANT USAGE, CREATE ON SCHEMA public TO "fdc-kernel"';
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON schemas, producers, subjects, producer_subjects,
                 subject_schemas, tags, producer_tokens, revoked_tokens, producer_keys,
                 producer_registrations, family_tables, stats_event_month, stats_tag_month
                 TO "fdc-kernel"';
        EXECUTE 'GRANT SELECT, INSERT ON events, event_tags TO "fdc-kernel"';
        EXECUTE 'GRANT SELECT ON producer_overview TO "fdc-kernel"';
        EXECUTE 'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "fdc-kernel"';
        EXECUTE 'GRANT EXECUTE ON FUNCTION ensure_month_partitions(regclass, date, int) TO "fdc-kernel"';
    END IF;
END
$$;
