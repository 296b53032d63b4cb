-- 0007_admin: the admin review functions of SPEC §10 (approve_producer_key_new, approve_key_rotation,
-- reject_producer_key), used by the admin API (Sources/KernelAdmin/AdminStore.swift) and callable by
-- hand. Re-runnable (CREATE OR REPLACE). Each runs inside the caller's transaction; a refusal raises
-- SQLSTATE P0001 with the message "<reason_code>: <detail>", which the admin API answers as
-- 400 {"error": <reason_code>}.

-- Approve a new producer's first key (SPEC §5.3): the key must be pending and bound to the producer;
-- it becomes approved, the producer's description becomes the notes when given, and the key's pending
-- audit rows become approved. Returns the producer id.
CREATE OR REPLACE FUNCTION approve_producer_key_new(_fingerprint text, _producer_id uuid, _reviewer text,
                                                    _notes text DEFAULT NULL)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_status   text;
    v_producer uuid;
BEGIN
    SELECT status, producer_id INTO v_status, v_producer FROM producer_keys WHERE fingerprint = _fingerprint FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'unknown_fingerprint: no key with this fingerprint';
    END IF;
    IF v_status <> 'pending' THEN
        RAISE EXCEPTION USING ERRCODE = 'P0001',
            MESSAGE = format('key_not_pending: the key is %s, only a pending key can be approved', v_status);
    END IF;
    IF v_producer IS DISTINCT FROM _producer_id THEN
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = format('producer_mismatch: the key is bound to producer %s', v_producer);
    END IF;
    IF _notes IS NOT NULL AND length(_notes) > 0 THEN
        UPDATE producers SET description = _notes WHERE producer_id = _producer_id;
    END IF;
    UPDATE producer_keys SET status = 'approved', approved_at = now(), notes = COALESCE(NULLIF(_notes, ''), notes)
     WHERE fingerprint = _fingerprint;
    UPDATE producer_registrations SET status = 'approved', reviewed_at = now(), reviewer = NULLIF(_reviewer, '')
     WHERE fingerprint = _fingerprint AND status = 'pending';
    RETURN _producer_id;
END;
$$;

-- Approve a key rotation (SPEC §5.3): the new key must be pending and bound to the producer; the
-- producer's approved key (if any) becomes superseded by it and the new key approved, atomically (the
-- partial unique index producer_keys_one_approved_idx keeps one approved key per producer).
CREATE OR REPLACE FUNCTION approve_key_rotation(_fingerprint text, _producer_id uuid, _reviewer text,
                                                _notes text DEFAULT NULL)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_status   text;
    v_producer uuid;
BEGIN
    SELECT status, producer_id INTO v_status, v_producer FROM producer_keys WHERE fingerprint = _fingerprint FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'unknown_fingerprint: no key with this fingerprint';
    END IF;
    IF v_status <> 'pending' THEN
        RAISE EXCEPTION USING ERRCODE = 'P0001',
            MESSAGE = format('key_not_pending: the key is %s, only a pending key can be approved', v_status);
    END IF;
    IF v_producer IS DISTINCT FROM _producer_id THEN
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = format('producer_mismatch: the key is bound to producer %s', v_producer);
    END IF;
    UPDATE producer_keys SET status = 'superseded', superseded_at = now(), superseded_by = _fingerprint
     WHERE producer_id = _producer_id AND status = 'approved';
    UPDATE producer_keys SET status = 'approved', approved_at = now(), notes = COALESCE(NULLIF(_notes, ''), notes)
     WHERE fingerprint = _fingerprint;
    UPDATE producer_registrations SET status = 'approved', reviewed_at = now(), reviewer = NULLIF(_reviewer, '')
     WHERE fingerprint = _fingerprint AND status = 'pending';
    RETURN _producer_id;
END;
$$;

-- Deny a key (SPEC §5.3): any status → revoked (notes = reason); its pending audit rows → rejected
-- with the reason. The reason is mandatory. Returns the key's producer id.
CREATE OR REPLACE FUNCTION reject_producer_key(_fingerprint text, _reviewer text, _reason text)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_producer uuid;
BEGIN
    IF _reason IS NULL OR length(_reason) = 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'missing_reason: a reason is required to deny a key';
    END IF;
    UPDATE producer_keys SET status = 'revoked', revoked_at = now(), notes = _reason
     WHERE fingerprint = _fingerprint RETURNING producer_id INTO v_producer;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'unknown_fingerprint: no key with this fingerprint';
    END IF;
    UPDATE producer_registrations SET status = 'rejected', reason = _reason, reviewed_at = now(),
           reviewer = NULLIF(_reviewer, '')
     WHERE fingerprint = _fingerprint AND status = 'pending';
    RETURN v_producer;
END;
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fdc-kernel') THEN
        EXECUTE 'GRANT EXECUTE ON FUNCTION approve_producer_key_new(text, uuid, text, text),
                 approve_key_rotation(text, uuid, text, text), reject_producer_key(text, text, text) TO "fdc-kernel"';
    END IF;
END
$$;
