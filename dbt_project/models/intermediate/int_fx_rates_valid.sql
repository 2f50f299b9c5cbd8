-- Each ECB fixing with the range of days it applies to: from its date up to (not including)
-- the next fixing of the same currency. A weekend or TARGET holiday falls inside the previous
-- fixing's range, so "the previous fixing" is a plain range join, portable to any warehouse.
-- EUR is added at 1 unit per EUR so cross rates (USD -> JPY) all go through EUR.
with

rates as (

    select rate_date, currency_code, units_per_eur
    from {{ ref('stg_ecb__rates') }}

),

euro as (

    select distinct rate_date, 'EUR' as currency_code, cast(1 as decimal(18, 6)) as units_per_eur
    from rates

),

all_rates as (

    select * from rates
    union all
    select * from euro

),

final as (

    select
        currency_code,
        rate_date,
        units_per_eur,
        rate_date as valid_from,
        coalesce(
            lead(rate_date) over (partition by currency_code order by rate_date),
            {{ dbt.dateadd('day', 1, dbt.cast("'9998-12-31'", 'date')) }}
        ) as valid_to

    from all_rates

)

select * from final
