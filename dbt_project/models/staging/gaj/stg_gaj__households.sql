-- 户籍户: the raw table is the current state (one row per household_id), typed.
select
    try_cast(household_id as bigint) as household_id,
    upper(trim(cast(head_id_number as varchar))) as head_id_number,
    trim(cast(township_code as varchar)) as township_code,
    cast(address as varchar) as address,
    try_cast(registered_on as date) as registered_on,
    try_cast(updated_at as timestamp) as updated_at,
    cast(_load_id as varchar) as load_id,
    try_cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw_gaj', 'households') }}
