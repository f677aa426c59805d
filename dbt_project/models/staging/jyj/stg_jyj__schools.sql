-- 学校名录: the raw table is the current state (one row per school_code), typed.
select
    trim(cast(school_code as varchar)) as school_code,
    trim(cast(school_name as varchar)) as school_name,
    trim(cast(school_type as varchar)) as school_type,
    trim(cast(township_code as varchar)) as township_code,
    cast(address as varchar) as address,
    try_cast(grade1_capacity as integer) as grade1_capacity,
    try_cast(updated_at as timestamp) as updated_at,
    cast(_load_id as varchar) as load_id,
    try_cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw_jyj', 'schools') }}
