-- 城市管理网格: one row per grid cell. Columns and types are the ODCS contract's
-- (contracts/cgj/urban_grids.odcs.yaml); urban_grids.yml is generated from it.
select
    grid_code::varchar as grid_code,
    grid_name::varchar as grid_name,
    township_code::varchar as township_code,
    area_km2::double as area_km2
from {{ ref('stg_cgj__grids') }}
