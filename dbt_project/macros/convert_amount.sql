{#- Convert an exact amount between currencies through EUR with ECB rates (units per EUR):
    amount * to_units / from_units, rounded half away from zero to 4 decimals. -#}
{% macro convert_amount(amount, from_units_per_eur, to_units_per_eur) -%}
    {{ scale_amount(amount, to_units_per_eur, from_units_per_eur) }}
{%- endmacro %}

{#- amount * numerator / denominator as an exact decimal(18,4), rounded half away from zero:
    currency conversion, and allocating an order's amount to its lines by their share.

    DuckDB turns decimal division into a DOUBLE, so its version scales everything to integers
    (amount * 10^4, numerator and denominator * 10^6) and divides HUGEINTs exactly; servers
    whose numeric division is exact (PostgreSQL) use the plain formula. A zero or null
    denominator gives null. -#}
{% macro scale_amount(amount, numerator, denominator) -%}
    {{ return(adapter.dispatch('scale_amount')(amount, numerator, denominator)) }}
{%- endmacro %}

{% macro default__scale_amount(amount, numerator, denominator) -%}
    cast(round(({{ amount }}) * ({{ numerator }}) / nullif({{ denominator }}, 0), 4) as decimal(18, 4))
{%- endmacro %}

{% macro duckdb__scale_amount(amount, numerator, denominator) -%}
    cast(
        cast(
            sign(({{ amount }}) * ({{ numerator }})) * (
                (2 * abs(cast(({{ amount }}) * 10000 as hugeint)) * abs(cast(({{ numerator }}) * 1000000 as hugeint))
                 + abs(cast(({{ denominator }}) * 1000000 as hugeint)))
                // nullif(2 * abs(cast(({{ denominator }}) * 1000000 as hugeint)), 0)
            ) * sign({{ denominator }}) as decimal(38, 0)
        ) * cast(0.0001 as decimal(5, 4))
        as decimal(18, 4)
    )
{%- endmacro %}
