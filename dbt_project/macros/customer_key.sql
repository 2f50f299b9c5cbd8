{#- The customer key of an order: `<channel>:<store_id>:<the channel's customer id>`, else the
    SHA-256 of the buyer's e-mail the channel shares (Amazon, exports), else null (a guest
    the channel does not identify). Customers are not merged across channels: the channels
    share no identifier, and a wrong merge is worse than two rows. -#}
{% macro customer_key(relation) -%}
    case
        when {{ relation }}.external_customer_id is not null
            then {{ dbt.concat([relation ~ '.channel', "':'", relation ~ '.store_id', "':'", relation ~ '.external_customer_id']) }}
        when {{ relation }}.customer_email_sha256 is not null
            then {{ dbt.concat([relation ~ '.channel', "':'", relation ~ '.store_id', "':sha256:'", relation ~ '.customer_email_sha256']) }}
    end
{%- endmacro %}
