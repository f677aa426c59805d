-- 乡镇综合概况: one row per township. Columns and types are the ODCS contract's
-- (contracts/dsj/township_overview.odcs.yaml); township_overview.yml is generated from it.
with townships as (
    select * from {{ ref('int_townships_unioned') }}
),

residents as (
    select
        township_code,
        count(*) as n
    from {{ ref('stg_gaj__persons') }}
    group by 1
),

households as (
    select
        township_code,
        count(*) as n
    from {{ ref('stg_gaj__households') }}
    group by 1
),

subsidies as (
    select
        township_code,
        count(distinct id_number) as recipients,
        sum(monthly_amount) as total
    from {{ ref('int_subsidies_filtered_to_latest_file') }}
    group by 1
),

enterprises as (
    select
        township_code,
        count(*) as n
    from {{ ref('stg_scjgj__enterprises') }}
    where status = '存续'
    group by 1
),

grids as (
    select * from {{ ref('stg_cgj__grids') }}
),

grid_counts as (
    select
        township_code,
        count(*) as n
    from grids
    group by 1
),

facilities as (
    select
        grids.township_code,
        count(*) as n
    from {{ ref('stg_cgj__facilities') }}
    inner join grids using (grid_code)
    group by 1
),

open_cases as (
    select
        grids.township_code,
        count(*) as n
    from {{ ref('stg_cgj__cases') }} as c
    inner join grids using (grid_code)
    where c.status = 'open'
    group by 1
)

select
    t.township_code::varchar as township_code,
    t.township_name::varchar as township_name,
    coalesce(residents.n, 0)::bigint as residents,
    coalesce(households.n, 0)::bigint as households,
    coalesce(subsidies.recipients, 0)::bigint as subsidy_recipients,
    coalesce(subsidies.total, 0)::decimal(14, 2) as monthly_subsidy_total,
    coalesce(enterprises.n, 0)::bigint as active_enterprises,
    coalesce(grid_counts.n, 0)::bigint as grids,
    coalesce(facilities.n, 0)::bigint as facilities,
    coalesce(open_cases.n, 0)::bigint as open_cases
from townships as t
left join residents using (township_code)
left join households using (township_code)
left join subsidies using (township_code)
left join enterprises using (township_code)
left join grid_counts using (township_code)
left join facilities using (township_code)
left join open_cases using (township_code)
