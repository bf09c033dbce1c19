//! One fake HTTP server for everything the service calls out to (mail
//! provider APIs, webhook receivers): it listens on a free port of
//! 127.0.0.1, records every request and answers with a configurable status,
//! body and delay. Our own code is never faked; only the far side of its
//! HTTP calls is.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, http::StatusCode, web};
use serde_json::Value;

use super::eventually;

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    /// When it arrived (before any delay).
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The status it was (or is being) answered with.
    pub status: u16,
    /// Whether the answer was sent (false while the delay runs, or if the
    /// caller hung up first).
    pub answered: bool,
}

impl Call {
    /// The first value of this header (names are lowercase), or "".
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    /// The body as JSON (`Value::Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// A 2xx answer was sent.
    pub fn succeeded(&self) -> bool {
        self.answered && self.status < 300
    }
}

#[derive(Debug, Clone)]
struct Behaviour {
    status: u16,
    body: Option<Value>,
    headers: Vec<(String, String)>,
    /// A plain-text body instead (e.g. a PEM certificate).
    text: Option<String>,
    fail_first: u32,
    delay: Duration,
}

#[derive(Debug, Default)]
struct Recorded {
    calls: Vec<Call>,
}

/// How a fake answers; `start` it to listen.
#[derive(Debug, Clone)]
pub struct FakeHttpBuilder {
    behaviour: Behaviour,
}

impl FakeHttpBuilder {
    /// Answers with this JSON body (otherwise with an empty one).
    pub fn json(mut self, body: Value) -> Self {
        self.behaviour.body = Some(body);
        self
    }

    /// Adds this header to every answer (e.g. a provider's message id).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.behaviour
            .headers
            .push((name.to_owned(), value.to_owned()));
        self
    }

    /// Answers with this plain-text body.
    pub fn text(mut self, body: &str) -> Self {
        self.behaviour.text = Some(body.to_owned());
        self
    }

    /// Answers the first `n` requests with 500 instead.
    pub fn fail_first(mut self, n: u32) -> Self {
        self.behaviour.fail_first = n;
        self
    }

    /// Waits this long before answering each request.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.behaviour.delay = delay;
        self
    }

    /// Listens on a free port of 127.0.0.1, on the running actix system.
    pub fn start(self) -> FakeHttp {
        let recorded = Arc::new(Mutex::new(Recorded::default()));
        let shared = web::Data::new((self.behaviour, recorded.clone()));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .default_service(web::to(answer))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .expect("bind a fake HTTP server");
        let port = server.addrs()[0].port();
        actix_web::rt::spawn(server.run());
        FakeHttp {
            base: format!("http://127.0.0.1:{port}"),
            port,
            recorded,
        }
    }
}

type Shared = web::Data<(Behaviour, Arc<Mutex<Recorded>>)>;

async fn answer(req: HttpRequest, body: web::Bytes, shared: Shared) -> HttpResponse {
    let (behaviour, recorded) = (&shared.0, &shared.1);
    let index = {
        let mut recorded = recorded.lock().expect("the fake's record");
        let index = recorded.calls.len();
        let status = if (index as u64) < u64::from(behaviour.fail_first) {
            500
        } else {
            behaviour.status
        };
        recorded.calls.push(Call {
            at: Instant::now(),
            method: req.method().to_string(),
            path: req.path().to_owned(),
            headers: req
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        v.to_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
            body: String::from_utf8_lossy(&body).into_owned(),
            status,
            answered: false,
        });
        index
    };
    if !behaviour.delay.is_zero() {
        tokio::time::sleep(behaviour.delay).await; // the configured slowness
    }
    let mut recorded = recorded.lock().expect("the fake's record");
    let call = &mut recorded.calls[index];
    call.answered = true;
    let mut reply = HttpResponse::build(StatusCode::from_u16(call.status).expect("a valid status"));
    for (name, value) in &behaviour.headers {
        reply.insert_header((name.as_str(), value.as_str()));
    }
    match &behaviour.body {
        Some(body) if call.status < 300 => reply.json(body),
        _ => match &behaviour.text {
            Some(text) if call.status < 300 => reply.content_type("text/plain").body(text.clone()),
            _ => reply.finish(),
        },
    }
}

/// A running fake HTTP server.
#[derive(Debug, Clone)]
pub struct FakeHttp {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub port: u16,
    recorded: Arc<Mutex<Recorded>>,
}

impl FakeHttp {
    /// A fake that answers every request with `status`.
    pub fn answering(status: u16) -> FakeHttpBuilder {
        FakeHttpBuilder {
            behaviour: Behaviour {
                status,
                body: None,
                headers: Vec::new(),
                text: None,
                fail_first: 0,
                delay: Duration::ZERO,
            },
        }
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Every request so far, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        self.recorded
            .lock()
            .expect("the fake's record")
            .calls
            .clone()
    }

    /// The requests answered with a 2xx so far, in arrival order.
    pub fn succeeded(&self) -> Vec<Call> {
        self.calls().into_iter().filter(Call::succeeded).collect()
    }

    /// Waits (up to `timeout`) until `count` requests were answered with a
    /// 2xx; returns those.
    pub async fn wait_for_succeeded(&self, count: usize, timeout: Duration) -> Vec<Call> {
        eventually(
            &format!("{count} successful request(s) to {}", self.base),
            timeout,
            || async {
                let calls = self.succeeded();
                (calls.len() >= count).then_some(calls)
            },
        )
        .await
    }

    /// Waits (up to `timeout`) until `count` requests arrived, answered or
    /// not; returns them.
    pub async fn wait_for_calls(&self, count: usize, timeout: Duration) -> Vec<Call> {
        eventually(
            &format!("{count} request(s) to {}", self.base),
            timeout,
            || async {
                let calls = self.calls();
                (calls.len() >= count).then_some(calls)
            },
        )
        .await
    }
}
