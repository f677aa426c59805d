-- 居民信息冲突清单: one row per person, field and department whose value differs from the value the master index
-- kept, for that department to check and fix. Phone numbers are not compared (a person may rightly give each
-- department another number). Columns and types are the ODCS contract's
-- (contracts/dsj/resident_conflicts.odcs.yaml); resident_conflicts.yml is generated from it.
with ranked as (
    select * from {{ ref('int_person_fields_ranked') }}
    where field <> 'phone'
),

winners as (
    select * from ranked
    where field_rank = 1
),

conflicts as (
    select
        other.id_number,
        other.field,
        winners.value as master_value,
        winners.department as master_department,
        other.value as department_value,
        other.department,
        other.recorded_at as department_recorded_at,
        case
            -- equal once spaces (also the full-width 　) and middle dots are gone: only typed differently
            when regexp_replace(other.value, '[\s　·・]', '', 'g') = regexp_replace(winners.value, '[\s　·・]', '', 'g')
                then 'format'
            -- an address or township goes out of date when a move is not reported; a name or birth date does not
            when other.field in ('address', 'township_code') and other.recorded_at < winners.recorded_at then 'stale'
            else 'mismatch'
        end as conflict_kind
    from ranked as other
    inner join winners using (id_number, field)
    where other.field_rank > 1 and other.value <> winners.value
)

select
    id_number::varchar as id_number,
    field::varchar as field,
    department::varchar as department,
    department_value::varchar as department_value,
    department_recorded_at::timestamp as department_recorded_at,
    master_value::varchar as master_value,
    master_department::varchar as master_department,
    conflict_kind::varchar as conflict_kind
from conflicts
