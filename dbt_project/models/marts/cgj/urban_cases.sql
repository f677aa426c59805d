-- 城管案件: one row per case (descriptions are not shared). Columns and types are the ODCS contract's
-- (contracts/cgj/urban_cases.odcs.yaml); urban_cases.yml is generated from it. Cases are not filtered by
-- grid here: the contract gate quarantines those whose grid cell is not published.
select
    case_id::bigint as case_id,
    grid_code::varchar as grid_code,
    category::varchar as category,
    status::varchar as status,
    reported_at::timestamp as reported_at,
    closed_at::timestamp as closed_at,
    load_id::varchar as load_id
from {{ ref('stg_cgj__cases') }}
