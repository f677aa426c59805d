-- One row per person, field and department holding a value for it, ranked by survivorship_rules: field_rank 1 is
-- the value resident_master_index keeps. Within a department the newest record speaks for it; blank values never
-- compete; a department with no rule for a field is not asked for it.
with records as (
    select * from {{ ref('int_person_records_unioned') }}
),
values_ as (
    unpivot (
        select
            id_number, department, recorded_at,
            name, gender, strftime(birth_date, '%Y-%m-%d') as birth_date, address, phone, township_code
        from records
    )
    on name, gender, birth_date, address, phone, township_code
    into name field value value
),
per_department as (
    -- a department's own records can disagree (a duplicate insured row, two properties): its newest one counts
    select id_number, field, department, value, recorded_at
    from values_
    qualify row_number() over (
        partition by id_number, field, department order by recorded_at desc nulls last, value
    ) = 1
),
rules as (
    select field, department, rank from {{ ref('survivorship_rules') }}
)
select
    per_department.id_number,
    per_department.field,
    per_department.department,
    per_department.value,
    per_department.recorded_at,
    rules.rank as rule_rank,
    row_number() over (
        partition by per_department.id_number, per_department.field
        order by rules.rank, per_department.recorded_at desc nulls last, per_department.department
    ) as field_rank
from per_department
join rules using (field, department)
