-- 市场主体登记信息: the raw table is the current state (one row per uscc), typed.
select
    upper(trim(cast(uscc as varchar))) as uscc,
    cast(name as varchar) as name,
    cast(legal_representative as varchar) as legal_representative,
    upper(trim(cast(legal_rep_id_number as varchar))) as legal_rep_id_number,
    cast(enterprise_type as varchar) as enterprise_type,
    cast(industry as varchar) as industry,
    try_cast(registered_capital as decimal(18, 4)) as registered_capital,
    try_cast(established_date as date) as established_date,
    trim(cast(township_code as varchar)) as township_code,
    cast(address as varchar) as address,
    trim(cast(status as varchar)) as status,
    try_cast(updated_at as timestamp) as updated_at,
    cast(_load_id as varchar) as load_id,
    try_cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw_scjgj', 'enterprises') }}
