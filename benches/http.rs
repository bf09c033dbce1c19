//! `cargo bench`: the release binary, driven over HTTP on loopback, as a
//! provisioning script would. Prints throughput, latency percentiles and the
//! server's peak memory. PostgreSQL too when BENCH_DATABASE_URL is set.
//!
//! Knobs: BENCH_INVITES (default 1000), BENCH_CONCURRENCY (default 32).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_invitations");

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn command(dir: &std::path::Path, database_url: &str) -> Command {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .env("DATABASE_URL", database_url)
        .env("INVITATIONS_MAIL_DIR", dir.join("mail"))
        .env("RUST_LOG", "warn")
        .env(
            "INVITATIONS_JWT_SECRET",
            "bench secret, at least thirty-two bytes long",
        )
        .env("INVITATIONS_RATE_INVITATIONS_PER_HOUR", "1000000");
    command
}

fn memory_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1_000.0
}

async fn timed(
    client: &reqwest::Client,
    request: reqwest::RequestBuilder,
) -> (Duration, u16, Value) {
    let started = Instant::now();
    let response = client
        .execute(request.build().unwrap())
        .await
        .expect("request");
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (started.elapsed(), status, body)
}

/// Sends `rounds` rounds of `concurrency` requests made by `request` at once,
/// asserts each answers `status`, and reports their latencies as `label`.
async fn measure_rounds(
    client: &reqwest::Client,
    label: &str,
    rounds: usize,
    concurrency: usize,
    status: u16,
    request: impl Fn() -> reqwest::RequestBuilder,
) {
    let started = Instant::now();
    let mut latencies = Vec::new();
    for _ in 0..rounds {
        let requests = (0..concurrency).map(|_| timed(client, request()));
        for (latency, answered, body) in join_all(requests).await {
            assert_eq!(answered, status, "{body}");
            latencies.push(latency);
        }
    }
    report(label, latencies, started.elapsed());
}

fn report(label: &str, mut latencies: Vec<Duration>, wall: Duration) {
    latencies.sort();
    println!(
        "{label:<34} {:>6} req  {:>8.0} req/s  p50 {:>6.2} ms  p95 {:>6.2} ms  p99 {:>6.2} ms",
        latencies.len(),
        latencies.len() as f64 / wall.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99),
    );
}

async fn run(label: &str, database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let invites = env_number("BENCH_INVITES", 1_000);
    let concurrency = env_number("BENCH_CONCURRENCY", 32);
    let unique = std::process::id();
    let output = command(dir.path(), database_url)
        .args([
            "bootstrap",
            "--account-name",
            "Bench LLP",
            "--billing-system",
            "new",
            "--plan",
            "monthly",
            "--owner-email",
            &format!("bench{unique}@example.com"),
            "--owner-password",
            "bench password",
            "--price",
            "user=3000",
        ])
        .output()
        .expect("bootstrap");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let boot: Value = serde_json::from_slice(&output.stdout).unwrap();
    let token = boot["access_token"].as_str().unwrap().to_owned();
    let account = boot["account_id"].as_i64().unwrap();

    let mut child = command(dir.path(), database_url)
        .arg("serve")
        .env("INVITATIONS_BIND", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let first = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    let server = Server { child, base };
    let pid = server.child.id();
    let idle_kib = memory_kib(pid, "VmRSS");

    invitations::outbound::install_tls_provider();
    let client = reqwest::Client::new();
    println!("\n{label}: {invites} invitations, {concurrency} in flight");

    let started = Instant::now();
    let mut latencies = Vec::with_capacity(invites);
    for chunk in (0..invites).collect::<Vec<_>>().chunks(concurrency) {
        let requests = chunk.iter().map(|i| {
            timed(
                &client,
                client
                    .post(format!("{}/accounts/{account}/invitations", server.base))
                    .bearer_auth(&token)
                    .json(&json!({"email": format!("person{i}@example.com"), "role": "standard"})),
            )
        });
        for (latency, status, body) in join_all(requests).await {
            assert_eq!(status, 201, "{body}");
            latencies.push(latency);
        }
    }
    report(
        "POST invitations (buys a license)",
        latencies,
        started.elapsed(),
    );

    let rounds = (invites / concurrency).max(1);
    let invitations = format!("{}/accounts/{account}/invitations", server.base);
    measure_rounds(
        &client,
        "GET invitations (100 per page)",
        rounds,
        concurrency,
        200,
        || {
            client
                .get(format!("{invitations}?limit=100"))
                .bearer_auth(&token)
        },
    )
    .await;
    measure_rounds(
        &client,
        "POST invitations/quote",
        rounds,
        concurrency,
        200,
        || {
            client
                .post(format!("{invitations}/quote"))
                .bearer_auth(&token)
                .json(&json!({"email": "quote@example.com", "role": "standard"}))
        },
    )
    .await;

    // Delivery: every invitation's email written as an .eml file.
    let started = Instant::now();
    let mail = dir.path().join("mail");
    while std::fs::read_dir(&mail).map(|d| d.count()).unwrap_or(0) < invites {
        if started.elapsed() > Duration::from_secs(120) {
            println!("outbox: not all emails written after 120 s");
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "{:<34} all {invites} .eml files present {:.2} s after the last invite",
        "outbox delivery",
        started.elapsed().as_secs_f64()
    );
    println!(
        "{:<34} idle {:.1} MiB, now {:.1} MiB, peak {:.1} MiB",
        "server memory (RSS)",
        idle_kib as f64 / 1024.0,
        memory_kib(pid, "VmRSS") as f64 / 1024.0,
        memory_kib(pid, "VmHWM") as f64 / 1024.0
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: only run when benchmarking.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        run(
            "SQLite",
            &format!("sqlite://{}", dir.path().join("bench.db").display()),
        )
        .await;
        if let Ok(url) = std::env::var("BENCH_DATABASE_URL") {
            run("PostgreSQL", &url).await;
        }
    });
}
