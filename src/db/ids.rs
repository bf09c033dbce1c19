//! The Diesel mapping of the domain's entity ids (`domain::ids`): each is a
//! `BigInt` column, read and written as the `i64` it wraps, on every backend
//! (PostgreSQL, SQLite and the `MultiConnection` that dispatches to them).
//!
//! `AsExpression` (binding an id in a query) and `FromSqlRow` (loading one)
//! are Diesel's own derives, applied with `foreign_derive` to a proxy struct
//! here (the way Diesel maps `i64` itself), because the domain may not use
//! Diesel; `ToSql`/`FromSql` delegate to `i64`.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::BigInt;

use crate::domain::ids::{
    AccountId, AuditEventId, ChargeId, GroupId, InvitationId, LicenseId, ScimTokenId, ScimUserId,
    UserId, WebhookId,
};

macro_rules! map_ids {
    ($($id:ident => $proxy:ident),+ $(,)?) => {$(
        #[derive(diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(foreign_derive)]
        #[diesel(sql_type = BigInt)]
        #[expect(dead_code, reason = "a carrier for the derives, never built")]
        struct $proxy($id);

        impl<DB> ToSql<BigInt, DB> for $id
        where
            DB: Backend,
            i64: ToSql<BigInt, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.as_ref().to_sql(out)
            }
        }

        impl<DB> FromSql<BigInt, DB> for $id
        where
            DB: Backend,
            i64: FromSql<BigInt, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                i64::from_sql(bytes).map($id::new)
            }
        }
    )+};
}

map_ids! {
    AccountId => AccountIdSql,
    UserId => UserIdSql,
    InvitationId => InvitationIdSql,
    GroupId => GroupIdSql,
    LicenseId => LicenseIdSql,
    ChargeId => ChargeIdSql,
    WebhookId => WebhookIdSql,
    AuditEventId => AuditEventIdSql,
    ScimTokenId => ScimTokenIdSql,
    ScimUserId => ScimUserIdSql,
}
