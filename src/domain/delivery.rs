//! What a provider's delivery event does to an invitation's `delivery`: it
//! only ever moves forward, so events that arrive twice or out of order
//! (a late `delivered` after `bounced`) change nothing.

use chrono::NaiveDateTime;

use crate::domain::invitation::Delivery;

string_enum! {
    /// What a provider reported about a message it was handed.
    DeliveryEventKind {
        Delivered => "delivered",
        Bounced => "bounced",
        Complained => "complained",
    }
}

impl DeliveryEventKind {
    /// The invitation's delivery state this event reports.
    pub fn delivery(self) -> Delivery {
        match self {
            DeliveryEventKind::Delivered => Delivery::Delivered,
            DeliveryEventKind::Bounced => Delivery::Bounced,
            DeliveryEventKind::Complained => Delivery::Complained,
        }
    }

    /// A bounce or a complaint: the address does not (or will not) take the
    /// firm's mail; recorded in the audit trail and sent to webhooks.
    pub fn is_trouble(self) -> bool {
        matches!(
            self,
            DeliveryEventKind::Bounced | DeliveryEventKind::Complained
        )
    }
}

/// One delivery event, whichever provider sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryEvent {
    /// The id the provider gave the message when it took it (angle brackets removed).
    pub provider_message_id: String,
    pub kind: DeliveryEventKind,
    /// When the provider says it happened (if it says).
    pub occurred_at: Option<NaiveDateTime>,
}

/// How far along a delivery is: queued < sent < delivered < {bounced,
/// complained}. `failed` (the service gave up before any provider took the
/// message) ranks with `sent`: no event is about a message never handed over.
pub fn rank(delivery: Delivery) -> u8 {
    match delivery {
        Delivery::Queued => 0,
        Delivery::Sent | Delivery::Failed => 1,
        Delivery::Delivered => 2,
        Delivery::Bounced | Delivery::Complained => 3,
    }
}

/// The new delivery state after `event`, or `None` when it changes nothing
/// (a duplicate, or an event that would move the state backwards or sideways
/// between bounced and complained: the first trouble reported stands).
pub fn advance(current: Delivery, event: DeliveryEventKind) -> Option<Delivery> {
    let next = event.delivery();
    (rank(next) > rank(current)).then_some(next)
}

/// A provider's message id as stored: without surrounding whitespace or the
/// angle brackets of a `Message-ID` header.
pub fn normalize_message_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeliveryEventKind::*;

    #[test]
    fn events_move_delivery_forward_only() {
        assert_eq!(
            advance(Delivery::Sent, Delivered),
            Some(Delivery::Delivered)
        );
        assert_eq!(advance(Delivery::Sent, Bounced), Some(Delivery::Bounced));
        assert_eq!(
            advance(Delivery::Delivered, Complained),
            Some(Delivery::Complained)
        );
        assert_eq!(
            advance(Delivery::Queued, Delivered),
            Some(Delivery::Delivered)
        );
        assert_eq!(advance(Delivery::Failed, Bounced), Some(Delivery::Bounced));
    }

    #[test]
    fn duplicates_and_late_events_change_nothing() {
        assert_eq!(advance(Delivery::Delivered, Delivered), None);
        assert_eq!(advance(Delivery::Bounced, Bounced), None);
        assert_eq!(advance(Delivery::Bounced, Delivered), None);
        assert_eq!(advance(Delivery::Complained, Delivered), None);
        assert_eq!(advance(Delivery::Bounced, Complained), None);
        assert_eq!(advance(Delivery::Complained, Bounced), None);
    }

    #[test]
    fn any_order_of_events_ends_in_the_highest_rank() {
        let events = [Delivered, Bounced, Complained];
        for first in events {
            for second in events {
                let mut state = Delivery::Sent;
                for event in [first, second] {
                    if let Some(next) = advance(state, event) {
                        state = next;
                    }
                }
                assert_eq!(
                    rank(state),
                    rank(first.delivery()).max(rank(second.delivery()))
                );
            }
        }
    }

    #[test]
    fn message_ids_lose_their_angle_brackets() {
        assert_eq!(normalize_message_id(" <abc@mg.example> "), "abc@mg.example");
        assert_eq!(normalize_message_id("0a1b-2c"), "0a1b-2c");
    }
}
