-- 预防接种记录: the raw table is the current state (one row per record_id, one dose each), typed.
select
    try_cast(record_id as bigint) as record_id,
    upper(trim(cast(child_id_number as varchar))) as child_id_number,
    trim(cast(child_name as varchar)) as child_name,
    try_cast(birth_date as date) as birth_date,
    trim(cast(vaccine_code as varchar)) as vaccine_code,
    trim(cast(vaccine_name as varchar)) as vaccine_name,
    try_cast(dose_no as integer) as dose_no,
    try_cast(vaccinated_on as date) as vaccinated_on,
    trim(cast(clinic_code as varchar)) as clinic_code,
    try_cast(updated_at as timestamp) as updated_at,
    cast(_load_id as varchar) as load_id,
    try_cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw_wjj', 'vaccinations') }}
