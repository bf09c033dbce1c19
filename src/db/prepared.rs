//! Keeping UPDATE statements prepared.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// A statement whose SQL text (and bind types) say all of it, kept in the
/// connection's prepared-statement cache under that text. Diesel caches no
/// UPDATE by itself (a changeset derived from a struct skips `None` fields,
/// so one Rust type may render different SQL, and its cache would otherwise
/// key statements by type). Keyed by text, that cannot mix statements up, and
/// PostgreSQL parses and plans a hot UPDATE (the account lock with what it
/// reads, a license's reservation) once per connection instead of on every
/// execution. Wrap only statements whose text does not vary with their values
/// (no `eq_any`, which SQLite renders as one placeholder per value), and run
/// them with a load (`get_result`, `load`; give an UPDATE a `RETURNING`):
/// `execute` hands the statement on by reference, and Diesel's impl for a
/// reference asks the statement's parts, not this wrapper.
#[derive(Debug, Clone, Copy)]
pub struct Prepared<Q>(pub Q);

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

/// No static id: the cache keys the statement by its SQL text.
impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, DB> QueryFragment<DB> for Prepared<Q>
where
    Q: QueryFragment<DB>,
    DB: Backend,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for Prepared<Q> {}
