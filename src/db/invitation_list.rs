//! A page of an account's invitations in one statement: each invitation with
//! its inviter's name, its groups and the latest charge it caused, and the
//! caller's role beside them (so the list needs no other round trip).

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Nullable, Text};

use super::DbConnection;
use super::charges::ChargeRow;
use super::invitations::InvitationRow;
use super::prepared::Prepared;
use super::schema::{charges, invitations, users};
use crate::domain::access::UserStatus;
use crate::domain::ids::{AccountId, GroupId, UserId};
use crate::domain::invitation::InvitationStatus;
use crate::domain::name::full_name;
use crate::domain::paging::PageRequest;

/// One invitation of a page, with what its view needs beside its row.
pub struct ListedRow {
    pub invitation: InvitationRow,
    pub inviter_name: String,
    /// In no particular order.
    pub group_ids: Vec<GroupId>,
    pub latest_charge: Option<ChargeRow>,
    /// The caller's role if the caller is an active member of the account
    /// (the same on every row; `None` otherwise).
    pub caller_role: Option<String>,
}

type ListedColumns = (
    InvitationRow,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<ChargeRow>,
);

impl TryFrom<ListedColumns> for ListedRow {
    type Error = diesel::result::Error;

    fn try_from(
        (invitation, first, last, caller_role, groups, latest_charge): ListedColumns,
    ) -> QueryResult<Self> {
        let inviter_name = match (first, last) {
            (Some(first), Some(last)) => full_name(&first, &last),
            _ => String::new(),
        };
        let group_ids = groups
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter(|id| !id.is_empty())
            .map(|id| {
                id.parse::<i64>()
                    .map(GroupId::new)
                    .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
            })
            .collect::<QueryResult<_>>()?;
        Ok(ListedRow {
            invitation,
            inviter_name,
            group_ids,
            latest_charge,
            caller_role,
        })
    }
}

/// A correlated subselect on the listed invitation (`invitations.id`), which
/// Diesel's DSL cannot write (its subselects may not name an outer table).
/// Its SQL is fixed, so the statement that holds it stays a prepared,
/// cached one.
macro_rules! correlated_subselect {
    ($(#[$doc:meta])* $name:ident: $sql_type:ty = $sql:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, QueryId)]
        struct $name;

        impl Expression for $name {
            type SqlType = $sql_type;
        }

        impl<QS> AppearsOnTable<QS> for $name where invitations::id: AppearsOnTable<QS> {}

        impl<QS> SelectableExpression<QS> for $name where
            invitations::id: SelectableExpression<QS>
        {
        }

        impl ValidGrouping<()> for $name {
            type IsAggregate = diesel::expression::is_aggregate::Never;
        }

        impl<DB: Backend> QueryFragment<DB> for $name {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
                out.push_sql($sql);
                Ok(())
            }
        }
    };
}

correlated_subselect!(
    /// The listed invitation's group ids, comma-separated (`NULL` when none):
    /// `invitation_groups`' primary key.
    GroupIdsOfListed: Nullable<Text> = "(SELECT string_agg(CAST(listed_group.group_id AS TEXT), ',') \
        FROM invitation_groups AS listed_group \
        WHERE listed_group.invitation_id = invitations.id)"
);

correlated_subselect!(
    /// The id of the latest charge the listed invitation caused
    /// (`charges_invitation_idx`).
    LatestChargeIdOfListed: Nullable<BigInt> = "(SELECT max(earlier.id) FROM charges AS earlier \
        WHERE earlier.invitation_id = invitations.id)"
);

/// Invitations joined to their inviter and latest charge, selecting
/// `ListedColumns` for `$caller` in `$account` (an uncorrelated subselect:
/// evaluated once per statement).
macro_rules! listed {
    ($account:expr, $caller:expr) => {{
        let inviter = diesel::alias!(users as inviter);
        let caller_role = users::table
            .filter(users::id.eq($caller))
            .filter(users::account_id.eq($account))
            .filter(users::status.eq(UserStatus::Active.as_str()))
            .select(users::role)
            .single_value();
        invitations::table
            .left_join(inviter.on(inviter.field(users::id).eq(invitations::invited_by_user_id)))
            .left_join(
                charges::table.on(charges::invitation_id
                    .eq(invitations::id.nullable())
                    .and(charges::id.nullable().eq(LatestChargeIdOfListed))),
            )
            .select((
                invitations::all_columns,
                inviter.field(users::first_name).nullable(),
                inviter.field(users::last_name).nullable(),
                caller_role,
                GroupIdsOfListed,
                charges::all_columns.nullable(),
            ))
    }};
}

