//! Invitation tokens: `inv_` + 43 base64url characters (32 random bytes).
//! Only the SHA-256 of a token is ever stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;
use sha2::{Digest, Sha256};

const PREFIX: &str = "inv_";
const ENCODED_LEN: usize = 43;

/// A freshly minted token: the secret (goes into the email, nowhere else) and its hash.
pub struct IssuedToken {
    pub secret: String,
    pub hash: String,
}

pub fn issue() -> IssuedToken {
    let bytes: [u8; 32] = rand::rng().random();
    let secret = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash(&secret);
    IssuedToken { secret, hash }
}

/// A SCIM bearer token for a directory: `scim_` + 43 base64url characters,
/// stored (like invitation tokens) only as its SHA-256.
pub fn issue_scim() -> IssuedToken {
    let bytes: [u8; 32] = rand::rng().random();
    let secret = format!("{SCIM_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash(&secret);
    IssuedToken { secret, hash }
}

pub const SCIM_PREFIX: &str = "scim_";

/// The stored form of a token.
pub fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether the text has the shape of a token; anything else is unknown without a lookup.
pub fn is_well_formed(candidate: &str) -> bool {
    candidate.strip_prefix(PREFIX).is_some_and(|rest| {
        rest.len() == ENCODED_LEN
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_are_well_formed_distinct_and_hashed() {
        let a = issue();
        let b = issue();
        assert!(is_well_formed(&a.secret), "{}", a.secret);
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.hash, hash(&a.secret));
        assert_eq!(a.hash.len(), 64);
        assert!(!a.hash.contains(&a.secret));
    }

    #[test]
    fn malformed_tokens_are_recognised() {
        assert!(!is_well_formed("inv_short"));
        assert!(!is_well_formed(&format!("tok_{}", "a".repeat(43))));
        assert!(!is_well_formed(&format!("inv_{}!", "a".repeat(42))));
    }
}
