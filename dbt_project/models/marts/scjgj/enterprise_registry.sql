-- 市场主体登记信息: one row per enterprise (public registration data only). Columns and types are the ODCS
-- contract's (contracts/scjgj/enterprise_registry.odcs.yaml); enterprise_registry.yml is generated from it.
-- uscc_valid is GB 32100's check computed in SQL (macros/uscc_is_valid.sql); the gate checks it again with
-- the Python rule, so the two implementations are compared on every build.
select
    uscc::varchar as uscc,
    name::varchar as name,
    enterprise_type::varchar as enterprise_type,
    industry::varchar as industry,
    registered_capital::decimal(18, 4) as registered_capital,
    established_date::date as established_date,
    township_code::varchar as township_code,
    status::varchar as status,
    coalesce({{ uscc_is_valid('uscc') }}, false)::boolean as uscc_valid,
    -- 存续 is the only status under which an enterprise may trade; 注销 and 吊销 stay on the register.
    (status = '存续')::boolean as is_operating
from {{ ref('stg_scjgj__enterprises') }}
