//! Diesel table definitions shared by the PostgreSQL and SQLite migrations.
//! Only SQL types both backends share are used (see `migrations/`).

diesel::table! {
    service_secrets (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    accounts (id) {
        id -> BigInt,
        name -> Text,
        billing_system -> Text,
        plan -> Text,
        currency -> Text,
        period_anchor -> Timestamp,
        lock_version -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    license_prices (account_id, license_type) {
        account_id -> BigInt,
        license_type -> Text,
        price_cents -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        account_id -> BigInt,
        email -> Text,
        email_normalized -> Text,
        first_name -> Text,
        last_name -> Text,
        password_hash -> Text,
        role -> Text,
        subscriber_type -> Text,
        permissions -> Text,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    firm_groups (id) {
        id -> BigInt,
        account_id -> BigInt,
        name -> Text,
        name_normalized -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    group_memberships (group_id, user_id) {
        group_id -> BigInt,
        user_id -> BigInt,
    }
}

diesel::table! {
    invitations (id) {
        id -> BigInt,
        account_id -> BigInt,
        email -> Text,
        email_normalized -> Text,
        role -> Text,
        subscriber_type -> Nullable<Text>,
        permissions -> Text,
        message -> Nullable<Text>,
        status -> Text,
        token_hash -> Text,
        expires_in_days -> Integer,
        expires_at -> Timestamp,
        invited_by_user_id -> BigInt,
        accepted_user_id -> Nullable<BigInt>,
        send_count -> Integer,
        last_sent_at -> Nullable<Timestamp>,
        delivery -> Text,
        license_type -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    invitation_groups (invitation_id, group_id) {
        invitation_id -> BigInt,
        group_id -> BigInt,
    }
}

diesel::table! {
    licenses (id) {
        id -> BigInt,
        account_id -> BigInt,
        license_type -> Text,
        state -> Text,
        invitation_id -> Nullable<BigInt>,
        user_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    charges (id) {
        id -> BigInt,
        account_id -> BigInt,
        amount_cents -> BigInt,
        currency -> Text,
        license_type -> Text,
        quantity -> Integer,
        reason -> Text,
        invitation_id -> Nullable<BigInt>,
        user_id -> Nullable<BigInt>,
        period_start -> Timestamp,
        period_end -> Timestamp,
        seconds_remaining -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    email_outbox (id) {
        id -> BigInt,
        account_id -> BigInt,
        invitation_id -> Nullable<BigInt>,
        recipient -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        provider_message_id -> Nullable<Text>,
    }
}

diesel::joinable!(license_prices -> accounts (account_id));
diesel::joinable!(users -> accounts (account_id));
diesel::joinable!(firm_groups -> accounts (account_id));
diesel::joinable!(group_memberships -> firm_groups (group_id));
diesel::joinable!(group_memberships -> users (user_id));
diesel::joinable!(invitation_groups -> firm_groups (group_id));
diesel::joinable!(invitation_groups -> invitations (invitation_id));
diesel::joinable!(licenses -> accounts (account_id));
diesel::joinable!(charges -> accounts (account_id));
diesel::joinable!(scim_users -> invitations (invitation_id));

diesel::table! {
    /// Kept by triggers on `licenses`: how many licenses of a type are in a state.
    license_counts (account_id, license_type, state) {
        account_id -> BigInt,
        license_type -> Text,
        state -> Text,
        n -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    license_counts,
    service_secrets,
    accounts,
    license_prices,
    users,
    firm_groups,
    group_memberships,
    invitations,
    invitation_groups,
    licenses,
    charges,
    email_outbox,
    idempotency_keys,
    audit_events,
    webhook_endpoints,
    webhook_deliveries,
    scim_tokens,
    scim_users,
);

diesel::table! {
    idempotency_keys (account_id, idempotency_key) {
        account_id -> BigInt,
        idempotency_key -> Text,
        fingerprint -> Text,
        status -> Nullable<Integer>,
        content_type -> Nullable<Text>,
        location -> Nullable<Text>,
        body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        account_id -> BigInt,
        actor_type -> Text,
        actor_user_id -> Nullable<BigInt>,
        action -> Text,
        subject_type -> Text,
        subject_id -> BigInt,
        details -> Text,
        created_at -> Timestamp,
        actor_scim_token_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> BigInt,
        account_id -> BigInt,
        url -> Text,
        secret -> Text,
        events -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        endpoint_id -> BigInt,
        event_id -> BigInt,
        event_type -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));

diesel::table! {
    scim_tokens (id) {
        id -> BigInt,
        account_id -> BigInt,
        created_by_user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    scim_users (id) {
        id -> BigInt,
        account_id -> BigInt,
        invitation_id -> Nullable<BigInt>,
        user_id -> Nullable<BigInt>,
        external_id -> Nullable<Text>,
        given_name -> Nullable<Text>,
        family_name -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}
