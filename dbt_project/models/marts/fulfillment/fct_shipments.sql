with

shipments as (

    select * from {{ ref('int_shipments') }}

),

final as (

    select
        shipment_id,
        order_id,
        channel,
        store_id,
        shipment_source,
        tracking_number,
        carrier_slug,
        external_order_id,
        label_created_at,
        shipped_at,
        {{ local_date('shipped_at') }} as shipped_local_date,
        delivered_at,
        first_failed_attempt_at,
        shipment_status,
        is_status_unmapped,
        had_exception,
        shipment_status = 'delivered' as is_delivered,
        origin_country_code,
        destination_country_code,
        promised_delivery_date,
        case
            when delivered_at is not null and promised_delivery_date is not null
                then {{ dbt.cast('delivered_at', 'date') }} <= promised_delivery_date
        end as is_delivered_on_time,
        {{ dbt.datediff('shipped_at', 'delivered_at', 'hour') }} as transit_hours,
        tracking_event_count,
        cast(parcel_sequence as integer) as parcel_sequence,
        cast(order_parcel_count as integer) as order_parcel_count,
        order_parcel_count > 1 as is_split_shipment

    from shipments

)

select * from final
