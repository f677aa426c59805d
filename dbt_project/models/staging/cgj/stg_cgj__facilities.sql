-- 城市部件设施: the raw table is the current state (one row per facility_id), typed.
select
    try_cast(facility_id as bigint) as facility_id,
    cast(facility_type as varchar) as facility_type,
    cast(name as varchar) as name,
    trim(cast(grid_code as varchar)) as grid_code,
    try_cast(longitude as double) as longitude,
    try_cast(latitude as double) as latitude,
    cast(status as varchar) as status,
    try_cast(updated_at as timestamp) as updated_at,
    cast(_load_id as varchar) as load_id,
    try_cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw_cgj', 'facilities') }}
