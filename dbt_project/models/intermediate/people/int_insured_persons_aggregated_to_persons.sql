-- 参保 per person: insured now means at least one insurance with contributions being paid (参保缴费); the
-- months paid are the most of any such insurance (a person's duplicate rows and types do not add up).
select
    id_number,
    bool_or(status = '参保缴费') as is_insured,
    max(months_paid) filter (where status = '参保缴费') as months_paid
from {{ ref('stg_rsj__insured_persons') }}
where id_number is not null
group by id_number
