//! Storage: one pooled `MultiConnection` over PostgreSQL and SQLite, embedded
//! migrations per dialect, and one repository module per aggregate.
//! Repositories never open transactions; services do.

/// Deletes up to `$limit` rows of `$table` in `$status` created before
/// `$before`, oldest first (one status at a time, so a `(status, created_at)`
/// index gives the order); evaluates to how many. For the outbox tables'
/// retention.
macro_rules! delete_oldest_in_status {
    ($conn:expr, $table:ident, $status:expr, $before:expr, $limit:expr) => {{
        let ids: Vec<i64> = $table::table
            .filter($table::status.eq($status))
            .filter($table::created_at.lt($before))
            .select($table::id)
            .order($table::created_at.asc())
            .limit($limit)
            .load($conn)?;
        if ids.is_empty() {
            Ok(0)
        } else {
            diesel::delete($table::table.filter($table::id.eq_any(&ids))).execute($conn)
        }
    }};
}

pub mod accounts;
pub mod audit;
pub mod charges;
pub mod groups;
pub mod idempotency;
pub mod ids;
pub mod invitation_list;
pub mod invitations;
pub mod invite_snapshot;
pub mod licenses;
pub mod mail_events;
pub mod money;
pub mod outbox;
pub mod prepared;
pub mod schema;
pub mod scim;
pub mod secrets;
pub mod users;
pub mod webhooks;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use diesel::Connection;
use diesel::RunQueryDsl;
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

    /// Errors never carry the URL's password (see `DatabaseUrl::scrub`).
    pub fn connect(&self) -> Result<DbConnection, diesel::ConnectionError> {
        self.connect_unscrubbed().map_err(|error| {
            use diesel::ConnectionError as E;
            match error {
                E::InvalidCString(e) => E::BadConnection(self.url.scrub(&e.to_string())),
                E::BadConnection(message) => E::BadConnection(self.url.scrub(&message)),
                E::InvalidConnectionUrl(message) => {
                    E::InvalidConnectionUrl(self.url.scrub(&message))
                }
                E::CouldntSetupConfiguration(e) => E::BadConnection(self.url.scrub(&e.to_string())),
                other => E::BadConnection(self.url.scrub(&other.to_string())),
            }
        })
    }

    fn connect_unscrubbed(&self) -> Result<DbConnection, diesel::ConnectionError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut conn = PgConnection::establish(url)?;
                // The planner's default page costs are a spinning disk's: with
                // them it prefers walking the primary key backwards past every
                // newer row of every tenant over the account's own index (seen
                // on a seeded large account; tests/flat_cost.rs). 1.1 is the
                // usual setting for SSD and cached data.
                //
                // Generic plans only: every statement is prepared once per
                // connection and planned once, for any values. With PostgreSQL's
                // default it plans statements for their values as long as
                // that looks cheaper: on every execution, and for the
                // invite's first open license it then walked the primary key
                // past every held license (it estimates open ones spread
                // evenly; an account's are usually its newest): 10 to 17 ms
                // per invite on the benchmark's account of 60,000 seats. The
                // indexes are built for the generic plans (tests/flat_cost.rs
                // checks those).
                conn.batch_execute(
                    "SET random_page_cost = 1.1; SET plan_cache_mode = force_generic_plan",
                )
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Postgres(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
                // Without these, concurrent writers see "database is locked". The
                // page cache is 512 KiB a connection (default 2 MiB): the OS caches the file for all.
                let setup = "PRAGMA busy_timeout = 15000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -512;";
                // Switching a new file to WAL needs it to itself, and SQLite
                // answers "database is locked" at once, without waiting, when
                // other processes open it at the same moment (several
                // `migrate`s on a fresh file): try again for up to 15 s.
                let started = std::time::Instant::now();
                loop {
                    match conn.batch_execute(setup) {
                        Ok(()) => break,
                        Err(diesel::result::Error::DatabaseError(_, info))
                            if info.message().contains("database is locked")
                                && started.elapsed() < Duration::from_secs(15) =>
                        {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        Err(e) => {
                            return Err(diesel::ConnectionError::CouldntSetupConfiguration(e));
                        }
                    }
                }
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
    failed: Arc<AtomicU64>,
}

impl PoolConn {
    /// Counts this connection's failed statements.
    pub fn statement_failures(&self) -> StatementFailures {
        StatementFailures(self.failed.clone())
    }
}

/// How many statements have failed on one connection so far.
pub struct StatementFailures(Arc<AtomicU64>);

impl StatementFailures {
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
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

/// Counts failed statements, and marks the connection lost when a query
/// fails because the server went away.
struct FailureWatch {
    lost: Arc<AtomicBool>,
    failed: Arc<AtomicU64>,
}

impl Instrumentation for FailureWatch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::FinishQuery {
            error: Some(error), ..
        } = event
        {
            self.failed.fetch_add(1, Ordering::Relaxed);
            if let diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ClosedConnection,
                _,
            ) = error
            {
                self.lost.store(true, Ordering::Relaxed);
            }
        }
    }
}

impl ManageConnection for DbManager {
    type Connection = PoolConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<PoolConn, r2d2::Error> {
        let mut conn = DbManager::connect(self).map_err(r2d2::Error::ConnectionError)?;
        let lost = Arc::new(AtomicBool::new(false));
        let failed = Arc::new(AtomicU64::new(0));
        conn.set_instrumentation(FailureWatch {
            lost: lost.clone(),
            failed: failed.clone(),
        });
        Ok(PoolConn { conn, lost, failed })
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
    // Connect once up front so a wrong URL fails with the real reason (and
    // the URL, its password replaced by ***).
    manager
        .connect()
        .map_err(|e| format!("cannot connect to the database at {}: {e}", url.redacted()))?;
    Pool::builder()
        .max_size(size)
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(5))
        .build(manager)
        .map_err(|e| {
            format!(
                "cannot build the database pool for {}: {}",
                url.redacted(),
                url.scrub(&e.to_string())
            )
        })
}

