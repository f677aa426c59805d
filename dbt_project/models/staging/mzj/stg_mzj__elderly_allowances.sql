-- 高龄津贴发放名册: the bureau's CSV export keeps Chinese headers and text values in the raw zone;
-- here they get English names and types. One row per roll line of every export file loaded so far.
select
    upper(trim(cast("身份证号" as varchar))) as id_number,
    trim(cast("姓名" as varchar)) as name,
    try_cast(trim(cast("年龄" as varchar)) as integer) as age,
    trim(cast("津贴类型" as varchar)) as allowance_type,
    try_cast(trim(cast("月发放金额" as varchar)) as decimal(12, 2)) as monthly_amount,
    trim(cast("乡镇代码" as varchar)) as township_code,
    {{ column_or_null(source('raw_mzj', 'elderly_allowances'), '_source_file') }} as source_file,
    cast(_load_id as varchar) as load_id,
    try_cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw_mzj', 'elderly_allowances') }}
