//! Who a firm member is: role, subscriber type, status.

string_enum! {
    /// Access role of a firm member. Exactly one `primary_subscriber` (the owner) per account.
    Role {
        PrimarySubscriber => "primary_subscriber",
        Administrator => "administrator",
        Standard => "standard",
    }
}

impl Role {
    /// Primary subscribers and administrators manage the account.
    pub fn can_manage(self) -> bool {
        matches!(self, Role::PrimarySubscriber | Role::Administrator)
    }
}

string_enum! {
    /// The roles an invitation may grant (`primary_subscriber` cannot be invited).
    InvitableRole {
        Administrator => "administrator",
        Standard => "standard",
    }
}

impl From<InvitableRole> for Role {
    fn from(role: InvitableRole) -> Self {
        match role {
            InvitableRole::Administrator => Role::Administrator,
            InvitableRole::Standard => Role::Standard,
        }
    }
}

string_enum! {
    /// Whether the member is an attorney; on `classic` accounts it picks the license type.
    SubscriberType {
        Attorney => "attorney",
        NonAttorney => "non_attorney",
    }
}

string_enum! {
    /// A firm member is `active` (holds a license, may sign in) or `disabled`.
    UserStatus {
        Active => "active",
        Disabled => "disabled",
    }
}
