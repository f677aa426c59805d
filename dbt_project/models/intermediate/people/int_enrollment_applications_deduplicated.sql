-- 新生入学申请: one row per student and intake year. A school sends a new workbook whenever its list changes, so
-- only the loads since the last build are read and merged on the key; a student on two schools' lists keeps the
-- latest application. The intake year is the one in the file name (enrollment_<school>_<YYYY>.xlsx), else the
-- year the application was made. A student dropped from a school's newer workbook keeps the earlier row until a
-- full refresh (the merge adds and replaces; it never deletes).
{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key=['student_id_number', 'intake_year'],
) }}
with applications as (
    select
        *,
        coalesce(
            try_cast(regexp_extract(source_file, '_([0-9]{4})\.xlsx?$', 1) as integer),
            year(applied_on)
        ) as intake_year
    from {{ ref('stg_jyj__enrollment_applications') }}
    where
        student_id_number is not null
        {% if is_incremental() %}
            and loaded_at > (
                select coalesce(max(existing.loaded_at), timestamp '1900-01-01')
                from {{ this }} as existing
            )
        {% endif %}
)

select
    student_id_number,
    intake_year,
    student_name,
    gender,
    birth_date,
    guardian_name,
    guardian_id_number,
    relationship,
    registered_address,
    current_address,
    phone,
    applied_on,
    school_code,
    source_file,
    loaded_at
from applications
qualify row_number() over (
    partition by student_id_number, intake_year order by applied_on desc nulls last, source_file desc
) = 1
