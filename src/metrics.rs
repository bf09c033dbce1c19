//! Prometheus metrics (`GET /metrics`, OpenMetrics text).

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route template (never the raw path, which may carry a token).
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    /// An `Outcome`'s name.
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SendLabels {
    /// The mail provider's name (`INVITATIONS_MAIL_PROVIDER`).
    pub provider: String,
    /// An `Outcome`'s name.
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MailEventLabels {
    /// One of the known event providers (never a name from the path as such).
    pub provider: String,
    /// `delivered`, `bounced` or `complained`.
    pub kind: String,
}

/// What became of one attempt to deliver an email or a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Failed; another attempt will follow.
    Retry,
    /// Failed for the last time.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Retry => "retry",
            Outcome::Failed => "failed",
        }
    }
}

fn latency_histogram() -> Histogram {
    // 1 ms … ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    deliveries: Family<DeliveryLabels, Counter>,
    webhooks: Family<DeliveryLabels, Counter>,
    sends: Family<SendLabels, Counter>,
    mail_events: Family<MailEventLabels, Counter>,
    group_commit: Histogram,
    group_commit_reruns: Counter,
    /// Set from the database at each scrape.
    pub outbox_queued: Gauge,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("invitations");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, per route",
            latency.clone(),
        );
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "email_deliveries",
            "Email delivery attempts by outcome",
            deliveries.clone(),
        );
        let webhooks = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts by outcome",
            webhooks.clone(),
        );
        let sends = Family::<SendLabels, Counter>::default();
        registry.register(
            "email_sends",
            "Email send attempts by provider and outcome",
            sends.clone(),
        );
        let mail_events = Family::<MailEventLabels, Counter>::default();
        registry.register(
            "mail_events",
            "Delivery events received from mail providers, by provider and kind",
            mail_events.clone(),
        );
        let group_commit = Histogram::new(exponential_buckets(1.0, 2.0, 6));
        registry.register(
            "group_commit_size",
            "Invites and quotes committed together per account transaction",
            group_commit.clone(),
        );
        let group_commit_reruns = Counter::default();
        registry.register(
            "group_commit_reruns",
            "Batches rolled back and run again with a savepoint per write, because one write failed midway (PostgreSQL)",
            group_commit_reruns.clone(),
        );
        let outbox_queued = Gauge::default();
        registry.register(
            "outbox_queued",
            "Emails waiting to be sent",
            outbox_queued.clone(),
        );
        Arc::new(Self {
            registry,
            requests,
            latency,
            deliveries,
            webhooks,
            sends,
            mail_events,
            group_commit,
            group_commit_reruns,
            outbox_queued,
        })
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        // Known methods only: a made-up method must not mint a new series.
        let method = match method {
            "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
            _ => "other",
        };
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    pub fn observe_delivery(&self, outcome: Outcome) {
        self.deliveries
            .get_or_create(&DeliveryLabels {
                outcome: outcome.as_str().to_owned(),
            })
            .inc();
    }

    pub fn observe_send(&self, provider: &str, outcome: Outcome) {
        self.sends
            .get_or_create(&SendLabels {
                provider: provider.to_owned(),
                outcome: outcome.as_str().to_owned(),
            })
            .inc();
    }

    pub fn observe_mail_event(&self, provider: &str, kind: &str) {
        self.mail_events
            .get_or_create(&MailEventLabels {
                provider: provider.to_owned(),
                kind: kind.to_owned(),
            })
            .inc();
    }

    pub fn observe_group_commit(&self, size: usize) {
        self.group_commit.observe(size as f64);
    }

    pub fn observe_group_commit_rerun(&self) {
        self.group_commit_reruns.inc();
    }

    pub fn observe_webhook(&self, outcome: Outcome) {
        self.webhooks
            .get_or_create(&DeliveryLabels {
                outcome: outcome.as_str().to_owned(),
            })
            .inc();
    }

    pub fn render(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}
