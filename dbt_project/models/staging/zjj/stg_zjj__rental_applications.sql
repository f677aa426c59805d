-- 公租房申请: the raw table is the current state (one row per application_id), typed.
select
    try_cast(application_id as bigint) as application_id,
    upper(trim(cast(applicant_id_number as varchar))) as applicant_id_number,
    trim(cast(applicant_name as varchar)) as applicant_name,
    try_cast(household_size as integer) as household_size,
    try_cast(monthly_income_per_person as decimal(12, 2)) as monthly_income_per_person,
    trim(cast(township_code as varchar)) as township_code,
    try_cast(applied_on as date) as applied_on,
    trim(cast(status as varchar)) as status,
    cast(unit_address as varchar) as unit_address,
    try_cast(updated_at as timestamp) as updated_at,
    cast(_load_id as varchar) as load_id,
    try_cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw_zjj', 'rental_applications') }}
