{{
    config(
        materialized='incremental',
        unique_key='tracking_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
-- One row per tracked parcel with what its scans say: when it left, was delivered, first
-- failed a delivery, whether anything went wrong, and how many scans there are.
-- Its own incremental table because the scans are the biggest input of the mart (about seven
-- per parcel, 7.4M at a million orders): int_shipments is rebuilt on every run and would
-- otherwise re-aggregate every scan each hour. Like fct_tracking_events, a parcel the
-- aggregator updated since the last build is re-aggregated whole; others are not read.
with

trackings as (

    select tracking_id, updated_at as tracking_updated_at
    from {{ ref('stg_tracking__trackings') }}
    {% if is_incremental() %}
    where updated_at >= (select max(tracking_updated_at) from {{ this }})
    {% endif %}

),

events as (

    select
        events.tracking_id,
        events.event_at,
        events.shipment_status
    from {{ ref('int_tracking_events_mapped') }} as events
    {% if is_incremental() %}
    where events.tracking_id in (select tracking_id from trackings)
    {% endif %}

),

final as (

    -- From the parcels, so a parcel whose scans were all withdrawn gets a row with none.
    select
        trackings.tracking_id,
        max(trackings.tracking_updated_at) as tracking_updated_at,
        min(case when events.shipment_status not in ('info_received') then events.event_at end) as shipped_at,
        min(case when events.shipment_status = 'delivered' then events.event_at end) as delivered_at,
        min(case when events.shipment_status = 'failed_attempt' then events.event_at end) as first_failed_attempt_at,
        max(case when events.shipment_status in ('exception', 'failed_attempt', 'returned', 'lost') then 1 else 0 end)
            as had_exception,
        count(events.tracking_id) as event_count
    from trackings
    left join events on trackings.tracking_id = events.tracking_id
    group by trackings.tracking_id

)

select * from final
