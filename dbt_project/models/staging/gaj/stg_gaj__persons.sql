-- 户籍人口: the raw table is the current state (one row per person_id), typed.
select
    try_cast(person_id as bigint) as person_id,
    upper(trim(cast(id_number as varchar))) as id_number,
    trim(cast(name as varchar)) as name,
    trim(cast(gender as varchar)) as gender,
    try_cast(birth_date as date) as birth_date,
    cast(ethnicity as varchar) as ethnicity,
    try_cast(household_id as bigint) as household_id,
    trim(cast(township_code as varchar)) as township_code,
    cast(address as varchar) as address,
    cast(phone as varchar) as phone,
    try_cast(updated_at as timestamp) as updated_at,
    cast(_load_id as varchar) as load_id,
    try_cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw_gaj', 'persons') }}
