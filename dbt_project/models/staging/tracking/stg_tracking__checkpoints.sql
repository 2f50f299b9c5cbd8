with

source as (

    select * from {{ source_or_empty('raw_tracking', 'checkpoints') }}

),

renamed as (

    select
        {{ dbt.concat(['tracking_id', "':'", "cast(seq as " ~ dbt.type_string() ~ ")"]) }} as checkpoint_id,
        tracking_id,
        seq as checkpoint_sequence,
        tracking_number,
        slug as carrier_slug,
        checkpoint_time as checkpoint_at,
        checkpoint_utc_offset_minutes,
        checkpoint_local_time,
        created_at,
        tag as tracking_tag,
        subtag as tracking_subtag,
        subtag_message,
        message,
        raw_tag,
        location,
        city,
        state,
        zip as postal_code,
        country_iso3,
        loaded_at

    from source

)

select * from renamed
