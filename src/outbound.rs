//! Outbound HTTP: the one way this service calls other servers (mail APIs,
//! webhook receivers). Clients use rustls (ring; no OpenSSL), fixed timeouts
//! and no redirects; webhook destinations must resolve to public addresses
//! (the SSRF guard), checked when registered and again on every connection.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::config::Config;
use crate::domain::network;

/// Connect + answer within this, or the call fails (and is retried later).
pub const TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long registering a webhook waits for its host's DNS answer.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// Makes rustls (ring) the process's TLS provider; needed before any
/// `reqwest::Client` is built. Safe to call any number of times.
pub fn install_tls_provider() {
    // Several callers in one process may race to install it: any one is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The HTTP client for mail APIs (rustls with ring; no OpenSSL). An error,
/// never a default client: that would have no timeouts and follow redirects.
pub fn http_client() -> Result<reqwest::Client, String> {
    install_tls_provider();
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("invitations-webhooks/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the HTTP client for mail: {e}"))
}

/// Why an address may not receive webhooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestinationError {
    /// The host is, or resolves to, an address that is not public.
    NotPublic,
    /// The host name has no address (now).
    Unresolvable(String),
}

impl std::fmt::Display for DestinationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DestinationError::NotPublic => {
                f.write_str("the destination is not a public internet address")
            }
            DestinationError::Unresolvable(why) => write!(f, "cannot resolve the host: {why}"),
        }
    }
}

impl std::error::Error for DestinationError {}

/// Every address of `host`, provided each one is public (a name that also
/// points somewhere private is refused as a whole: that is what DNS
/// rebinding looks like).
pub async fn public_addresses(host: &str, port: u16) -> Result<Vec<SocketAddr>, DestinationError> {
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
        return if network::is_public(ip) {
            Ok(vec![SocketAddr::new(ip, port)])
        } else {
            Err(DestinationError::NotPublic)
        };
    }
    if network::is_local_name(host) {
        return Err(DestinationError::NotPublic);
    }
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| DestinationError::Unresolvable(e.to_string()))?
        .collect();
    if addresses.is_empty() {
        return Err(DestinationError::Unresolvable("no address".into()));
    }
    if addresses.iter().any(|a| !network::is_public(a.ip())) {
        return Err(DestinationError::NotPublic);
    }
    Ok(addresses)
}

/// At registration: refuses a URL whose host is, or now resolves to, an
/// address that is not public. A host that does not resolve (yet) is
/// accepted; every delivery checks again.
pub async fn check_destination(url: &reqwest::Url) -> Result<(), DestinationError> {
    let Some(host) = url.host_str() else {
        return Err(DestinationError::Unresolvable("no host".into()));
    };
    let port = url.port_or_known_default().unwrap_or(443);
    match tokio::time::timeout(LOOKUP_TIMEOUT, public_addresses(host, port)).await {
        Ok(Err(DestinationError::NotPublic)) => Err(DestinationError::NotPublic),
        _ => Ok(()),
    }
}

/// Resolves names for webhook deliveries, answering only public addresses,
/// so the connection is made to an address that was checked.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = public_addresses(&host, 0).await?;
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client for webhooks: no redirects, no proxy, a short connect
/// timeout, and (unless `INVITATIONS_WEBHOOK_ALLOW_PRIVATE_NETWORKS`) only
/// public addresses. An error, never a default client without those limits.
pub fn webhook_client(config: &Config) -> Result<reqwest::Client, String> {
    install_tls_provider();
    let builder = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("invitations-webhooks/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    let builder = if config.webhook_allow_private_networks {
        builder
    } else {
        builder.dns_resolver(PublicOnly)
    };
    builder
        .build()
        .map_err(|e| format!("cannot build the HTTP client for webhooks: {e}"))
}
