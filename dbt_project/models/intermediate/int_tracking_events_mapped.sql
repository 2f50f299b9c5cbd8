{{ config(materialized='view') }}
-- A view, not a table: it holds every scan (about ten per parcel, 10M rows at a million
-- orders), and writing it once more before fct_tracking_events copied it cost 30 s there.
-- Every carrier scan with Tradelane's one shipment vocabulary (seed `tracking_status_map`):
-- a row for the exact tag and subtag wins over the tag's blank-subtag row, so "returned to
-- sender" (an AfterShip Exception subtag) is `returned`, not `exception`. A tag the map does
-- not know stays null and is named by a test, never guessed.
with

checkpoints as (

    select * from {{ ref('stg_tracking__checkpoints') }}

),

status_map as (

    select * from {{ ref('tracking_status_map') }}
    where source_system = 'aftership'

),

final as (

    select
        checkpoints.checkpoint_id as tracking_event_id,
        checkpoints.tracking_id,
        checkpoints.checkpoint_sequence,
        checkpoints.tracking_number,
        checkpoints.carrier_slug,
        checkpoints.checkpoint_at as event_at,
        checkpoints.checkpoint_utc_offset_minutes as event_utc_offset_minutes,
        checkpoints.tracking_tag,
        checkpoints.tracking_subtag,
        coalesce(by_subtag.shipment_status, by_tag.shipment_status) as shipment_status,
        checkpoints.message,
        checkpoints.location,
        checkpoints.city,
        checkpoints.postal_code,
        checkpoints.country_iso3

    from checkpoints
    left join status_map as by_subtag
        on checkpoints.tracking_tag = by_subtag.source_status
        and checkpoints.tracking_subtag = by_subtag.source_substatus
    left join status_map as by_tag
        on checkpoints.tracking_tag = by_tag.source_status
        and coalesce(by_tag.source_substatus, '') = ''

)

select * from final
