-- 医疗卫生机构: the raw table is the current state (one row per clinic_code), typed.
select
    trim(cast(clinic_code as varchar)) as clinic_code,
    trim(cast(clinic_name as varchar)) as clinic_name,
    trim(cast(clinic_type as varchar)) as clinic_type,
    trim(cast(township_code as varchar)) as township_code,
    cast(address as varchar) as address,
    try_cast(updated_at as timestamp) as updated_at,
    cast(_load_id as varchar) as load_id,
    try_cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw_wjj', 'clinics') }}
