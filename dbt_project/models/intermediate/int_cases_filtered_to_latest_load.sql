-- The current case: rows of the newest load (a full snapshot of the source).
{{ latest_load(ref('stg_cgj__cases')) }}
