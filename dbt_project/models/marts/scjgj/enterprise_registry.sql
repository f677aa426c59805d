-- 市场主体登记信息: one row per enterprise (public registration data only). Columns and types are the ODCS
-- contract's (contracts/scjgj/enterprise_registry.odcs.yaml); enterprise_registry.yml is generated from it.
select
    uscc::varchar as uscc,
    name::varchar as name,
    enterprise_type::varchar as enterprise_type,
    industry::varchar as industry,
    registered_capital::decimal(18, 4) as registered_capital,
    established_date::date as established_date,
    township_code::varchar as township_code,
    status::varchar as status
from {{ ref('stg_scjgj__enterprises') }}
