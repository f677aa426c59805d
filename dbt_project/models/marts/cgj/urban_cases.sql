-- 城管案件: one row per case (descriptions are not shared), with its steps 上报 reported → 派遣 dispatched →
-- 处置 disposed → 结案 closed, the hours spent in each and whether disposal met its deadline (处置时限: deadline_hours
-- from dispatch). Columns and types are the ODCS contract's (contracts/cgj/urban_cases.odcs.yaml); urban_cases.yml
-- is generated from it, incremental merging on case_id: a build reads only the cases loaded since the last one.
-- sla_breached judges finished disposals only (null before): whether an open case is overdue depends on the
-- clock, not on the row, so urban_case_sla counts those at build time. Cases are not filtered by grid here: the
-- contract gate quarantines those whose grid cell is not published.
with cases as (
    select * from {{ ref('stg_cgj__cases') }}
    {% if is_incremental() %}
        -- The lake's load time, not the case system's updated_at: a late update (a step written without moving
        -- updated_at) still arrives as a newly loaded row.
        where loaded_at > (
            select coalesce(max(current_cases.loaded_at), timestamp '1970-01-01') from {{ this }} as current_cases
        )
    {% endif %}
),

timed as (
    select
        *,
        dispatched_at + to_hours(deadline_hours) as disposal_due_at
    from cases
)

select
    case_id::bigint as case_id,
    grid_code::varchar as grid_code,
    category::varchar as category,
    status::varchar as status,
    reported_at::timestamp as reported_at,
    closed_at::timestamp as closed_at,
    load_id::varchar as load_id,
    step::varchar as step,
    handling_department::varchar as handling_department,
    dispatched_at::timestamp as dispatched_at,
    disposed_at::timestamp as disposed_at,
    deadline_hours::integer as deadline_hours,
    round(date_diff('second', reported_at, dispatched_at) / 3600, 2)::double as hours_to_dispatch,
    round(date_diff('second', dispatched_at, disposed_at) / 3600, 2)::double as hours_to_dispose,
    round(date_diff('second', disposed_at, closed_at) / 3600, 2)::double as hours_to_close,
    disposal_due_at::timestamp as disposal_due_at,
    (disposed_at > disposal_due_at)::boolean as sla_breached,
    loaded_at::timestamp as loaded_at
from timed
