-- The current enterprise: rows of the newest load (a full snapshot of the source).
{{ latest_load(ref('stg_scjgj__enterprises')) }}
