with

source as (

    select * from {{ source_or_empty('raw_stripe', 'disputes') }}

),

renamed as (

    select
        id as dispute_id,
        charge_id,
        created_at,
        upper(currency) as currency_code,
        amount,
        status as dispute_status,
        reason,
        is_charge_refundable,
        evidence_due_by as evidence_due_at,
        has_evidence,
        past_due as is_past_due,
        network_reason_code,
        case_type,
        loaded_at

    from source

)

select * from renamed
