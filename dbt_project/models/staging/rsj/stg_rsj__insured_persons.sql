-- 参保人员: the raw table is the current state (one row per insured_id), typed. One person has a row per
-- insurance type, and ~0.5% of rows are the same person and type entered twice under another insured_id.
select
    try_cast(insured_id as bigint) as insured_id,
    upper(trim(cast(id_number as varchar))) as id_number,
    trim(cast(name as varchar)) as name,
    trim(cast(gender as varchar)) as gender,
    trim(cast(insurance_type as varchar)) as insurance_type,
    upper(trim(cast(employer_uscc as varchar))) as employer_uscc,
    cast(employer_name as varchar) as employer_name,
    trim(cast(status as varchar)) as status,
    try_cast(trim(cast(start_month as varchar)) || '-01' as date) as start_month,
    try_cast(months_paid as integer) as months_paid,
    trim(cast(township_code as varchar)) as township_code,
    cast(address as varchar) as address,
    cast(phone as varchar) as phone,
    try_cast(updated_at as timestamp) as updated_at,
    cast(_load_id as varchar) as load_id,
    try_cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw_rsj', 'insured_persons') }}
