//! Path parameters, one named struct per resource: two ids of the same type
//! cannot be swapped by position. The account id is read by the gate
//! (`http::gate`); these name it for the OpenAPI document.

use serde::Deserialize;
use utoipa::IntoParams;

use crate::domain::ids::{AccountId, GroupId, InvitationId, UserId, WebhookId};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AccountPath {
    /// Account id
    #[param(value_type = i64)]
    pub account_id: AccountId,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct InvitationPath {
    /// Account id
    #[param(value_type = i64)]
    pub account_id: AccountId,
    /// Invitation id
    #[param(value_type = i64)]
    pub invitation_id: InvitationId,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// Account id
    #[param(value_type = i64)]
    pub account_id: AccountId,
    /// User id
    #[param(value_type = i64)]
    pub user_id: UserId,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct GroupPath {
    /// Account id
    #[param(value_type = i64)]
    pub account_id: AccountId,
    /// Group id
    #[param(value_type = i64)]
    pub group_id: GroupId,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WebhookPath {
    /// Account id
    #[param(value_type = i64)]
    pub account_id: AccountId,
    /// Webhook endpoint id
    #[param(value_type = i64)]
    pub webhook_id: WebhookId,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TokenPath {
    /// The token from the invitation email
    pub token: String,
}
