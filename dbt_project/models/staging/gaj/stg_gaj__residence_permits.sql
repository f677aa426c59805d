-- 居住证: the raw table is the current state (one row per permit_no), typed.
select
    trim(cast(permit_no as varchar)) as permit_no,
    upper(trim(cast(id_number as varchar))) as id_number,
    trim(cast(name as varchar)) as name,
    trim(cast(gender as varchar)) as gender,
    try_cast(birth_date as date) as birth_date,
    trim(cast(township_code as varchar)) as township_code,
    cast(address as varchar) as address,
    try_cast(issued_on as date) as issued_on,
    try_cast(valid_until as date) as valid_until,
    trim(cast(status as varchar)) as status,
    try_cast(updated_at as timestamp) as updated_at,
    cast(_load_id as varchar) as load_id,
    try_cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw_gaj', 'residence_permits') }}