/// One page, newest first, of the rows matching `$filter`, ordered by the whole
/// key of the index that serves it (`$order`, ending in `id`): a static query
/// (planned once per connection) whose order only that index gives, so
/// PostgreSQL never walks the primary key through every newer row of every
/// tenant instead.
macro_rules! page_of {
    ($conn:expr, $page:expr, $account:expr, $caller:expr, $filter:expr, $order:expr) => {
        match $page.before_id {
            None => listed!($account, $caller)
                .filter($filter)
                .order($order)
                .limit($page.limit + 1)
                .load::<ListedColumns>($conn),
            // `(account_id, id) < (account, cursor)`, a condition only the
            // account's indexes can serve: `id < cursor` alone lets PostgreSQL
            // walk the primary key back from the cursor through every tenant.
            // Written as SQL, which Diesel would not keep prepared; its text
            // is fixed, so `Prepared` does.
            Some(before) => Prepared(
                listed!($account, $caller)
                    .filter($filter)
                    .filter(
                        diesel::dsl::sql::<diesel::sql_types::Bool>(
                            "(invitations.account_id, invitations.id) < (",
                        )
                        .bind::<diesel::sql_types::BigInt, _>($account)
                        .sql(", ")
                        .bind::<diesel::sql_types::BigInt, _>(before)
                        .sql(")"),
                    )
                    .order($order)
                    .limit($page.limit + 1),
            )
            .load::<ListedColumns>($conn),
        }
        .and_then(|rows| rows.into_iter().map(ListedRow::try_from).collect())
    };
}

/// Who lists: the caller's id, and the account listed.
#[derive(Clone, Copy)]
pub struct Lister {
    pub account_id: AccountId,
    pub caller_id: UserId,
}

/// One page of rows stored with `stored` status (any when `None`), of one
/// email when given: the four static queries, each on the index that serves
/// its filter and order.
fn stored_page(
    conn: &mut DbConnection,
    lister: Lister,
    stored: Option<&str>,
    email_normalized: Option<&str>,
    page: PageRequest,
) -> QueryResult<Vec<ListedRow>> {
    use invitations::{account_id as account, email_normalized as email, id, status};
    let Lister {
        account_id,
        caller_id,
    } = lister;
    match (stored, email_normalized) {
        (None, None) => page_of!(
            conn,
            page,
            account_id,
            caller_id,
            account.eq(account_id),
            (account.desc(), id.desc())
        ),
        (None, Some(e)) => page_of!(
            conn,
            page,
            account_id,
            caller_id,
            account.eq(account_id).and(email.eq(e)),
            (account.desc(), email.desc(), id.desc())
        ),
        (Some(s), None) => page_of!(
            conn,
            page,
            account_id,
            caller_id,
            account.eq(account_id).and(status.eq(s)),
            (account.desc(), status.desc(), id.desc())
        ),
        (Some(s), Some(e)) => page_of!(
            conn,
            page,
            account_id,
            caller_id,
            account.eq(account_id).and(email.eq(e)).and(status.eq(s)),
            (account.desc(), email.desc(), id.desc())
        ),
    }
}

/// Newest first, `limit + 1` rows. The status filter uses the status a client sees:
/// a pending row past its expiry counts as expired.
pub fn list(
    conn: &mut DbConnection,
    lister: Lister,
    status: Option<InvitationStatus>,
    email_normalized: Option<&str>,
    page: PageRequest,
    now: NaiveDateTime,
) -> QueryResult<Vec<ListedRow>> {
    use invitations::{account_id as account, expires_at, id, status as stored};
    let account_id = lister.account_id;
    let pending = InvitationStatus::Pending.as_str();
    let page_size = usize::try_from(page.limit + 1).unwrap_or(usize::MAX);
    match status {
        // Stored as pending, minus those past their expiry that no write or
        // sweep has recorded yet (a handful at most, counted on the overdue
        // index): the page asks for that many more rows and drops them here,
        // so its SQL names no expiry that would lure SQLite onto the overdue
        // index and a sort of every pending invitation.
        Some(InvitationStatus::Pending) => {
            let overdue: i64 = invitations::table
                .filter(account.eq(account_id))
                .filter(stored.eq(pending))
                .filter(expires_at.le(now))
                .count()
                .get_result(conn)?;
            let widened = PageRequest {
                limit: page.limit + overdue,
                ..page
            };
            let mut rows = stored_page(conn, lister, Some(pending), email_normalized, widened)?;
            rows.retain(|row| row.invitation.expires_at > now);
            rows.truncate(page_size);
            Ok(rows)
        }
        // Stored as expired (a page on the status index), plus those pending
        // past their expiry that no write or sweep has recorded yet: a handful
        // at most, read whole on the overdue index. Merged here, never one OR
        // that would need a sort of every expired invitation.
        Some(InvitationStatus::Expired) => {
            let overdue = listed!(account_id, lister.caller_id)
                .filter(account.eq(account_id))
                .filter(stored.eq(pending))
                .filter(expires_at.le(now))
                .filter(id.lt(page.before_id.unwrap_or(i64::MAX)))
                .load::<ListedColumns>(conn)?
                .into_iter()
                .map(ListedRow::try_from)
                .collect::<QueryResult<Vec<_>>>()?
                .into_iter()
                .filter(|row| {
                    email_normalized.is_none_or(|e| row.invitation.email_normalized == e)
                });
            let expired = InvitationStatus::Expired.as_str();
            let mut rows = stored_page(conn, lister, Some(expired), email_normalized, page)?;
            rows.extend(overdue);
            rows.sort_unstable_by_key(|r| std::cmp::Reverse(r.invitation.id));
            rows.truncate(page_size);
            Ok(rows)
        }
        other => stored_page(
            conn,
            lister,
            other.map(InvitationStatus::as_str),
            email_normalized,
            page,
        ),
    }
}
