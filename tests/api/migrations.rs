//! Every migration goes up, down and up again, on both dialects.

use invitations::config::DatabaseUrl;
use invitations::db::{self, DbManager};

use crate::db_tests;
use crate::helpers::{AccountSpec, TestApp};

db_tests!(migrations_go_up_down_and_up_again);

async fn migrations_go_up_down_and_up_again(app: TestApp) {
    // The service has migrated its database and holds data in it.
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let url = DatabaseUrl::parse(&app.database_url).unwrap();
    app.stop().await;
    let mut conn = DbManager::new(url).connect().expect("connect");
    assert!(!db::has_pending_migrations(&mut conn).unwrap());
    let reverted = db::revert_all_migrations(&mut conn).expect("every down.sql runs");
    assert!(reverted >= 3, "{reverted}");
    assert!(db::has_pending_migrations(&mut conn).unwrap());
    db::run_migrations(&mut conn).expect("up again");
    assert!(!db::has_pending_migrations(&mut conn).unwrap());
    // The schema is whole again: the data went with `down`, and a new account works.
    drop(conn);
    let again = app.bootstrap(&AccountSpec::classic_annual());
    assert_eq!(
        again.account_id, owner.account_id,
        "the ids start again: the old rows went with the tables"
    );
    assert_eq!(
        app.licenses_counted_in_db(again.account_id, "attorney"),
        (2, 0, 1),
        "the new account's licenses are all there"
    );
}
