-- 网格部件设施清单: one row per grid cell and facility type, counting its facilities by status. Columns and
-- types are the ODCS contract's (contracts/cgj/grid_facility_inventory.odcs.yaml); the .yml is generated from it.
-- A facility whose grid cell is unknown keeps its grid_code (township null): the gate quarantines it.
with counted as (
    select
        grid_code,
        facility_type,
        count(*) as facilities_total,
        count(*) filter (where status = '正常') as facilities_normal,
        count(*) filter (where status = '损坏') as facilities_damaged,
        count(*) filter (where status = '维修中') as facilities_under_repair,
        max(updated_at) as last_updated_at
    from {{ ref('stg_cgj__facilities') }}
    where grid_code is not null and facility_type is not null
    group by grid_code, facility_type
)

select
    counted.grid_code::varchar as grid_code,
    grids.grid_name::varchar as grid_name,
    grids.township_code::varchar as township_code,
    townships.township_name::varchar as township_name,
    counted.facility_type::varchar as facility_type,
    counted.facilities_total::integer as facilities_total,
    counted.facilities_normal::integer as facilities_normal,
    counted.facilities_damaged::integer as facilities_damaged,
    counted.facilities_under_repair::integer as facilities_under_repair,
    (
        counted.facilities_total
        - counted.facilities_normal
        - counted.facilities_damaged
        - counted.facilities_under_repair
    )::integer as facilities_other_status,
    counted.last_updated_at::timestamp as last_updated_at
from counted
left join {{ ref('stg_cgj__grids') }} as grids on counted.grid_code = grids.grid_code
-- The seed, not int_townships_unioned: that one reads every department, and a failed load elsewhere (scjgj) must
-- not hold back cgj's inventory.
left join {{ ref('townships') }} as townships on grids.township_code = townships.township_code
