//! Bearer tokens (JWT) and the authenticated principal.

use std::time::Duration;

use chrono::NaiveDateTime;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::db::{self, DbConnection};
use crate::domain::access::{Role, UserStatus};
use crate::domain::ids::{AccountId, UserId};
use crate::error::{AppError, AuthFailure};

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub account_id: AccountId,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub aud: String,
}

/// Keys and rules for issuing and checking bearer tokens.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    hs256: DecodingKey,
    public: Option<(DecodingKey, Algorithm)>,
    issuer: String,
    audience: String,
}

impl JwtKeys {
    /// Uses `INVITATIONS_JWT_SECRET`, or else a random secret generated once and
    /// stored in the database so every process (server, `token` CLI) agrees.
    pub fn load(
        config: &Config,
        conn: &mut DbConnection,
        now: NaiveDateTime,
    ) -> Result<Self, String> {
        let secret = match &config.jwt_secret {
            Some(secret) => secret.expose().to_owned(),
            None => db::secrets::get_or_create(conn, "jwt_hs256", now, || {
                crate::domain::token::issue().secret
            })
            .map_err(|e| format!("cannot read the stored JWT secret: {e}"))?,
        };
        let public = match &config.jwt_public_key {
            None => None,
            Some(pem) => Some(parse_public_key(pem)?),
        };
        Ok(Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()).map_err(|e| e.to_string())?,
            hs256: DecodingKey::from_secret(secret.as_bytes()).map_err(|e| e.to_string())?,
            public,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
        })
    }

    pub fn issue(
        &self,
        account_id: AccountId,
        user_id: UserId,
        ttl: Duration,
        now: NaiveDateTime,
    ) -> Result<String, AppError> {
        let iat = now.and_utc().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            account_id,
            iat,
            exp: iat.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2)),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::internal(format!("cannot sign a token: {e}")))
    }

    /// Checks signature, `exp`, `iss` and `aud`; any failure is `401`, saying which.
    pub fn verify(&self, token: &str, now: NaiveDateTime) -> Result<Claims, AppError> {
        let unauthorized = |failure| AppError::Unauthorized(failure);
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| unauthorized(AuthFailure::Malformed))?;
        let key = match (header.alg, &self.public) {
            (Algorithm::HS256, _) => &self.hs256,
            (alg, Some((key, expected))) if alg == *expected => key,
            _ => return Err(unauthorized(AuthFailure::BadSignature)),
        };
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_exp = false;
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                unauthorized(match e.kind() {
                    ErrorKind::InvalidSignature
                    | ErrorKind::InvalidAlgorithm
                    | ErrorKind::InvalidAlgorithmName => AuthFailure::BadSignature,
                    ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => {
                        AuthFailure::NotForThisService
                    }
                    _ => AuthFailure::Malformed,
                })
            })?
            .claims;
        // Expiry against the service clock (the same one that stamped `iat`).
        if claims.exp <= now.and_utc().timestamp() {
            return Err(unauthorized(AuthFailure::Expired));
        }
        Ok(claims)
    }
}

fn parse_public_key(pem: &str) -> Result<(DecodingKey, Algorithm), String> {
    // The key itself, or the path of a file holding it.
    let text = if pem.contains("-----BEGIN") {
        pem.to_owned()
    } else {
        std::fs::read_to_string(pem).map_err(|e| {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "file not found".to_owned(),
                _ => e.to_string(),
            };
            format!("INVITATIONS_JWT_PUBLIC_KEY: cannot read the key file {pem}: {why}")
        })?
    };
    if let Ok(key) = DecodingKey::from_ed_pem(text.as_bytes()) {
        return Ok((key, Algorithm::EdDSA));
    }
    DecodingKey::from_rsa_pem(text.as_bytes())
        .map(|key| (key, Algorithm::RS256))
        .map_err(|_| {
            "INVITATIONS_JWT_PUBLIC_KEY is neither an Ed25519 nor an RSA public key in PEM form"
                .into()
        })
}

/// The user a verified bearer token names, before the database is asked: for
/// writes that check the caller under the account lock anyway (in the locking
/// statement itself), which saves a round trip per request.
#[derive(Debug, Clone, Copy)]
pub struct ClaimedCaller {
    pub user_id: UserId,
    pub account_id: AccountId,
}

impl ClaimedCaller {
    pub fn from_claims(claims: &Claims) -> Result<Self, AppError> {
        Ok(Self {
            user_id: claims
                .sub
                .parse()
                .map_err(|_| AppError::Unauthorized(AuthFailure::Malformed))?,
            account_id: claims.account_id,
        })
    }
}

/// The caller, re-read from the database on every request.
#[derive(Debug, Clone, Copy)]
pub struct Principal {
    pub user_id: UserId,
    pub account_id: AccountId,
    pub role: Role,
}

impl Principal {
    /// Loads the token's user; a deleted or disabled user, or one moved to another
    /// account, is `401` even while the token is otherwise valid.
    pub fn load(conn: &mut DbConnection, claims: &Claims) -> Result<Self, AppError> {
        let user_id: UserId = claims
            .sub
            .parse()
            .map_err(|_| AppError::Unauthorized(AuthFailure::Malformed))?;
        Self::of(conn, user_id, claims.account_id)
    }

    /// `user_id` as an active member of `account_id`, judged as `load`
    /// judges a token's user.
    pub fn of(
        conn: &mut DbConnection,
        user_id: UserId,
        account_id: AccountId,
    ) -> Result<Self, AppError> {
        let user = db::users::find(conn, user_id)?
            .ok_or(AppError::Unauthorized(AuthFailure::UnknownUser))?;
        if user.account_id != account_id {
            return Err(AppError::Unauthorized(AuthFailure::UnknownUser));
        }
        if user.status()? != UserStatus::Active {
            return Err(AppError::Unauthorized(AuthFailure::DisabledUser));
        }
        Ok(Self {
            user_id,
            account_id: user.account_id,
            role: user.role()?,
        })
    }
}
