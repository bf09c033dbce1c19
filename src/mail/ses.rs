//! Amazon SES (API v2): each request signed with AWS Signature V4 by the
//! `aws-sigv4` crate (service `ses`).

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign as sigv4};
use aws_sigv4::sign::v4;

use crate::config::AwsCredentials;

/// The headers to send with a `POST url` of `body` (JSON): its content type,
/// `x-amz-date`, any session token and the `authorization` signature.
pub fn sign(
    url: &str,
    body: &[u8],
    region: &str,
    credentials: &AwsCredentials,
    now: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    let identity = Credentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.expose().to_owned(),
        credentials
            .session_token
            .as_ref()
            .map(|t| t.expose().to_owned()),
        None,
        "invitations",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("ses")
        .time(now)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("cannot sign the SES request: {e}"))?
        .into();
    let content_type = ("content-type", "application/json");
    let request = SignableRequest::new(
        "POST",
        url,
        std::iter::once(content_type),
        SignableBody::Bytes(body),
    )
    .map_err(|e| format!("cannot sign the SES request: {e}"))?;
    let (instructions, _) = sigv4(request, &params)
        .map_err(|e| format!("cannot sign the SES request: {e}"))?
        .into_parts();
    let mut headers = vec![(content_type.0.to_owned(), content_type.1.to_owned())];
    headers.extend(
        instructions
            .headers()
            .map(|(name, value)| (name.to_owned(), value.to_owned())),
    );
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    #[test]
    fn requests_carry_a_sigv4_authorization_for_ses() {
        let credentials = AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: Some(Secret::new("session")),
        };
        let headers = sign(
            "https://email.eu-west-1.amazonaws.com/v2/email/outbound-emails",
            b"{}",
            "eu-west-1",
            &credentials,
            SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_440_938_160),
        )
        .unwrap();
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let authorization = get("authorization");
        assert!(
            authorization.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/ses/aws4_request"
            ),
            "{authorization}"
        );
        assert!(authorization.contains("SignedHeaders="), "{authorization}");
        assert_eq!(get("x-amz-date"), "20150830T123600Z");
        assert_eq!(get("x-amz-security-token"), "session");
    }
}
