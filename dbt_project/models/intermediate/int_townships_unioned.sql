-- Every township: the seed list plus any code a department uses, named from the seed or else from
-- the civil affairs roll (the one source that carries names), so no township silently disappears.
with codes as (
    select township_code from {{ ref('townships') }}
    union
    select township_code from {{ ref('stg_gaj__persons') }}
    union
    select township_code from {{ ref('stg_gaj__households') }}
    union
    select township_code from {{ ref('stg_cgj__grids') }}
    union
    select township_code from {{ ref('stg_scjgj__enterprises') }}
    union
    select township_code from {{ ref('int_subsidies_filtered_to_latest_file') }}
),

roll_names as (
    select
        township_code,
        mode(township_name) as township_name
    from {{ ref('int_subsidies_filtered_to_latest_file') }}
    group by township_code
)

select
    codes.township_code,
    coalesce(seed.township_name, roll_names.township_name) as township_name,
    seed.township_code is not null as in_seed
from codes
left join {{ ref('townships') }} as seed using (township_code)
left join roll_names using (township_code)
where codes.township_code is not null
