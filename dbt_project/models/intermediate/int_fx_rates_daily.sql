-- The ECB rate in force on every calendar day 2015-2035 for every currency: that day's fixing,
-- or the previous one on weekends, TARGET holidays and after the last fixing loaded. One row
-- per (currency, day), so every conversion is an equality join, which stays fast at millions
-- of orders (a range join against 27 years of fixings does not). EUR is 1 unit per EUR, so
-- cross rates (USD -> JPY) go through EUR. Carried forward with standard window functions
-- (a running count of fixings numbers each run of days), portable to any warehouse.
-- `changed_at` is when a day's rate last changed: kept from the table's previous build when
-- the day's fixing and rate are the same, else this build's time. The ECB connector re-loads
-- a week of fixings each run; incremental facts rebuild only the orders whose rate changed
-- (macro `changed_order_ids`), not a week of orders every hour.
{%- set previous = adapter.get_relation(this.database, this.schema, this.identifier) if execute else none %}
{%- set has_changed_at = previous is not none
    and 'changed_at' in (adapter.get_columns_in_relation(previous) | map(attribute='name') | list) %}
with

rates as (

    select rate_date, currency_code, units_per_eur
    from {{ ref('stg_ecb__rates') }}

),

fixing_days as (

    select distinct rate_date from rates

),

euro as (

    select rate_date, 'EUR' as currency_code, cast(1 as decimal(18, 6)) as units_per_eur
    from fixing_days

),

all_rates as (

    select * from rates
    union all
    select * from euro

),

days as (

    select cast(date_day as date) as rate_day
    from ({{ dbt.date_spine('day', "cast('2015-01-01' as date)", "cast('2036-01-01' as date)") }}) as spine

),

currencies as (

    select distinct currency_code from all_rates

),

grid as (

    select
        currencies.currency_code,
        days.rate_day,
        all_rates.rate_date,
        all_rates.units_per_eur,
        count(all_rates.rate_date) over (
            partition by currencies.currency_code order by days.rate_day
            rows between unbounded preceding and current row
        ) as fixing_number
    from currencies
    cross join days
    left join all_rates
        on all_rates.currency_code = currencies.currency_code
        and all_rates.rate_date = days.rate_day

),

-- The last fixing before 2015 seeds the first days of the grid.
before_grid as (

    select currency_code, max(rate_date) as rate_date
    from all_rates
    where rate_date < cast('2015-01-01' as date)
    group by currency_code

),

carried as (

    select
        grid.currency_code,
        grid.rate_day,
        max(grid.rate_date) over (partition by grid.currency_code, grid.fixing_number) as rate_date,
        max(grid.units_per_eur) over (partition by grid.currency_code, grid.fixing_number) as units_per_eur,
        grid.fixing_number
    from grid

),

rates_by_day as (

    select
        carried.currency_code,
        carried.rate_day,
        coalesce(carried.rate_date, before_grid.rate_date) as rate_date,
        coalesce(carried.units_per_eur, seed_rate.units_per_eur) as units_per_eur
    from carried
    left join before_grid
        on carried.fixing_number = 0 and carried.currency_code = before_grid.currency_code
    left join all_rates as seed_rate
        on seed_rate.currency_code = before_grid.currency_code
        and seed_rate.rate_date = before_grid.rate_date
    where coalesce(carried.rate_date, before_grid.rate_date) is not null

),

final as (

    select
        rates_by_day.*,
        {% if has_changed_at -%}
        case
            when previous.rate_date = rates_by_day.rate_date
                and previous.units_per_eur = rates_by_day.units_per_eur
                then previous.changed_at
            else {{ built_at() }}
        end as changed_at
    from rates_by_day
    left join {{ previous }} as previous
        on previous.currency_code = rates_by_day.currency_code
        and previous.rate_day = rates_by_day.rate_day
        {%- else %}
        {{ built_at() }} as changed_at
    from rates_by_day
        {%- endif %}

)

select * from final
