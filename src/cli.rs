//! The command line: `serve` (default), `migrate`, `openapi`, `bootstrap`, `token`, `worker`.

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::clock::Clock;
use crate::config::{Config, parse_token_ttl};
use crate::db;
use crate::domain::access::UserStatus;
use crate::domain::billing::{BillingSystem, LicenseType, Plan};
use crate::domain::ids::{AccountId, UserId};
use crate::services::bootstrap::{self, BootstrapInput};
use crate::startup;

#[derive(Debug, Parser)]
#[command(
    name = "invitations",
    version,
    about = "Invite people to a law firm's account and bill their seat licenses."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API and the outbox worker (the default). Configured by
    /// environment variables (and ./.env), listed below.
    Serve,
    /// Apply pending database migrations (DATABASE_URL) and exit.
    Migrate,
    /// Print the OpenAPI document (needs no configuration or database).
    Openapi,
    /// Create an account with its primary subscriber; prints {"account_id", "user_id", "access_token"}.
    Bootstrap(BootstrapArgs),
    /// Mint a bearer token for a user; prints the JWT alone on one line.
    Token(TokenArgs),
    /// Run only the background worker (email delivery, webhooks, expiry and retention sweeps).
    Worker,
}

#[derive(Debug, Args)]
struct BootstrapArgs {
    /// The firm's name, 1–100 characters.
    #[arg(long, value_name = "NAME")]
    account_name: String,
    /// `classic` (attorney and non_attorney licenses priced apart) or `new` (one `user` license).
    #[arg(long, value_name = "classic|new", value_parser = parse_billing_system)]
    billing_system: BillingSystem,
    /// `monthly` (prices per calendar month) or `annual` (per year).
    #[arg(long, value_name = "monthly|annual", value_parser = parse_plan)]
    plan: Plan,
    /// The primary subscriber's email (their sign-in).
    #[arg(long, value_name = "EMAIL")]
    owner_email: String,
    /// The primary subscriber's password, 8–1024 characters (never printed).
    #[arg(long, value_name = "PASSWORD")]
    owner_password: String,
    /// The primary subscriber's name, "First Last".
    #[arg(long, value_name = "NAME", default_value = "Account Owner")]
    owner_name: String,
    /// Price in cents of one license for one whole period; TYPE is attorney or
    /// non_attorney (classic) or user (new). Repeatable; a type not given costs 0.
    #[arg(long = "price", value_name = "TYPE=CENTS", value_parser = parse_type_amount)]
    prices: Vec<(LicenseType, i64)>,
    /// Open (paid, unused) licenses to start with, e.g. attorney=3. Repeatable.
    #[arg(long = "licenses", value_name = "TYPE=N", value_parser = parse_type_amount)]
    licenses: Vec<(LicenseType, i64)>,
    /// ISO 4217 currency of the prices.
    #[arg(long, value_name = "CODE", default_value = "USD")]
    currency: String,
    /// Start of the first billing period, RFC 3339 (e.g. 2026-12-01T00:00:00Z),
    /// not in the future; default: now.
    #[arg(long, value_name = "TIMESTAMP", value_parser = parse_rfc3339)]
    period_start: Option<DateTime<Utc>>,
    /// Lifetime of the printed access token: a number and s, m, h or d
    /// (e.g. 90d, 12h, 30m), at most 366d.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_token_ttl)]
    ttl: std::time::Duration,
}

#[derive(Debug, Args)]
struct TokenArgs {
    /// The account id (as `bootstrap` printed it).
    #[arg(long, value_name = "ID")]
    account: AccountId,
    /// The id of an active user of that account.
    #[arg(long, value_name = "ID")]
    user: UserId,
    /// Lifetime: a number and s, m, h or d (e.g. 90d, 12h, 30m), at most 366d.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_token_ttl)]
    ttl: std::time::Duration,
}

/// `serve --help`'s list of environment variables, from the one table.
fn environment_help() -> String {
    let mut text = String::from("Environment variables (also read from ./.env):\n");
    for (name, default, what) in crate::config::VARIABLES {
        let default = default.map_or("unset".to_owned(), |d| format!("default {d:?}"));
        text.push_str(&format!("  {name} ({default})\n      {what}\n"));
    }
    text
}

