-- 不动产登记: the raw table is the current state (one row per property_id), typed.
select
    trim(cast(property_id as varchar)) as property_id,
    upper(trim(cast(owner_id_number as varchar))) as owner_id_number,
    trim(cast(owner_name as varchar)) as owner_name,
    trim(cast(township_code as varchar)) as township_code,
    cast(address as varchar) as address,
    try_cast(area_m2 as double) as area_m2,
    trim(cast(usage as varchar)) as usage,
    try_cast(registered_on as date) as registered_on,
    trim(cast(status as varchar)) as status,
    try_cast(updated_at as timestamp) as updated_at,
    cast(_load_id as varchar) as load_id,
    try_cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw_zjj', 'property_records') }}
