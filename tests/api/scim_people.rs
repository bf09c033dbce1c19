//! Issue 11: every person of the account is a SCIM User, whether it joined
//! through SCIM or not (the bootstrap manager, REST invitations and the
//! users they became), with one SCIM id from invitation to user. Each
//! scenario on SQLite and PostgreSQL.

use std::collections::BTreeSet;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::db_tests;
use crate::helpers::{AccountSpec, Owner, TestApp, classic_attorney};
use crate::scim::{EXT, GROUP, assert_scim_error, patch, scim, scim_person, scim_token};

db_tests!(
    rest_invited_person_keeps_its_scim_id_and_is_deactivated_and_reactivated,
    bootstrap_manager_is_listed_and_existing_people_are_not_created_again,
    accepted_rest_user_becomes_a_group_member_through_scim,
    paging_over_scim_and_non_scim_people_is_consistent,
    concurrent_first_lookups_of_a_person_agree_on_its_id,
);

fn by_user_name(email: &str) -> String {
    format!(
        "/Users?filter=userName%20eq%20%22{}%22",
        email.replace('@', "%40")
    )
}

/// The one User a `userName eq` lookup finds.
async fn look_up(app: &TestApp, token: &str, email: &str) -> Value {
    let found = scim(app, "GET", &by_user_name(email), token, None).await;
    let found = found.ok(200);
    assert_eq!(found["totalResults"], 1, "{email}: {found}");
    found["Resources"][0].clone()
}

/// `(reserved, assigned)` attorney licenses, from the REST summary.
async fn attorney_seats(app: &TestApp, owner: &Owner) -> (i64, i64) {
    let licenses = app.licenses(owner).await;
    let attorney = &licenses["attorney"];
    (
        attorney["reserved"].as_i64().unwrap(),
        attorney["assigned"].as_i64().unwrap(),
    )
}

