-- 户口注销: one row per cancelled registration (the person row is deleted from persons), typed.
select
    try_cast(person_id as bigint) as person_id,
    upper(trim(cast(id_number as varchar))) as id_number,
    trim(cast(reason as varchar)) as reason,
    try_cast(cancelled_on as date) as cancelled_on,
    try_cast(updated_at as timestamp) as updated_at,
    cast(_load_id as varchar) as load_id,
    try_cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw_gaj', 'person_cancellations') }}
