-- 接种完整性: one row per child with a vaccination record, checked against the national schedule (seed
-- vaccination_schedule): every dose due by the child's age in whole months on the as-of date must be recorded. A
-- dose not yet due cannot be missing.
with children as (
    select
        child_id_number,
        max(birth_date) as birth_date
    from {{ ref('int_vaccinations_deduplicated') }}
    group by child_id_number
),

due as (
    select
        children.child_id_number,
        schedule.vaccine_code,
        schedule.vaccine_name,
        schedule.dose_no
    from children
    inner join {{ ref('vaccination_schedule') }} as schedule
        on schedule.due_age_months <= {{ full_months_between('children.birth_date', as_of_date()) }}
),

missing as (
    select
        due.child_id_number,
        count(*) as missing_doses,
        string_agg(due.vaccine_name || '第' || due.dose_no || '剂', '、' order by due.vaccine_code, due.dose_no)
            as missing_list
    from due
    left join {{ ref('int_vaccinations_deduplicated') }} as given
        on
            due.child_id_number = given.child_id_number
            and due.vaccine_code = given.vaccine_code
            and due.dose_no = given.dose_no
    where given.child_id_number is null
    group by due.child_id_number
)

select
    children.child_id_number,
    children.birth_date,
    coalesce(missing.missing_doses, 0) as missing_doses,
    missing.missing_list,
    missing.child_id_number is null as is_complete
from children
left join missing using (child_id_number)
