{#- floor(amount_minor * weight / total_weight) in integers: the share of an integer amount of
    minor units a line gets before the remainder is handed out (int_order_line_shipping_costs).
    Weights are decimal(18,4), scaled to integers so no side turns into a DOUBLE: DuckDB divides
    decimals in floating point, so its version divides HUGEINTs with `//`; servers with exact
    numeric division (PostgreSQL) floor the plain quotient. `remainder_minor` is the part
    floored away, in the same units as `total_weight * 10^4`, which ranks who gets the cents. -#}
{% macro allocate_minor(amount_minor, weight, total_weight) -%}
    {{ return(adapter.dispatch('allocate_minor')(amount_minor, weight, total_weight)) }}
{%- endmacro %}

{% macro default__allocate_minor(amount_minor, weight, total_weight) -%}
    cast(floor(({{ amount_minor }}) * ({{ weight }}) / ({{ total_weight }})) as bigint)
{%- endmacro %}

{% macro duckdb__allocate_minor(amount_minor, weight, total_weight) -%}
    cast(
        cast({{ amount_minor }} as hugeint) * cast(({{ weight }}) * 10000 as hugeint)
        // cast(({{ total_weight }}) * 10000 as hugeint)
        as bigint
    )
{%- endmacro %}

{% macro allocation_remainder(amount_minor, weight, total_weight) -%}
    {{ return(adapter.dispatch('allocation_remainder')(amount_minor, weight, total_weight)) }}
{%- endmacro %}

{% macro default__allocation_remainder(amount_minor, weight, total_weight) -%}
    mod(cast(({{ amount_minor }}) * ({{ weight }}) * 10000 as bigint), cast(({{ total_weight }}) * 10000 as bigint))
{%- endmacro %}

{% macro duckdb__allocation_remainder(amount_minor, weight, total_weight) -%}
    cast({{ amount_minor }} as hugeint) * cast(({{ weight }}) * 10000 as hugeint)
        % cast(({{ total_weight }}) * 10000 as hugeint)
{%- endmacro %}