fn parse_command_line() -> Cli {
    let command = Cli::command().mut_subcommand("serve", |serve| {
        serve.after_long_help(environment_help()).after_help(
            "Run `invitations serve --help` for every environment variable and its default.",
        )
    });
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

fn parse_billing_system(text: &str) -> Result<BillingSystem, String> {
    BillingSystem::parse(text).ok_or_else(|| format!("expected one of {}", BillingSystem::names()))
}

fn parse_plan(text: &str) -> Result<Plan, String> {
    Plan::parse(text).ok_or_else(|| format!("expected one of {}", Plan::names()))
}

fn parse_type_amount(text: &str) -> Result<(LicenseType, i64), String> {
    let (kind, amount) = text.split_once('=').ok_or("expected TYPE=NUMBER")?;
    let kind = LicenseType::parse(kind.trim())
        .ok_or_else(|| format!("license type must be one of {}", LicenseType::names()))?;
    let amount: i64 = amount
        .trim()
        .parse()
        .map_err(|_| "expected a whole number after =".to_owned())?;
    if amount < 0 {
        return Err("must not be negative".into());
    }
    Ok((kind, amount))
}

fn parse_rfc3339(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("expected an RFC 3339 timestamp: {e}"))
}

pub fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = parse_command_line();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi = command {
        // Printing the document needs neither configuration nor a database.
        print!("{}", crate::http::openapi_json());
        return ExitCode::SUCCESS;
    }
    // `./.env` (if any) for every subcommand; variables already set win.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("invitations: configuration error: .env: {e}");
        return ExitCode::from(2);
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("invitations: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = crate::telemetry::init(config.log_format) {
        eprintln!("invitations: configuration error: {e}");
        return ExitCode::from(2);
    }
    let result = match command {
        Command::Serve => serve(config),
        Command::Migrate => migrate(&config),
        Command::Openapi => Ok(()),
        Command::Bootstrap(args) => run_bootstrap(&config, args),
        Command::Token(args) => mint_token(&config, &args),
        Command::Worker => run_worker(config),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("invitations: {e}");
            ExitCode::FAILURE
        }
    }
}

fn migrate(config: &Config) -> Result<(), String> {
    startup::prepare(config, &Clock::default())?;
    eprintln!("invitations: migrations applied");
    Ok(())
}

fn describe_database(config: &Config) -> String {
    match &config.database_url {
        crate::config::DatabaseUrl::Sqlite(path) => format!("SQLite at {}", path.display()),
        crate::config::DatabaseUrl::Postgres(_) => "PostgreSQL".to_owned(),
    }
}

fn serve(config: Config) -> Result<(), String> {
    // The main runtime runs the outbox worker; its blocking work (claims,
    // records, one file write per email) needs a few threads, not hundreds.
    let system = actix_web::rt::System::with_tokio_rt(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .max_blocking_threads(4)
            .build()
            .unwrap_or_else(|e| panic!("cannot start the runtime: {e}"))
    });
    system.block_on(async move {
        let database = describe_database(&config);
        let mail_dir = config.mail_dir.display().to_string();
        let deadline = config.shutdown_timeout;
        let running = startup::build(config, Clock::default())?;
        let base = startup::listening_base(&running.state.config.bind, running.port);
        println!("invitations listening on {base} ({database}; emails written to {mail_dir})");
        println!("API reference: {base}/docs   OpenAPI: {base}/openapi.json");
        println!(
            "Get a token: invitations bootstrap --account-name \"My Firm\" --billing-system classic --plan monthly \
             --owner-email you@example.com --owner-password 'a long password' --price attorney=9900 --price non_attorney=4900\n\
             (prints {{\"account_id\", \"user_id\", \"access_token\"}}), then POST {base}/sessions with {{\"email\", \"password\"}}."
        );
        let handle = running.handle();
        let mut server = actix_web::rt::spawn(running.server);
        let (stop_worker, worker_stopped) = tokio::sync::oneshot::channel::<()>();
        let worker = actix_web::rt::spawn(running.worker.run_until(async {
            let _ = worker_stopped.await;
        }));
        let signal = tokio::select! {
            outcome = &mut server => {
                worker.abort();
                return match outcome {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
            }
            signal = shutdown_signal() => signal,
        };
        tracing::info!(
            signal,
            deadline_seconds = deadline.as_secs(),
            "shutting down: no new connections; finishing in-flight requests and the current delivery batch"
        );
        let _ = stop_worker.send(());
        let drain = async {
            // Graceful: stop accepting, let in-flight requests finish (bounded
            // by the server's shutdown timeout, the same deadline).
            handle.stop(true).await;
            let _ = server.await;
        };
        let finish_batch = async {
            let _ = worker.await;
        };
        match tokio::time::timeout(deadline, async { tokio::join!(drain, finish_batch) }).await {
            Ok(_) => tracing::info!("stopped"),
            Err(_) => tracing::warn!(
                "shutdown deadline passed with work unfinished; a leased email is sent by the next process once its lease ends"
            ),
        }
        Ok(())
    })
}

