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
    {#- 2|a||n| + |d| over 2|d|, in integers: round half away from zero of |a * n / d|. DuckDB
        divides HUGEINTs bit by bit (2.7 s per 1.5M rows here, most of rpt_margin's time), so
        the quotient is taken in BIGINT whenever both sides fit, which at shop amounts is
        every row; the HUGEINT division stays for the rest, so the result is the same exact
        number either way. The sign is taken per factor: the DECIMAL(18) product `a * n`
        overflows for large amounts. -#}
    {%- set dividend -%}
        (2 * abs(cast(({{ amount }}) * 10000 as hugeint)) * abs(cast(({{ numerator }}) * 1000000 as hugeint))
         + abs(cast(({{ denominator }}) * 1000000 as hugeint)))
    {%- endset -%}
    {%- set divisor -%}
        (2 * abs(cast(({{ denominator }}) * 1000000 as hugeint)))
    {%- endset -%}
    cast(
        cast(
            sign({{ amount }}) * sign({{ numerator }}) * (
                case
                    when {{ dividend }} <= 9223372036854775807 and {{ divisor }} <= 9223372036854775807
                        then cast({{ dividend }} as bigint) // nullif(cast({{ divisor }} as bigint), 0)
                    else {{ dividend }} // nullif({{ divisor }}, 0)
                end
            ) * sign({{ denominator }}) as decimal(38, 0)
        ) * cast(0.0001 as decimal(5, 4))
        as decimal(18, 4)
    )
{%- endmacro %}
