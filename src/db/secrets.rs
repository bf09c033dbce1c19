//! Service-wide secrets generated once and kept in the database (e.g. the JWT
//! secret when none is configured), so every process sharing it agrees.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::service_secrets;
use crate::error::is_unique_violation;

/// Returns the stored secret `name`, storing `generate()` first if there is none.
pub fn get_or_create(
    conn: &mut DbConnection,
    name: &str,
    now: NaiveDateTime,
    generate: impl FnOnce() -> String,
) -> QueryResult<String> {
    let find = |conn: &mut DbConnection| {
        service_secrets::table
            .find(name)
            .select(service_secrets::value)
            .first::<String>(conn)
            .optional()
    };
    if let Some(value) = find(conn)? {
        return Ok(value);
    }
    let inserted = diesel::insert_into(service_secrets::table)
        .values((
            service_secrets::name.eq(name),
            service_secrets::value.eq(generate()),
            service_secrets::created_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        // Another process stored one first: use theirs.
        Err(e) if is_unique_violation(&e) => {}
        other => {
            other?;
        }
    }
    find(conn)?.ok_or(diesel::result::Error::NotFound)
}
