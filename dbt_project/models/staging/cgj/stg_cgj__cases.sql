-- 城管案件: the raw table is the current state (one row per case_id), typed.
select
    try_cast(case_id as bigint) as case_id,
    trim(cast(grid_code as varchar)) as grid_code,
    cast(category as varchar) as category,
    cast(description as varchar) as description,
    try_cast(reported_at as timestamp) as reported_at,
    lower(trim(cast(status as varchar))) as status,
    try_cast(closed_at as timestamp) as closed_at,
    try_cast(updated_at as timestamp) as updated_at,
    cast(_load_id as varchar) as load_id,
    try_cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw_cgj', 'cases') }}
