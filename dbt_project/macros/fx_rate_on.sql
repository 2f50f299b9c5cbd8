{#- Join the ECB fixing in force on a date for a currency (the previous fixing on weekends
    and holidays), aliased `alias`, from `int_fx_rates_valid`. Used where an amount's currency
    is not its order's shop currency (payments, fees, refunds, product costs). -#}
{% macro fx_rate_on(alias, currency_column, date_expression) -%}
    left join {{ ref('int_fx_rates_valid') }} as {{ alias }}
        on {{ alias }}.currency_code = {{ currency_column }}
        and {{ date_expression }} >= {{ alias }}.valid_from
        and {{ date_expression }} < {{ alias }}.valid_to
{%- endmacro %}
