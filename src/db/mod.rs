//! Storage: one pooled `MultiConnection` over PostgreSQL and SQLite, embedded
//! migrations per dialect, and one repository module per aggregate.
//! Repositories never open transactions; services do.

pub mod accounts;
pub mod audit;
pub mod charges;
pub mod groups;
pub mod idempotency;
pub mod invitations;
pub mod invite_snapshot;
pub mod licenses;
pub mod outbox;
pub mod schema;
pub mod secrets;
pub mod users;
pub mod webhooks;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, Pool};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::DatabaseUrl;
use crate::error::AppError;

pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

pub type DbPool = Pool<DbManager>;
pub type PooledConn = r2d2::PooledConnection<DbManager>;

/// Opens the right kind of connection for the configured URL (the derived
/// `establish` would guess by trying each backend in turn).
#[derive(Debug, Clone)]
pub struct DbManager {
    url: DatabaseUrl,
}

impl DbManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }

    pub fn connect(&self) -> Result<DbConnection, diesel::ConnectionError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url).map(DbConnection::Postgres),
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
                // Without these, concurrent writers see "database is locked". The
                // page cache is 1 MiB a connection (default 2): the OS caches the file for all.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 15000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -1024;",
                )
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

/// A pooled connection that remembers whether its server connection was lost.
///
/// The pool does not test connections on checkout (that would cost a round
/// trip per request); instead every query's outcome is watched, and a
/// connection whose server went away is dropped when it is handed back.
pub struct PoolConn {
    conn: DbConnection,
    lost: Arc<AtomicBool>,
}

impl std::ops::Deref for PoolConn {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for PoolConn {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

/// Marks the connection lost when a query fails because the server went away.
struct LossWatch(Arc<AtomicBool>);

impl Instrumentation for LossWatch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::FinishQuery {
            error:
                Some(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::ClosedConnection,
                    _,
                )),
            ..
        } = event
        {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

impl ManageConnection for DbManager {
    type Connection = PoolConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<PoolConn, r2d2::Error> {
        let mut conn = DbManager::connect(self).map_err(r2d2::Error::ConnectionError)?;
        let lost = Arc::new(AtomicBool::new(false));
        conn.set_instrumentation(LossWatch(lost.clone()));
        Ok(PoolConn { conn, lost })
    }

    fn is_valid(&self, conn: &mut PoolConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut PoolConn) -> bool {
        conn.lost.load(Ordering::Relaxed) || diesel::r2d2::R2D2Connection::is_broken(&mut conn.conn)
    }
}

pub fn build_pool(url: &DatabaseUrl, size: u32) -> Result<DbPool, String> {
    if let DatabaseUrl::Sqlite(path) = url
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the directory of {}: {e}", path.display()))?;
    }
    let manager = DbManager::new(url.clone());
    // Connect once up front so a wrong URL fails with the real reason.
    manager
        .connect()
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    Pool::builder()
        .max_size(size)
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(5))
        .build(manager)
        .map_err(|e| format!("cannot build the database pool: {e}"))
}

pub fn run_migrations(conn: &mut DbConnection) -> Result<(), String> {
    let result = match conn {
        DbConnection::Postgres(pg) => pg.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
        DbConnection::Sqlite(lite) => lite.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| format!("migrations failed: {e}"))
}

pub fn has_pending_migrations(conn: &mut DbConnection) -> Result<bool, String> {
    let result = match conn {
        DbConnection::Postgres(pg) => pg.has_pending_migration(POSTGRES_MIGRATIONS),
        DbConnection::Sqlite(lite) => lite.has_pending_migration(SQLITE_MIGRATIONS),
    };
    result.map_err(|e| e.to_string())
}

/// Runs one use-case in one transaction. The first statement of every write
/// transaction must be a write (usually `accounts::lock`): on SQLite that takes
/// the write lock before any read, so the busy timeout applies instead of a
/// failed upgrade; on PostgreSQL it serialises work on one account.
pub fn transaction<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, AppError>,
) -> Result<T, AppError> {
    // The request's Idempotency-Key (if any) is marked as run in the same
    // commit as the work, so a retry after a crash can never run it again.
    let work = |conn: &mut DbConnection| {
        let value = work(conn)?;
        idempotency::mark_current_committed(conn)?;
        Ok(value)
    };
    match conn {
        // SQLite has one writer at a time; queueing writers of this process on
        // a mutex hands the lock over at once, where SQLite's busy handler
        // would make them sleep and poll (measured: about twice the throughput).
        DbConnection::Sqlite(_) => {
            static SQLITE_WRITERS: std::sync::Mutex<()> = std::sync::Mutex::new(());
            thread_local!(static HOLDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
            if HOLDING.get() {
                // A nested transaction (a savepoint) of the one this thread runs.
                return conn.transaction(work);
            }
            struct Turn(
                #[expect(dead_code, reason = "held for its drop")]
                std::sync::MutexGuard<'static, ()>,
            );
            impl Drop for Turn {
                fn drop(&mut self) {
                    HOLDING.set(false);
                }
            }
            let _turn = Turn(
                SQLITE_WRITERS
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            );
            HOLDING.set(true);
            conn.transaction(work)
        }
        DbConnection::Postgres(_) => conn.transaction(work),
    }
}

/// Reverts every migration (each `down.sql`), newest first. For the
/// migration tests, and for an operator who wants an empty database.
pub fn revert_all_migrations(conn: &mut DbConnection) -> Result<usize, String> {
    let result = match conn {
        DbConnection::Postgres(pg) => pg
            .revert_all_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
        DbConnection::Sqlite(lite) => lite
            .revert_all_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.len()),
    };
    result.map_err(|e| format!("reverting migrations failed: {e}"))
}
