//! Tells the tests whether a PostgreSQL test database is configured, so that
//! the PostgreSQL variants report *ignored* (not a silent `ok`) without one.
//!
//! `no_test_database` is set when `TEST_DATABASE_URL` is unset or empty and
//! `CI` is not `true`; in CI the variants run and fail loudly without a URL.

fn main() {
    println!("cargo:rustc-check-cfg=cfg(no_test_database)");
    println!("cargo:rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo:rerun-if-env-changed=CI");
    println!("cargo:rerun-if-changed=build.rs");
    let url = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if url.is_empty() && !ci {
        println!("cargo:rustc-cfg=no_test_database");
    }
}
