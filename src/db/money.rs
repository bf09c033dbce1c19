//! The Diesel mapping of `domain::money::Currency`: a `Text` column holding
//! the code (`USD`), checked when read (a stored code this service did not
//! write is a `CorruptValue`, never a guess). Amounts stay two columns
//! (`*_cents BIGINT` + `currency TEXT`); the repositories build `Money` from
//! them and take it apart again.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use crate::domain::money::Currency;

#[derive(diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(foreign_derive)]
#[diesel(sql_type = Text)]
#[expect(dead_code, reason = "a carrier for the derives, never built")]
struct CurrencySql(Currency);

impl<DB> ToSql<Text, DB> for Currency
where
    DB: Backend,
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.as_str().to_sql(out)
    }
}

impl<DB> FromSql<Text, DB> for Currency
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Ok(Currency::from_db(&String::from_sql(bytes)?)?)
    }
}
