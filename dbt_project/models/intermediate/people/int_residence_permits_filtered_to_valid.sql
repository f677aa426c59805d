-- 有效居住证: one row per person holding a residence permit that is valid on the as-of date (status 有效, issued
-- and not yet expired; the last day of valid_until still counts). The permit valid longest speaks for the person.
select
    id_number,
    permit_no,
    township_code,
    issued_on,
    valid_until
from {{ ref('stg_gaj__residence_permits') }}
where
    status = '有效'
    and id_number is not null
    and (issued_on is null or issued_on <= {{ as_of_date() }})
    and valid_until >= {{ as_of_date() }}
qualify row_number() over (partition by id_number order by valid_until desc, permit_no asc) = 1
