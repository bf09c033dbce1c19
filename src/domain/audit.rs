//! The audit trail's vocabulary: what happened, who did it, what it was about,
//! and which of those events webhooks carry.

string_enum! {
    /// What an audit event records.
    AuditAction {
        InvitationCreated => "invitation.created",
        InvitationAccepted => "invitation.accepted",
        InvitationDeclined => "invitation.declined",
        InvitationRevoked => "invitation.revoked",
        InvitationResent => "invitation.resent",
        InvitationExpired => "invitation.expired",
        InvitationBounced => "invitation.bounced",
        UserUpdated => "user.updated",
        UserDisabled => "user.disabled",
        UserEnabled => "user.enabled",
        GroupCreated => "group.created",
        GroupUpdated => "group.updated",
        GroupDeleted => "group.deleted",
        WebhookCreated => "webhook.created",
        WebhookDeleted => "webhook.deleted",
        LicensesPurchased => "licenses.purchased",
        ScimTokenCreated => "scim_token.created",
        ScimTokenDeleted => "scim_token.deleted",
    }
}

impl AuditAction {
    /// The webhook event this action is sent as, if webhooks carry it.
    pub fn webhook_event(self) -> Option<WebhookEvent> {
        use AuditAction::*;
        match self {
            InvitationCreated => Some(WebhookEvent::InvitationCreated),
            InvitationAccepted => Some(WebhookEvent::InvitationAccepted),
            InvitationDeclined => Some(WebhookEvent::InvitationDeclined),
            InvitationRevoked => Some(WebhookEvent::InvitationRevoked),
            InvitationExpired => Some(WebhookEvent::InvitationExpired),
            InvitationBounced => Some(WebhookEvent::InvitationBounced),
            UserDisabled => Some(WebhookEvent::UserDisabled),
            UserEnabled => Some(WebhookEvent::UserEnabled),
            InvitationResent | UserUpdated | GroupCreated | GroupUpdated | GroupDeleted
            | WebhookCreated | WebhookDeleted | LicensesPurchased | ScimTokenCreated
            | ScimTokenDeleted => None,
        }
    }
}

string_enum! {
    /// A webhook event type, as clients send and receive it.
    WebhookEvent {
        InvitationCreated => "invitation.created",
        InvitationAccepted => "invitation.accepted",
        InvitationDeclined => "invitation.declined",
        InvitationRevoked => "invitation.revoked",
        InvitationExpired => "invitation.expired",
        InvitationBounced => "invitation.bounced",
        UserDisabled => "user.disabled",
        UserEnabled => "user.enabled",
    }
}

impl WebhookEvent {
    /// The audit action this event mirrors.
    pub fn action(self) -> AuditAction {
        use WebhookEvent::*;
        match self {
            InvitationCreated => AuditAction::InvitationCreated,
            InvitationAccepted => AuditAction::InvitationAccepted,
            InvitationDeclined => AuditAction::InvitationDeclined,
            InvitationRevoked => AuditAction::InvitationRevoked,
            InvitationExpired => AuditAction::InvitationExpired,
            InvitationBounced => AuditAction::InvitationBounced,
            UserDisabled => AuditAction::UserDisabled,
            UserEnabled => AuditAction::UserEnabled,
        }
    }
}

string_enum! {
    /// Who caused an audit event: a user, the holder of an invitation token
    /// (accept, decline), the service itself (expiry), or a directory
    /// through an account's SCIM token.
    ActorKind {
        User => "user",
        Invitee => "invitee",
        System => "system",
        ScimToken => "scim_token",
    }
}

string_enum! {
    /// What kind of thing an audit event is about.
    SubjectKind {
        Invitation => "invitation",
        User => "user",
        Group => "group",
        Charge => "charge",
        Webhook => "webhook",
        ScimToken => "scim_token",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_events_are_the_actions_that_name_them() {
        for event in WebhookEvent::ALL {
            assert_eq!(event.action().as_str(), event.as_str());
            assert_eq!(event.action().webhook_event(), Some(*event));
        }
        let carried = AuditAction::ALL
            .iter()
            .filter_map(|a| a.webhook_event())
            .count();
        assert_eq!(carried, WebhookEvent::ALL.len());
    }
}
