-- 城管案件处置时效: per grid cell, handling department and month of dispatch — cases dispatched, disposed on time,
-- SLA breaches (disposed late, or still undisposed past the deadline) and median hours to dispose. Columns and
-- types are contracts/cgj/urban_case_sla.odcs.yaml's. "Past the deadline" is judged against the case system's own
-- clock (its newest step time), not the build's: a re-run of the same data gives the same answer, and a county
-- loading yesterday's cases does not see them all overdue.
with cases as (
    select * from {{ ref('urban_cases') }}
    where dispatched_at is not null
),

clock as (
    select greatest(max(reported_at), max(dispatched_at), max(disposed_at), max(closed_at)) as as_of
    from {{ ref('urban_cases') }}
),

judged as (
    select
        cases.*,
        -- A dispatched case names its department; should one not, it is counted, not dropped.
        coalesce(cases.handling_department, '未指定') as department,
        clock.as_of,
        cases.disposed_at is null and cases.disposal_due_at < clock.as_of as overdue_open
    from cases
    cross join clock
)

select
    judged.grid_code::varchar as grid_code,
    grids.township_code::varchar as township_code,
    judged.department::varchar as handling_department,
    date_trunc('month', judged.dispatched_at)::date as dispatch_month,
    count(*)::integer as cases_dispatched,
    count(judged.disposed_at)::integer as cases_disposed,
    count(*) filter (where not judged.sla_breached)::integer as disposed_on_time,
    count(*) filter (where judged.sla_breached)::integer as disposed_late,
    count(*) filter (where judged.overdue_open)::integer as open_overdue,
    (count(*) filter (where judged.sla_breached or judged.overdue_open))::integer as sla_breaches,
    round(median(judged.hours_to_dispose), 2)::double as median_hours_to_dispose,
    max(judged.as_of)::timestamp as as_of
from judged
left join {{ ref('stg_cgj__grids') }} as grids on judged.grid_code = grids.grid_code
group by judged.grid_code, grids.township_code, judged.department, date_trunc('month', judged.dispatched_at)
