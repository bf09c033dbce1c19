//! Path parameters, one named struct per resource: two ids of the same type
//! cannot be swapped by position. The account id is read by the gate
//! (`http::gate`); these name it for the OpenAPI document.

use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AccountPath {
    /// Account id
    pub account_id: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct InvitationPath {
    /// Account id
    pub account_id: i64,
    /// Invitation id
    pub invitation_id: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// Account id
    pub account_id: i64,
    /// User id
    pub user_id: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct GroupPath {
    /// Account id
    pub account_id: i64,
    /// Group id
    pub group_id: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WebhookPath {
    /// Account id
    pub account_id: i64,
    /// Webhook endpoint id
    pub webhook_id: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TokenPath {
    /// The token from the invitation email
    pub token: String,
}
