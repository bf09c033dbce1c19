//! Building the running service from configuration (the same path for
//! `serve`, the tests and the benchmarks; tests bind port 0).

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpServer, web};
use tokio::sync::Notify;

use crate::auth::JwtKeys;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::{self, DbPool};
use crate::http::{self, state::AppState};
use crate::jobs::worker::Worker;
use crate::mail::provider::MailProvider;
use crate::metrics::Metrics;

/// Pool, migrations and keys: what every subcommand needs first.
pub fn prepare(config: &Config, clock: &Clock) -> Result<(DbPool, JwtKeys), String> {
    let pool = db::build_pool(&config.database_url, config.db_pool_size)?;
    let mut conn = pool
        .get()
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    db::run_migrations(&mut conn)?;
    let jwt = JwtKeys::load(config, &mut conn, clock.now())?;
    Ok((pool, jwt))
}

pub struct Running {
    pub server: Server,
    pub port: u16,
    pub state: AppState,
    pub worker: Worker,
}

impl Running {
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }
}

/// Binds the listener and builds the server and the outbox worker; the caller
/// runs both (`serve` awaits them, tests spawn them).
pub fn build(mut config: Config, clock: Clock) -> Result<Running, String> {
    let (pool, jwt) = prepare(&config, &clock)?;
    let listener = TcpListener::bind(&config.bind).map_err(|e| {
        format!(
            "cannot listen on {} (INVITATIONS_BIND): {}",
            config.bind,
            match e.kind() {
                std::io::ErrorKind::AddrInUse => "the address is already in use".to_owned(),
                _ => e.to_string(),
            }
        )
    })?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let base = listening_base(&config.bind, port);
    config.resolve_urls(&base);
    let config = Arc::new(config);
    let state = AppState {
        config: config.clone(),
        pool: pool.clone(),
        jwt,
        clock: clock.clone(),
        mail_wakeup: Arc::new(Notify::new()),
        token_limiter: http::rate_limit::ip_limiter(config.token_requests_per_minute),
        passwords: Arc::new(crate::services::password_gate::PasswordGate::per_core()?),
        metrics: Metrics::new(),
        account_gates: Default::default(),
        group_commit: Default::default(),
    };
    let worker = Worker {
        pool,
        config: config.clone(),
        clock,
        provider: MailProvider::from_config(&config)?,
        wakeup: state.mail_wakeup.clone(),
        metrics: state.metrics.clone(),
        http: crate::outbound::webhook_client(&config)?,
    };
    // Serialized once and shared by every worker (the document itself is
    // megabytes of small allocations; a copy per worker showed in peak RSS).
    let document = web::Bytes::from(
        serde_json::to_vec(&http::openapi_document())
            .map_err(|e| format!("cannot serialize the OpenAPI document: {e}"))?,
    );
    let data = web::Data::new(state.clone());
    let cors_origins = config.cors_origins.clone();
    let server = HttpServer::new(move || {
        App::new()
            // Innermost of the three: stores and replays exactly what the client received.
            .wrap(from_fn(http::idempotency::idempotency))
            // Preflights are answered before idempotency or handlers run. Off
            // without configured origins (browsers then allow same-origin calls only).
            .wrap(Condition::new(
                !cors_origins.is_empty(),
                http::cors::cors(&cors_origins),
            ))
            // Outermost: request id, problem+json for every error, access log, metrics.
            .wrap(from_fn(http::middleware::observe))
            // Outside even that, so problems rendered there get them too.
            .wrap(from_fn(http::pages::security_headers))
            .configure(http::configure(data.clone(), document.clone()))
    })
    .workers(config.http_workers)
    // Blocking work is database work, and at most `pool size` of it can run at
    // once: more threads would only wait for a connection, each touching its
    // own stack and malloc arena (measured: 100 threads and +45 MiB under load).
    .worker_max_blocking_threads(blocking_threads_per_worker(&config))
    // The caller owns SIGTERM/SIGINT (see `cli::serve`): it stops the server
    // and the worker together. In-flight requests get this long to finish.
    .disable_signals()
    .shutdown_timeout(config.shutdown_timeout.as_secs())
    .listen(listener)
    .map_err(|e| format!("cannot start the HTTP server: {e}"))?
    .run();
    Ok(Running {
        server,
        port,
        state,
        worker,
    })
}

/// `http://host:port` of the bound listener; an any-address bind (`0.0.0.0`,
/// `[::]`) is reached on this machine through loopback.
pub fn listening_base(bind: &str, port: u16) -> String {
    let host = bind.rsplit_once(':').map_or("127.0.0.1", |(host, _)| host);
    let host = match host {
        "0.0.0.0" | "" => "127.0.0.1",
        "[::]" => "[::1]",
        host => host,
    };
    format!("http://{host}:{port}")
}

fn blocking_threads_per_worker(config: &Config) -> usize {
    let pool = usize::try_from(config.db_pool_size).unwrap_or(usize::MAX);
    pool.div_ceil(config.http_workers.max(1)).max(2)
}
