-- One row per person on the current roll: the types they receive and the monthly total.
select
    id_number,
    string_agg(distinct subsidy_type, '、' order by subsidy_type) as subsidy_types,
    sum(monthly_amount) as monthly_subsidy_amount,
    count(*) as subsidy_lines
from {{ ref('int_subsidies_filtered_to_latest_file') }}
group by id_number
