-- 城市管理网格: the raw table is the current state (one row per grid_code), typed.
select
    trim(cast(grid_code as varchar)) as grid_code,
    cast(grid_name as varchar) as grid_name,
    trim(cast(township_code as varchar)) as township_code,
    try_cast(area_km2 as double) as area_km2,
    try_cast(updated_at as timestamp) as updated_at,
    cast(_load_id as varchar) as load_id,
    try_cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw_cgj', 'grids') }}
