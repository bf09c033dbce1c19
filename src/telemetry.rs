//! One tracing subscriber, set up once per process.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// `RUST_LOG` (default `info`); a filter that does not parse is an error
/// naming the variable, not silently ignored.
pub fn init(format: LogFormat) -> Result<(), String> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(text) if !text.trim().is_empty() => EnvFilter::try_new(&text)
            .map_err(|e| format!("RUST_LOG={text:?} is not a valid log filter: {e}"))?,
        _ => EnvFilter::new("info"),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second call in one process (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    Ok(())
}
