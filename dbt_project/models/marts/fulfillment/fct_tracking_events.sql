{{
    config(
        materialized='incremental',
        unique_key='tracking_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
-- Incremental by parcel: a parcel's scans are replaced as a set whenever the aggregator
-- updates it (a carrier may rewrite earlier scans), so every parcel updated since the last
-- build is deleted and inserted again whole; untouched parcels are not read.
with

events as (

    select * from {{ ref('int_tracking_events_mapped') }}

),

trackings as (

    select tracking_id, updated_at as tracking_updated_at
    from {{ ref('stg_tracking__trackings') }}
    {% if is_incremental() %}
    where updated_at >= (select max(tracking_updated_at) from {{ this }})
    {% endif %}

),

shipments as (

    select shipment_id, order_id, channel, store_id, tracking_number
    from {{ ref('int_shipments') }}
    where shipment_source = 'aftership'

),

final as (

    select
        events.tracking_event_id,
        events.tracking_id,
        shipments.shipment_id,
        shipments.order_id,
        shipments.channel,
        shipments.store_id,
        cast(events.checkpoint_sequence as integer) as event_sequence,
        events.tracking_number,
        events.carrier_slug,
        events.event_at,
        events.event_utc_offset_minutes,
        events.tracking_tag,
        events.tracking_subtag,
        events.shipment_status,
        events.message,
        events.location,
        events.city,
        events.postal_code,
        events.country_iso3,
        trackings.tracking_updated_at,
        {{ built_at() }} as built_at

    from events
    inner join trackings on events.tracking_id = trackings.tracking_id
    left join shipments on events.tracking_number = shipments.tracking_number

)

select * from final
