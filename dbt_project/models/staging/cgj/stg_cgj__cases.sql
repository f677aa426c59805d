-- 城管案件: the raw table is the current state (one row per case_id), typed. The system's status is open/closed;
-- the lifecycle step (上报 reported → 派遣 dispatched → 处置 disposed → 结案 closed) is read off its step times.
select
    try_cast(case_id as bigint) as case_id,
    trim(cast(grid_code as varchar)) as grid_code,
    cast(category as varchar) as category,
    cast(description as varchar) as description,
    try_cast(reported_at as timestamp) as reported_at,
    lower(trim(cast(status as varchar))) as status,
    try_cast(closed_at as timestamp) as closed_at,
    try_cast(updated_at as timestamp) as updated_at,
    try_cast(dispatched_at as timestamp) as dispatched_at,
    try_cast(disposed_at as timestamp) as disposed_at,
    trim(cast(handling_department as varchar)) as handling_department,
    try_cast(deadline_hours as integer) as deadline_hours,
    case
        when closed_at is not null then 'closed'
        when disposed_at is not null then 'disposed'
        when dispatched_at is not null then 'dispatched'
        else 'reported'
    end as step,
    cast(_load_id as varchar) as load_id,
    try_cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw_cgj', 'cases') }}