/// Key of the PostgreSQL advisory lock held while migrating (any constant
/// that no other application on the same database uses: "invitat" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x0069_6e76_6974_6174;

/// Applies pending migrations; safe to run from several processes at once.
/// PostgreSQL: under a session-level advisory lock, so one process migrates
/// while the others wait and then find nothing left to do (each migration
/// also runs in its own transaction, so none is ever seen half-applied).
/// SQLite: in one `BEGIN IMMEDIATE` transaction, which takes the write lock
/// first, with the same effect.
pub fn run_migrations(conn: &mut DbConnection) -> Result<(), String> {
    let result = match conn {
        // Always under the lock: even looking for pending migrations creates
        // diesel's bookkeeping table on a fresh database, and two concurrent
        // `CREATE TABLE IF NOT EXISTS` can collide on PostgreSQL.
        DbConnection::Postgres(pg) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(pg)
                .map_err(|e| format!("cannot take the migration lock: {e}"))?;
            let result = pg
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|_| ())
                .map_err(|e| e.to_string());
            // Released on every path; a connection that dies releases it too.
            let unlocked =
                diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                    .execute(pg);
            result.and(unlocked.map(|_| ()).map_err(|e| e.to_string()))
        }
        DbConnection::Sqlite(lite) => {
            // Nothing pending (every start but the first after a release): no write lock.
            if !lite
                .has_pending_migration(SQLITE_MIGRATIONS)
                .map_err(|e| format!("migrations failed: {e}"))?
            {
                return Ok(());
            }
            lite.immediate_transaction(|lite| {
                lite.run_pending_migrations(SQLITE_MIGRATIONS)
                    .map(|_| ())
                    .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))
            })
            .map_err(|e| e.to_string())
        }
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
///
/// `claim` is the request's Idempotency-Key, if it has one: it is marked as
/// run in the same commit as the work, so a retry after a crash can never run
/// it again.
pub fn transaction<T>(
    conn: &mut DbConnection,
    claim: Option<&idempotency::ClaimRef>,
    work: impl FnOnce(&mut DbConnection) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let work = |conn: &mut DbConnection| {
        let value = work(conn)?;
        if let Some(claim) = claim {
            idempotency::mark_committed(conn, claim)?;
        }
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
                // A nested transaction (a savepoint) of the one this thread
                // runs — unless SQLite ended that one itself (it rolls back the
                // whole transaction after e.g. a full disk): then this must not
                // quietly commit on its own.
                if transaction_depth(conn) == 0 {
                    return Err(AppError::Unavailable(
                        "the enclosing transaction was rolled back".into(),
                    ));
                }
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
            sqlite_immediate_transaction(conn, work)
        }
        DbConnection::Postgres(_) => {
            if FLAT.replace(false) && transaction_depth(conn) == 1 {
                // One use-case of a flat batch (see `flat`): no savepoint.
                return work(conn);
            }
            conn.transaction(work)
        }
    }
}

thread_local!(static FLAT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });

/// Runs `work`, one use-case of a group commit on PostgreSQL, so that its own
/// `transaction` becomes part of the batch's transaction instead of a
/// savepoint inside it (two round trips fewer). Its transactions nested
/// deeper are savepoints as usual.
///
/// Without a savepoint, nothing undoes the use-case's writes if it fails, and
/// a failed statement leaves the whole transaction unusable. The caller must
/// therefore treat the batch as spoilt — roll it back and run it again with
/// savepoints — unless the use-case succeeded, or refused before its first
/// write without any statement failing (`PoolConn::statement_failures`).
pub fn flat<T>(work: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            FLAT.set(false);
        }
    }
    let _reset = Reset;
    FLAT.set(true);
    work()
}

/// A transaction of its own, a savepoint when nested — also as the first
/// transaction of a use-case run `flat`: for work that must be undone
/// whatever the batch does (e.g. `services::without_writing`).
pub fn own_transaction<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, AppError>,
) -> Result<T, AppError> {
    FLAT.set(false);
    transaction(conn, None, work)
}

/// How many transactions (the outer one and its savepoints) are open on
/// `conn`; 0 when none is, or when diesel's bookkeeping is broken.
pub fn transaction_depth(conn: &mut DbConnection) -> u32 {
    use diesel::connection::TransactionManager;
    DbConnection::transaction_manager_status_mut(conn)
        .transaction_depth()
        .ok()
        .flatten()
        .map_or(0, std::num::NonZeroU32::get)
}

/// A SQLite transaction that is a writer from its first statement (`BEGIN
/// IMMEDIATE`, which waits out another process's writer under
/// `busy_timeout`). A plain `BEGIN` reads from a snapshot first, and its first
/// write then fails at once with "database is locked" if anyone committed
/// since — `busy_timeout` does not apply to that upgrade.
fn sqlite_immediate_transaction<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, AppError>,
) -> Result<T, AppError> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConnection::Sqlite(sqlite) = conn else {
        return conn.transaction(work);
    };
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    // From here on the transaction is diesel's (its depth is 1): nested
    // `transaction` calls are savepoints; commit and rollback as diesel's own.
    match work(conn) {
        Ok(value) => {
            DbConnection::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => match DbConnection::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
            Err(rollback_error) => Err(rollback_error.into()),
        },
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
