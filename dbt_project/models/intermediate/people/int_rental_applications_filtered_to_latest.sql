-- 公租房申请: one row per applicant, their latest application, and whether any of their applications was ever
-- allocated a unit (已配租), which a newer application does not undo.
with applications as (
    select * from {{ ref('stg_zjj__rental_applications') }}
    where applicant_id_number is not null
)

select
    applicant_id_number,
    application_id,
    applicant_name,
    household_size,
    monthly_income_per_person,
    township_code,
    applied_on,
    status,
    unit_address,
    bool_or(status = '已配租') over (partition by applicant_id_number) as ever_allocated
from applications
qualify row_number() over (
    partition by applicant_id_number order by applied_on desc nulls last, application_id desc
) = 1