async fn rest_invited_person_keeps_its_scim_id_and_is_deactivated_and_reactivated(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let token = scim_token(&app, &owner).await;

    // Invited through REST, looked up by the directory (any case): found,
    // active, pending; the same id every time, by filter and by id.
    app.invite(&owner, classic_attorney("Rest.Person@Example.com"))
        .await;
    let first = look_up(&app, &token, "rest.person@example.COM").await;
    let id = first["id"].as_str().unwrap().to_owned();
    assert_eq!(first["userName"], "Rest.Person@Example.com");
    assert_eq!(first["active"], true);
    assert_eq!(first[EXT]["invitationStatus"], "pending");
    assert_eq!(
        look_up(&app, &token, "rest.person@example.com").await["id"],
        id
    );
    let emails = scim(
        &app,
        "GET",
        "/Users?filter=emails.value%20eq%20%22REST.person%40example.com%22",
        &token,
        None,
    )
    .await;
    assert_eq!(emails.ok(200)["Resources"][0]["id"], id);
    scim(&app, "GET", &format!("/Users/{id}"), &token, None)
        .await
        .ok(200);

    // Deactivated through SCIM: the invitation is revoked and its license
    // freed; still a User, inactive. (Its email sent first: revoking cancels
    // an email still queued, and the end of this test counts two.)
    app.email_to("Rest.Person@Example.com").await;
    let (reserved, assigned) = attorney_seats(&app, &owner).await;
    let off = patch(
        &app,
        &token,
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await;
    assert_eq!(off.ok(200)["active"], false, "{}", off.text);
    assert_eq!(attorney_seats(&app, &owner).await, (reserved - 1, assigned));
    let seen = look_up(&app, &token, "rest.person@example.com").await;
    assert_eq!((&seen["id"], &seen["active"]), (&json!(id), &json!(false)));
    assert_eq!(seen[EXT]["invitationStatus"], "revoked");

    // Reactivated: invited anew (a new email), the same id, the license reserved.
    let on = patch(
        &app,
        &token,
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "active", "value": true}]),
    )
    .await;
    assert_eq!(on.ok(200)["active"], true, "{}", on.text);
    assert_eq!(on.body["id"], id);
    assert_eq!(attorney_seats(&app, &owner).await, (reserved, assigned));

    // Accepted: the same id is the user.
    let mails = app.emails_to("Rest.Person@Example.com", 2).await;
    app.accept(&mails[1].token).await.ok(201);
    let user = look_up(&app, &token, "rest.person@example.com").await;
    assert_eq!(user["id"], id);
    assert_eq!(user["active"], true);
    assert_eq!(user[EXT]["invitationStatus"], "accepted");
    assert_eq!(user["name"]["familyName"], "Jones");
    assert_eq!(
        attorney_seats(&app, &owner).await,
        (reserved - 1, assigned + 1)
    );

    // DELETE disables the user and frees its license; PATCH enables it.
    let deleted = scim(&app, "DELETE", &format!("/Users/{id}"), &token, None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert_eq!(attorney_seats(&app, &owner).await, (reserved - 1, assigned));
    let seen = scim(&app, "GET", &format!("/Users/{id}"), &token, None).await;
    assert_eq!(seen.ok(200)["active"], false);
    let on = patch(
        &app,
        &token,
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "active", "value": "True"}]),
    )
    .await;
    assert_eq!(on.ok(200)["active"], true, "{}", on.text);
    assert_eq!(
        attorney_seats(&app, &owner).await,
        (reserved - 1, assigned + 1)
    );

    // Invited and accepted through REST, seen by SCIM only while pending:
    // the id it got then is the user's.
    let (_, invite_token) = app
        .invite_and_read_token(&owner, classic_attorney("later@example.com"))
        .await;
    let pending = look_up(&app, &token, "later@example.com").await;
    app.accept(&invite_token).await.ok(201);
    let accepted = look_up(&app, &token, "later@example.com").await;
    assert_eq!(accepted["id"], pending["id"]);
    assert_eq!(accepted[EXT]["invitationStatus"], "accepted");
    // PUT works on them as on SCIM-created Users.
    let put = scim(
        &app,
        "PUT",
        &format!("/Users/{}", pending["id"].as_str().unwrap()),
        &token,
        Some(json!({"userName": "later@example.com", "externalId": "okta-later", "active": true})),
    )
    .await;
    assert_eq!(put.ok(200)["externalId"], "okta-later", "{}", put.text);
    let by_external = scim(
        &app,
        "GET",
        "/Users?filter=externalId%20eq%20%22okta-later%22",
        &token,
        None,
    )
    .await;
    let by_external = by_external.ok(200);
    assert_eq!(by_external["totalResults"], 1);
    assert_eq!(by_external["Resources"][0]["id"], pending["id"]);
}

