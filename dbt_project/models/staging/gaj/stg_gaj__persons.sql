-- 户籍人口: the raw table is the current state (one row per person_id), typed. A cancelled registration (死亡,
-- 迁出) deletes the row at the source, which a cursor load cannot see: its 户口注销 record takes it out here.
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
from {{ source('raw_gaj', 'persons') }} as persons
where not exists (
    select 1 from {{ source('raw_gaj', 'person_cancellations') }} as cancelled
    where try_cast(cancelled.person_id as bigint) = try_cast(persons.person_id as bigint)
)
