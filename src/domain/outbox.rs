//! States of the two outboxes: emails and webhook deliveries.

string_enum! {
    /// An email in the outbox: `queued` until sent, given up on (`failed`), or
    /// `cancelled` because its invitation changed before it left.
    OutboxStatus {
        Queued => "queued",
        Sent => "sent",
        Failed => "failed",
        Cancelled => "cancelled",
    }
}

impl OutboxStatus {
    /// States an email never leaves (bodies already erased).
    pub const FINISHED: &'static [OutboxStatus] = &[
        OutboxStatus::Sent,
        OutboxStatus::Failed,
        OutboxStatus::Cancelled,
    ];
}

string_enum! {
    /// A webhook delivery: `queued` until the endpoint accepts it (`sent`) or
    /// every attempt has failed (`failed`).
    DeliveryStatus {
        Queued => "queued",
        Sent => "sent",
        Failed => "failed",
    }
}

impl DeliveryStatus {
    /// States a delivery never leaves.
    pub const FINISHED: &'static [DeliveryStatus] = &[DeliveryStatus::Sent, DeliveryStatus::Failed];
}