async fn bootstrap_manager_is_listed_and_existing_people_are_not_created_again(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let token = scim_token(&app, &owner).await;
    let me = app
        .get(
            &format!("/accounts/{}/users/{}", owner.account_id, owner.user_id),
            &owner.token,
        )
        .await;
    let email = me.ok(200)["email"].as_str().unwrap().to_owned();

    let listed = scim(&app, "GET", "/Users", &token, None).await;
    let listed = listed.ok(200);
    assert_eq!(listed["totalResults"], 1, "{listed}");
    let manager = &listed["Resources"][0];
    assert_eq!(manager["userName"], email);
    assert_eq!(manager["active"], true);
    assert_eq!(look_up(&app, &token, &email).await["id"], manager["id"]);

    // A user, a pending REST invitation, a person SCIM deactivated: each
    // already is a User, so creating it is a conflict, and nothing changes.
    app.invite(&owner, classic_attorney("pending@example.com"))
        .await;
    let gone = scim_person(&app, &token, "gone@example.com", "attorney", false).await;
    let deleted = scim(&app, "DELETE", &format!("/Users/{gone}"), &token, None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    let before = app.licenses(&owner).await;
    for user_name in [email.as_str(), "PENDING@example.com", "gone@example.com"] {
        let again = scim(
            &app,
            "POST",
            "/Users",
            &token,
            Some(json!({"userName": user_name, EXT: {"subscriberType": "attorney"}})),
        )
        .await;
        assert_scim_error(&again, 409, Some("uniqueness"));
    }
    assert_eq!(app.licenses(&owner).await, before);
    let listed = scim(&app, "GET", "/Users", &token, None).await;
    assert_eq!(listed.ok(200)["totalResults"], 3, "{}", listed.text);
}

async fn accepted_rest_user_becomes_a_group_member_through_scim(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let token = scim_token(&app, &owner).await;
    app.join(&owner, classic_attorney("member@example.com"))
        .await;
    let member = look_up(&app, &token, "member@example.com").await;
    let member_id = member["id"].as_str().unwrap().to_owned();

    let group = scim(
        &app,
        "POST",
        "/Groups",
        &token,
        Some(json!({"schemas": [GROUP], "displayName": "Litigation"})),
    )
    .await;
    let group_id = group.ok(201)["id"].as_str().unwrap().to_owned();
    let added = patch(
        &app,
        &token,
        &format!("/Groups/{group_id}"),
        json!([{"op": "add", "path": "members", "value": [{"value": member_id}]}]),
    )
    .await;
    assert!(added.status < 300, "{}", added.text);
    let shown = scim(&app, "GET", &format!("/Groups/{group_id}"), &token, None).await;
    let members = shown.ok(200)["members"].clone();
    assert_eq!(
        members,
        json!([{
            "value": member_id,
            "display": "member@example.com",
            "type": "User",
            "$ref": format!("/scim/v2/Users/{member_id}"),
        }])
    );
    // The REST API sees the membership.
    let user = app
        .get(
            &format!("/accounts/{}/users?status=active", owner.account_id),
            &owner.token,
        )
        .await;
    assert!(
        user.text.contains(&format!("\"group_ids\":[{group_id}]")),
        "{}",
        user.text
    );

    // A replace of members with none removes them (they are visible now).
    let replaced = patch(
        &app,
        &token,
        &format!("/Groups/{group_id}"),
        json!([{"op": "replace", "path": "members", "value": []}]),
    )
    .await;
    assert!(replaced.status < 300, "{}", replaced.text);
    let shown = scim(&app, "GET", &format!("/Groups/{group_id}"), &token, None).await;
    assert_eq!(shown.ok(200)["members"], json!([]));
}

async fn paging_over_scim_and_non_scim_people_is_consistent(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let token = scim_token(&app, &owner).await;
    let user = |email: &str| json!({"email": email, "role": "standard"});
    // Not through SCIM: a user, two pending invitations, one revoked (never
    // seen by SCIM: not a person).
    app.join(&owner, user("joined@example.com")).await;
    app.invite(&owner, user("pending1@example.com")).await;
    app.invite(&owner, user("pending2@example.com")).await;
    let revoked = app.invite(&owner, user("revoked@example.com")).await;
    let gone = app.revoke(&owner, &revoked).await;
    assert!(gone.status < 300, "{}", gone.text);
    // Through SCIM: two pending, one accepted, one deactivated.
    let create = |email: &'static str| {
        let (app, token) = (&app, &token);
        async move {
            let created = scim(
                app,
                "POST",
                "/Users",
                token,
                Some(json!({"userName": email, EXT: {"role": "standard"}})),
            )
            .await;
            created.ok(201)["id"].as_str().unwrap().to_owned()
        }
    };
    create("scim1@example.com").await;
    create("scim2@example.com").await;
    create("scim3@example.com").await;
    app.accept(&app.email_to("scim3@example.com").await.token)
        .await
        .ok(201);
    let off = create("scim4@example.com").await;
    let deleted = scim(&app, "DELETE", &format!("/Users/{off}"), &token, None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);

    let expected: BTreeSet<String> = [
        "joined", "pending1", "pending2", "scim1", "scim2", "scim3", "scim4",
    ]
    .iter()
    .map(|n| format!("{n}@example.com"))
    .collect();
    // Pages of 2 (the first sighting of each person on its page), then all at once.
    let mut paged: Vec<(String, String)> = Vec::new();
    let mut start = 1;
    loop {
        let page = scim(
            &app,
            "GET",
            &format!("/Users?startIndex={start}&count=2"),
            &token,
            None,
        )
        .await;
        let page = page.ok(200).clone();
        assert_eq!(page["totalResults"], expected.len() + 1, "{page}");
        assert_eq!(page["startIndex"], start);
        let resources = page["Resources"].as_array().unwrap();
        assert_eq!(page["itemsPerPage"], resources.len());
        if resources.is_empty() {
            break;
        }
        assert!(resources.len() <= 2);
        for r in resources {
            paged.push((
                r["id"].as_str().unwrap().to_owned(),
                r["userName"].as_str().unwrap().to_lowercase(),
            ));
        }
        start += resources.len();
    }
    let ids: BTreeSet<&String> = paged.iter().map(|(id, _)| id).collect();
    assert_eq!(ids.len(), paged.len(), "a person twice: {paged:?}");
    let names: BTreeSet<String> = paged.iter().map(|(_, n)| n.clone()).collect();
    assert_eq!(names.len(), expected.len() + 1, "{paged:?}");
    assert!(names.is_superset(&expected), "{paged:?}");
    assert!(!names.contains("revoked@example.com"));

    let all = scim(&app, "GET", "/Users?count=100", &token, None).await;
    let all: Vec<(String, String)> = all.ok(200)["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["userName"].as_str().unwrap().to_lowercase(),
            )
        })
        .collect();
    assert_eq!(all, paged, "the same people in the same order");
    // The deactivated one is there, inactive; a filter evaluated in memory agrees.
    let inactive = scim(
        &app,
        "GET",
        "/Users?filter=active%20eq%20false",
        &token,
        None,
    )
    .await;
    let inactive = inactive.ok(200);
    assert_eq!(inactive["totalResults"], 1, "{inactive}");
    assert_eq!(inactive["Resources"][0]["id"], off);
    let co = scim(
        &app,
        "GET",
        "/Users?filter=userName%20co%20%22pending%22%20or%20userName%20sw%20%22joined%22",
        &token,
        None,
    )
    .await;
    let co: BTreeSet<String> = co.ok(200)["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    let wanted: BTreeSet<String> = all
        .iter()
        .filter(|(_, n)| n.starts_with("pending") || n.starts_with("joined"))
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(co, wanted);
}

async fn concurrent_first_lookups_of_a_person_agree_on_its_id(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let token = scim_token(&app, &owner).await;
    app.invite(
        &owner,
        json!({"email": "race@example.com", "role": "standard"}),
    )
    .await;
    app.join(
        &owner,
        json!({"email": "racer@example.com", "role": "standard"}),
    )
    .await;
    let path = by_user_name("race@example.com");
    let other = by_user_name("racer@example.com");
    let replies = join_all((0..12).map(|i| {
        let path = match i % 3 {
            0 => path.as_str(),
            1 => other.as_str(),
            _ => "/Users",
        };
        scim(&app, "GET", path, &token, None)
    }))
    .await;
    let mut ids: BTreeSet<(String, String)> = BTreeSet::new();
    for reply in &replies {
        for r in reply.ok(200)["Resources"].as_array().unwrap() {
            ids.insert((
                r["userName"].as_str().unwrap().to_owned(),
                r["id"].as_str().unwrap().to_owned(),
            ));
        }
    }
    // One id per person (the manager, race, racer), whoever saw them first.
    assert_eq!(ids.len(), 3, "{ids:?}");
    let listed = scim(&app, "GET", "/Users", &token, None).await;
    assert_eq!(listed.ok(200)["totalResults"], 3);
}
