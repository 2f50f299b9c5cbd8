{#- Join the ECB rate in force on a date for a currency (that day's fixing, else the previous
    one), aliased `alias`, from `int_fx_rates_daily`: an equality join on (currency, day). -#}
{% macro fx_rate_on(alias, currency_column, date_expression) -%}
    left join {{ ref('int_fx_rates_daily') }} as {{ alias }}
        on {{ alias }}.currency_code = {{ currency_column }}
        and {{ alias }}.rate_day = {{ date_expression }}
{%- endmacro %}
