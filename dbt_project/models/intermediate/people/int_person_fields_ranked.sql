-- One row per person, field and department holding a value for it, ranked by survivorship_rules: field_rank 1 is
-- the value resident_master_index keeps. Within a department the newest record speaks for it; blank values never
-- compete; a department with no rule for a field is not asked for it.
-- A table, not a view like the other intermediates: the master index, the conflicts list and the uniqueness test
-- each read it, and at county scale (9M values) ranking them again for each costs ~15 s.
{{ config(materialized='table') }}
with records as (
    select * from {{ ref('int_person_records_unioned') }}
),

values_ as (
    -- one row per value held (a union, not UNPIVOT: the catalog's column lineage can follow it)
    select
        id_number,
        department,
        recorded_at,
        'name' as field,
        name as value
    from records
    where name is not null
    union all
    select
        id_number,
        department,
        recorded_at,
        'gender' as field,
        gender as value
    from records
    where gender is not null
    union all
    select
        id_number,
        department,
        recorded_at,
        'birth_date' as field,
        strftime(birth_date, '%Y-%m-%d') as value
    from records
    where birth_date is not null
    union all
    select
        id_number,
        department,
        recorded_at,
        'address' as field,
        address as value
    from records
    where address is not null
    union all
    select
        id_number,
        department,
        recorded_at,
        'phone' as field,
        phone as value
    from records
    where phone is not null
    union all
    select
        id_number,
        department,
        recorded_at,
        'township_code' as field,
        township_code as value
    from records
    where township_code is not null
),

per_department as (
    -- a department's own records can disagree (a duplicate insured row, two properties): its newest one counts
    select
        id_number,
        field,
        department,
        value,
        recorded_at
    from values_
    qualify row_number() over (
        partition by id_number, field, department order by recorded_at desc nulls last, value asc
    ) = 1
),

rules as (
    select
        field,
        department,
        rank
    from {{ ref('survivorship_rules') }}
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
        order by rules.rank asc, per_department.recorded_at desc nulls last, per_department.department asc
    ) as field_rank
from per_department
inner join rules using (field, department)