/// The first SIGTERM (what orchestrators send) or SIGINT (Ctrl-C).
async fn shutdown_signal() -> &'static str {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => tokio::select! {
                _ = terminate.recv() => "SIGTERM",
                () = interrupt => "SIGINT",
            },
            Err(_) => {
                interrupt.await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        interrupt.await;
        "Ctrl-C"
    }
}

fn run_worker(config: Config) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let clock = Clock::default();
        let (pool, _) = startup::prepare(&config, &clock)?;
        let deadline = config.shutdown_timeout;
        let config = std::sync::Arc::new(config);
        let worker = crate::jobs::worker::Worker {
            pool,
            provider: crate::mail::provider::MailProvider::from_config(&config)?,
            http: crate::outbound::webhook_client(&config)?,
            config,
            clock,
            wakeup: Default::default(),
            metrics: crate::metrics::Metrics::new(),
        };
        eprintln!("invitations: outbox worker running");
        let (stop_worker, worker_stopped) = tokio::sync::oneshot::channel::<()>();
        let mut running = tokio::spawn(worker.run_until(async {
            let _ = worker_stopped.await;
        }));
        tokio::select! {
            _ = &mut running => return Ok(()),
            signal = shutdown_signal() => {
                tracing::info!(signal, "shutting down: finishing the current delivery batch");
            }
        }
        let _ = stop_worker.send(());
        if tokio::time::timeout(deadline, running).await.is_err() {
            tracing::warn!("shutdown deadline passed with a delivery batch unfinished");
        }
        Ok(())
    })
}

fn run_bootstrap(config: &Config, args: BootstrapArgs) -> Result<(), String> {
    let clock = Clock::default();
    let (pool, jwt) = startup::prepare(config, &clock)?;
    let now = clock.now();
    let (first, last) = args
        .owner_name
        .trim()
        .split_once(' ')
        .map(|(f, l)| (f.trim().to_owned(), l.trim().to_owned()))
        .unwrap_or_else(|| (args.owner_name.trim().to_owned(), String::new()));
    let input = BootstrapInput {
        account_name: args.account_name,
        billing_system: args.billing_system,
        plan: args.plan,
        owner_email: args.owner_email,
        owner_password: args.owner_password,
        owner_first_name: first,
        owner_last_name: last,
        prices: args.prices,
        licenses: args.licenses,
        currency: args.currency,
        period_start: args.period_start.map_or(now, |t| t.naive_utc()),
    };
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let created = bootstrap::run(&mut conn, &input, now)?;
    let access_token = jwt
        .issue(created.account_id, created.user_id, args.ttl, now)
        .map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::json!({
            "account_id": created.account_id,
            "user_id": created.user_id,
            "access_token": access_token,
        })
    );
    Ok(())
}

fn mint_token(config: &Config, args: &TokenArgs) -> Result<(), String> {
    let clock = Clock::default();
    let (pool, jwt) = startup::prepare(config, &clock)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let user = db::users::find_in_account(&mut conn, args.account, args.user)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no user {} in account {}", args.user, args.account))?;
    if user.status().map_err(|e| e.to_string())? != UserStatus::Active {
        return Err(format!("user {} is disabled", args.user));
    }
    let token = jwt
        .issue(args.account, args.user, args.ttl, clock.now())
        .map_err(|e| e.to_string())?;
    println!("{token}");
    Ok(())
}

/// glibc gives every thread that allocates its own arena (up to 8 per core),
/// each keeping freed memory: with a few dozen request threads that was most
/// of the process's memory under load. Two arenas serve two cores.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator settings; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
