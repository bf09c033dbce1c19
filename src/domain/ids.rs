//! Entity ids: one type per entity, so an account id can never be passed where
//! a user id is expected. Plain integers on the wire (`#[serde(transparent)]`)
//! and in the database (the Diesel mapping is `db::ids`'s: no database here).

/// Declares an id newtype over `i64`.
macro_rules! entity_id {
    ($($(#[$meta:meta])* $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(
            Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// The id stored as `raw` (a row, a path, a token claim).
            pub const fn new(raw: i64) -> Self {
                Self(raw)
            }

            /// The integer the database and the JSON carry.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl AsRef<i64> for $name {
            fn as_ref(&self) -> &i64 {
                &self.0
            }
        }

        /// The bare integer, as `i64` prints: logs, and the binds of a
        /// logged query (which tests/flat_cost.rs replays), stay as they were.
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                text.parse().map(Self)
            }
        }
    )+};
}

entity_id! {
    /// An account (a firm).
    AccountId;
    /// A firm member.
    UserId;
    /// An invitation.
    InvitationId;
    /// A group of firm members.
    GroupId;
    /// One seat license.
    LicenseId;
    /// A line of the charge ledger.
    ChargeId;
    /// A webhook endpoint.
    WebhookId;
    /// An audit event (also the id webhook deliveries carry).
    AuditEventId;
    /// A SCIM bearer token of an account.
    ScimTokenId;
    /// A SCIM User resource (a person provisioned by a directory).
    ScimUserId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_integers_in_json() {
        assert_eq!(serde_json::to_string(&AccountId::new(42)).unwrap(), "42");
        assert_eq!(serde_json::from_str::<UserId>("7").unwrap(), UserId::new(7));
        assert_eq!("12".parse::<GroupId>().unwrap().get(), 12);
        assert_eq!(InvitationId::new(3).to_string(), "3");
        assert_eq!(format!("{:?}", Some(LicenseId::new(5))), "Some(5)");
    }
}
