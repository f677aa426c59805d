-- 一年级新生入学申请: one row per application line of every school's workbook in the raw zone. Schools write
-- dates their own way (2020-03-05, 2020/3/5, 2020年3月5日, Excel dates): school_date reads them all; the school
-- is the one whose file it is (enrollment_<school_code>_<year>.xlsx).
select
    trim(cast("学生姓名" as varchar)) as student_name,
    trim(cast("性别" as varchar)) as gender,
    {{ school_date('"出生日期"') }} as birth_date,
    upper(trim(cast("学生身份证号" as varchar))) as student_id_number,
    trim(cast("监护人姓名" as varchar)) as guardian_name,
    upper(trim(cast("监护人身份证号" as varchar))) as guardian_id_number,
    trim(cast("与学生关系" as varchar)) as relationship,
    cast("户籍地址" as varchar) as registered_address,
    cast("现居住地址" as varchar) as current_address,
    trim(cast("联系电话" as varchar)) as phone,
    {{ school_date('"申请日期"') }} as applied_on,
    regexp_extract({{ column_or_null(source('raw_jyj', 'enrollment_applications'), '_source_file') }}, 'enrollment_([0-9A-Za-z]+)_', 1) as school_code,
    {{ column_or_null(source('raw_jyj', 'enrollment_applications'), '_source_file') }} as source_file,
    cast(_load_id as varchar) as load_id,
    try_cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw_jyj', 'enrollment_applications') }}
