-- 社会救助发放名册: the bureau's CSV export keeps Chinese headers and text values in the raw zone;
-- here they get English names and types. One row per roll line of every export file loaded so far
-- (files mode: a changed file's rows are replaced, an unchanged file's rows stay).
select
    upper(trim(cast("身份证号" as varchar))) as id_number,
    trim(cast("姓名" as varchar)) as name,
    trim(cast("救助类型" as varchar)) as subsidy_type,
    try_cast(trim(cast("月发放金额" as varchar)) as decimal(12, 2)) as monthly_amount,
    try_cast(trim(cast("起始年月" as varchar)) || '-01' as date) as start_month,
    trim(cast("乡镇代码" as varchar)) as township_code,
    trim(cast("乡镇名称" as varchar)) as township_name,
    {{ column_or_null(source('raw_mzj', 'subsidy_roll'), '_source_file') }} as source_file,
    cast(_load_id as varchar) as load_id,
    try_cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw_mzj', 'subsidy_roll') }}
