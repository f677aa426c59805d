-- 人才认定: the raw table is the current state (one row per talent_id), typed.
select
    try_cast(talent_id as bigint) as talent_id,
    upper(trim(cast(id_number as varchar))) as id_number,
    trim(cast(name as varchar)) as name,
    trim(cast(education as varchar)) as education,
    trim(cast(talent_category as varchar)) as talent_category,
    upper(trim(cast(employer_uscc as varchar))) as employer_uscc,
    try_cast(recognized_on as date) as recognized_on,
    try_cast(updated_at as timestamp) as updated_at,
    cast(_load_id as varchar) as load_id,
    try_cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw_rsj', 'talents') }}
