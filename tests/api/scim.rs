//! SCIM 2.0 provisioning: tokens, discovery, Users as Okta and Entra ID
//! drive them, and SCIM errors. Each scenario on SQLite and PostgreSQL.

use invitations::domain::billing::LicenseType;
use serde_json::{Value, json};

use crate::db_tests;
use crate::helpers::{AccountSpec, Owner, Reply, TestApp};

db_tests!(
    scim_tokens_are_shown_once_and_work_only_on_scim_for_their_account,
    discovery_advertises_what_is_supported,
    okta_sequence_invites_disables_and_enables,
    entra_sequence_with_capitalised_ops_and_string_booleans,
    scim_errors_are_scim_shaped,
    scim_groups_members_rename_and_delete,
    okta_group_push_and_entra_member_removal,
    put_group_replaces_its_name_and_members_in_one_transaction,
);

pub(crate) const EXT: &str = "urn:clio:params:scim:schemas:extension:invitations:2.0:User";
pub(crate) const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

pub(crate) async fn scim_token(app: &TestApp, owner: &Owner) -> String {
    let created = app
        .post(
            &format!("/accounts/{}/scim-tokens", owner.account_id),
            &owner.token,
            json!({}),
        )
        .await;
    created.ok(201)["token"].as_str().unwrap().to_owned()
}

pub(crate) async fn scim(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Reply {
    app.request(
        method,
        &format!("/scim/v2{path}"),
        Some(token),
        body.as_ref(),
    )
    .await
}

pub(crate) fn assert_scim_error(reply: &Reply, status: u16, scim_type: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(
        reply.header("content-type"),
        Some("application/scim+json"),
        "{}",
        reply.text
    );
    assert_eq!(
        reply.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(reply.body["status"], json!(status.to_string()));
    assert!(reply.body["detail"].is_string(), "{}", reply.text);
    match scim_type {
        Some(t) => assert_eq!(reply.body["scimType"], t, "{}", reply.text),
        None => assert!(reply.body.get("scimType").is_none(), "{}", reply.text),
    }
}

async fn scim_tokens_are_shown_once_and_work_only_on_scim_for_their_account(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let other = app.bootstrap(&AccountSpec::classic_annual());
    let tokens = format!("/accounts/{}/scim-tokens", owner.account_id);
    let created = app.post(&tokens, &owner.token, json!({})).await;
    let created = created.ok(201).clone();
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("scim_") && token.len() == 48, "{token}");
    let listed = app.get(&tokens, &owner.token).await;
    let items = listed.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], created["id"]);
    assert!(items[0].get("token").is_none(), "the token is shown once");
    assert!(!listed.text.contains(&token));

    // Works on SCIM; not on the REST API; an access token not on SCIM.
    scim(&app, "GET", "/Users", &token, None).await.ok(200);
    let rest = app
        .get(&format!("/accounts/{}", owner.account_id), &token)
        .await;
    rest.problem(401, "unauthorized");
    assert_scim_error(
        &scim(&app, "GET", "/Users", &owner.token, None).await,
        401,
        None,
    );
    // Another tenant's manager cannot see or revoke it.
    app.get(&tokens, &other.token)
        .await
        .problem(404, "not_found");

    // Only its account's Users are seen.
    let other_token = scim_token(&app, &other).await;
    let user = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(json!({"userName": "one@example.com", EXT: {"subscriberType": "attorney"}})),
    )
    .await;
    let id = user.ok(201)["id"].as_str().unwrap().to_owned();
    assert_scim_error(
        &scim(&app, "GET", &format!("/Users/{id}"), &other_token, None).await,
        404,
        None,
    );
    // (The other account's one person is its manager.)
    let seen = scim(&app, "GET", "/Users", &other_token, None).await;
    assert_eq!(seen.ok(200)["totalResults"], 1);
    assert!(!seen.text.contains("one@example.com"), "{}", seen.text);

    // Revoked: it stops working at once.
    let revoke = app
        .request(
            "DELETE",
            &format!("{tokens}/{}", created["id"]),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(revoke.status, 204, "{}", revoke.text);
    assert_scim_error(&scim(&app, "GET", "/Users", &token, None).await, 401, None);
    let again = app
        .request(
            "DELETE",
            &format!("{tokens}/{}", created["id"]),
            Some(&owner.token),
            None,
        )
        .await;
    again.problem(404, "not_found");
}

async fn discovery_advertises_what_is_supported(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let token = scim_token(&app, &owner).await;
    let config = scim(&app, "GET", "/ServiceProviderConfig", &token, None).await;
    assert_eq!(config.header("content-type"), Some("application/scim+json"));
    let config = config.ok(200);
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["filter"]["supported"], true);
    assert!(config["filter"]["maxResults"].as_u64().unwrap() > 0);
    for unsupported in ["bulk", "sort", "etag", "changePassword"] {
        assert_eq!(config[unsupported]["supported"], false, "{unsupported}");
    }
    assert_eq!(
        config["authenticationSchemes"][0]["type"],
        "oauthbearertoken"
    );
    let types = scim(&app, "GET", "/ResourceTypes", &token, None).await;
    let types = types.ok(200);
    assert_eq!(types["Resources"][0]["endpoint"], "/Users");
    assert_eq!(types["Resources"][0]["schemaExtensions"][0]["schema"], EXT);
    let schemas = scim(&app, "GET", "/Schemas", &token, None).await;
    let ids: Vec<&str> = schemas.ok(200)["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["urn:ietf:params:scim:schemas:core:2.0:User", EXT, GROUP]
    );
    assert_eq!(types["Resources"][1]["endpoint"], "/Groups");
}

async fn okta_sequence_invites_disables_and_enables(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let token = scim_token(&app, &owner).await;
    let email = "Okta.Person@Example.com";
    // 1. Look up by filter: nobody yet.
    let found = scim(
        &app,
        "GET",
        "/Users?filter=userName%20eq%20%22okta.person%40example.com%22&startIndex=1&count=100",
        &token,
        None,
    )
    .await;
    let found = found.ok(200);
    assert_eq!(found["totalResults"], 0);
    assert_eq!(
        found["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    // 2. Create: an invitation by the billing rules (an open attorney license).
    let created = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
            "userName": email,
            "name": {"givenName": "Okta", "familyName": "Person"},
            "emails": [{"primary": true, "value": email, "type": "work"}],
            "active": true,
            "externalId": "00u1",
            EXT: {"role": "administrator", "subscriberType": "attorney"},
        })),
    )
    .await;
    assert_eq!(
        created.header("content-type"),
        Some("application/scim+json")
    );
    let user = created.ok(201).clone();
    let id = user["id"].as_str().unwrap().to_owned();
    assert_eq!(user["active"], true);
    assert_eq!(user["userName"], email);
    assert_eq!(user["externalId"], "00u1");
    assert_eq!(user["name"]["givenName"], "Okta");
    assert_eq!(user[EXT]["invitationStatus"], "pending");
    assert_eq!(user[EXT]["role"], "administrator");
    assert_eq!(user["meta"]["resourceType"], "User");
    assert_eq!(
        app.licenses_counted_in_db(owner.account_id, "attorney"),
        (1, 1, 1)
    );
    let invitations = app
        .get(
            &format!("/accounts/{}/invitations", owner.account_id),
            &owner.token,
        )
        .await;
    assert_eq!(invitations.ok(200)["items"][0]["email"], email);
    // The same person again: 409 uniqueness.
    let twice = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(json!({"userName": email.to_lowercase(), EXT: {"subscriberType": "attorney"}})),
    )
    .await;
    assert_scim_error(&twice, 409, Some("uniqueness"));
    // 3. Get, and find by filter (case-insensitive).
    scim(&app, "GET", &format!("/Users/{id}"), &token, None)
        .await
        .ok(200);
    let found = scim(
        &app,
        "GET",
        "/Users?filter=userName+eq+%22OKTA.PERSON%40EXAMPLE.COM%22",
        &token,
        None,
    )
    .await;
    assert_eq!(found.ok(200)["Resources"][0]["id"], id);

    // The invitee accepts: the same SCIM id is now the user.
    let mail = app.email_to(&email.to_lowercase()).await;
    app.accept(&mail.token).await.ok(201);
    let accepted = scim(&app, "GET", &format!("/Users/{id}"), &token, None).await;
    let accepted = accepted.ok(200);
    assert_eq!(accepted[EXT]["invitationStatus"], "accepted");
    assert_eq!(accepted["active"], true);

    // 4. Okta deactivates: the user is disabled and the license opens.
    let off = scim(
        &app,
        "PATCH",
        &format!("/Users/{id}"),
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": false}}],
        })),
    )
    .await;
    assert_eq!(off.ok(200)["active"], false);
    assert_eq!(
        app.licenses_counted_in_db(owner.account_id, "attorney"),
        (2, 0, 1)
    );
    let inactive = scim(
        &app,
        "GET",
        "/Users?filter=active%20eq%20false",
        &token,
        None,
    )
    .await;
    assert_eq!(inactive.ok(200)["totalResults"], 1);
    // 5. And reactivates: enabled by the license rules.
    let on = scim(
        &app,
        "PATCH",
        &format!("/Users/{id}"),
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": true}}],
        })),
    )
    .await;
    assert_eq!(on.ok(200)["active"], true);
    assert_eq!(
        app.licenses_counted_in_db(owner.account_id, "attorney"),
        (1, 0, 2)
    );

    // The audit trail names the SCIM token.
    let events = app
        .get(
            &format!("/accounts/{}/audit-events", owner.account_id),
            &owner.token,
        )
        .await;
    let events = events.ok(200)["items"].as_array().unwrap().clone();
    let by_scim: Vec<&str> = events
        .iter()
        .filter(|e| e["actor"]["type"] == "scim_token")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        by_scim,
        ["user.enabled", "user.disabled", "invitation.created"],
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .all(|e| e["actor"]["type"] != "scim_token" || e["actor"]["scim_token_id"].is_i64())
    );
}

async fn entra_sequence_with_capitalised_ops_and_string_booleans(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::new_monthly());
    let token = scim_token(&app, &owner).await;
    let found = scim(
        &app,
        "GET",
        "/Users?filter=userName+eq+%22entra%40example.com%22",
        &token,
        None,
    )
    .await;
    assert_eq!(found.ok(200)["totalResults"], 0);
    let created = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "externalId": "entra-1",
            "userName": "entra@example.com",
            "active": true,
            "displayName": "Entra Person",
            "emails": [{"primary": true, "type": "work", "value": "entra@example.com"}],
            "name": {"formatted": "Entra Person", "familyName": "Person", "givenName": "Entra"},
            "urn:clio:params:scim:schemas:extension:invitations:2.0:User:role": "standard",
        })),
    )
    .await;
    let id = created.ok(201)["id"].as_str().unwrap().to_owned();
    // A new monthly account bought the license: a charge.
    assert_eq!(app.charges(&owner).await.len(), 1);
    let by_external = scim(
        &app,
        "GET",
        "/Users?filter=externalId+eq+%22entra-1%22+and+active+eq+true",
        &token,
        None,
    )
    .await;
    assert_eq!(by_external.ok(200)["Resources"][0]["id"], id);
    // Entra deactivates a pending invitee: the invitation is revoked.
    let off = scim(
        &app,
        "PATCH",
        &format!("/Users/{id}"),
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
        })),
    )
    .await;
    let off = off.ok(200);
    assert_eq!(off["active"], false);
    assert_eq!(off[EXT]["invitationStatus"], "revoked");
    // And activates again: a new invitation, the same SCIM id, the freed license.
    let on = scim(
        &app,
        "PATCH",
        &format!("/Users/{id}"),
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": "active", "value": "True"}],
        })),
    )
    .await;
    let on = on.ok(200);
    assert_eq!(on["id"], id);
    assert_eq!(on["active"], true);
    assert_eq!(on[EXT]["invitationStatus"], "pending");
    assert_eq!(
        app.charges(&owner).await.len(),
        1,
        "the open license was reused"
    );
    // PUT with active false, then DELETE (= deactivate) is safe to repeat.
    let put = scim(
        &app,
        "PUT",
        &format!("/Users/{id}"),
        &token,
        Some(json!({"userName": "entra@example.com", "active": false,
                    "name": {"givenName": "Entra", "familyName": "Renamed"}})),
    )
    .await;
    let put = put.ok(200);
    assert_eq!(put["active"], false);
    assert_eq!(put["name"]["familyName"], "Renamed");
    let deleted = scim(&app, "DELETE", &format!("/Users/{id}"), &token, None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
}

async fn scim_errors_are_scim_shaped(app: TestApp) {
    let mut spec = AccountSpec::classic_annual();
    spec.licenses = &[];
    let owner = app.bootstrap(&spec);
    let token = scim_token(&app, &owner).await;
    // No open license on a classic annual account.
    let refused = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(json!({"userName": "nolicense@example.com", EXT: {"subscriberType": "attorney"}})),
    )
    .await;
    assert_scim_error(&refused, 409, None);
    assert!(
        refused.body["detail"].as_str().unwrap().contains("license"),
        "{}",
        refused.text
    );
    // Bad filters.
    for filter in [
        "userName%20ne%20%22x%22",
        "title%20eq%20%22x%22",
        "userName%20eq",
    ] {
        let reply = scim(
            &app,
            "GET",
            &format!("/Users?filter={filter}"),
            &token,
            None,
        )
        .await;
        assert_scim_error(&reply, 400, Some("invalidFilter"));
    }
    // Bad values.
    let bad = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(json!({"userName": "not an email", EXT: {"subscriberType": "attorney"}})),
    )
    .await;
    assert_scim_error(&bad, 400, Some("invalidValue"));
    let bad_role = scim(
        &app,
        "POST",
        "/Users",
        &token,
        Some(json!({"userName": "r@example.com", EXT: {"role": "owner", "subscriberType": "attorney"}})),
    )
    .await;
    assert_scim_error(&bad_role, 400, Some("invalidValue"));
    let not_json = app
        .post_raw(
            "/scim/v2/Users",
            Some(&token),
            Some("application/scim+json"),
            "{not json",
        )
        .await;
    assert_scim_error(&not_json, 400, Some("invalidSyntax"));
    // Unknown ids.
    for id in ["999999", "abc"] {
        let reply = scim(&app, "GET", &format!("/Users/{id}"), &token, None).await;
        assert_scim_error(&reply, 404, None);
    }
    // No token at all.
    let anonymous = app.request("GET", "/scim/v2/Users", None, None).await;
    assert_scim_error(&anonymous, 401, None);
}

/// A SCIM User invited and (if `accept`) accepted: its SCIM id.
pub(crate) async fn scim_person(
    app: &TestApp,
    token: &str,
    email: &str,
    kind: &str,
    accept: bool,
) -> String {
    let created = scim(
        app,
        "POST",
        "/Users",
        token,
        Some(json!({"userName": email, EXT: {"subscriberType": kind}})),
    )
    .await;
    let id = created.ok(201)["id"].as_str().unwrap().to_owned();
    if accept {
        let mail = app.email_to(email).await;
        app.accept(&mail.token).await.ok(201);
    }
    id
}

pub(crate) fn member_values(group: &Value) -> Vec<String> {
    group["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_owned())
        .collect()
}

pub(crate) async fn patch(app: &TestApp, token: &str, path: &str, operations: Value) -> Reply {
    scim(
        app,
        "PATCH",
        path,
        token,
        Some(json!({"schemas": [PATCH_OP], "Operations": operations})),
    )
    .await
}

async fn scim_groups_members_rename_and_delete(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let token = scim_token(&app, &owner).await;
    let ann = scim_person(&app, &token, "ann@example.com", "attorney", true).await;
    let bob = scim_person(&app, &token, "bob@example.com", "attorney", true).await;
    let pending = scim_person(&app, &token, "pat@example.com", "non_attorney", false).await;

    // Discovery advertises Groups.
    let types = scim(&app, "GET", "/ResourceTypes", &token, None).await;
    assert!(
        types.ok(200)["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["endpoint"] == "/Groups" && t["schema"] == GROUP)
    );
    let schemas = scim(&app, "GET", "/Schemas", &token, None).await;
    assert!(
        schemas.ok(200)["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == GROUP)
    );

    // Create: a firm group.
    let created = scim(
        &app,
        "POST",
        "/Groups",
        &token,
        Some(json!({"schemas": [GROUP], "displayName": "Litigation"})),
    )
    .await;
    assert_eq!(
        created.header("content-type"),
        Some("application/scim+json")
    );
    let group = created.ok(201).clone();
    let id = group["id"].as_str().unwrap().to_owned();
    assert_eq!(group["displayName"], "Litigation");
    assert_eq!(group["members"], json!([]));
    assert_eq!(group["meta"]["resourceType"], "Group");
    assert_eq!(
        created.header("location"),
        Some(&*format!("/scim/v2/Groups/{id}"))
    );
    let rest = app
        .get(
            &format!("/accounts/{}/groups/{id}", owner.account_id),
            &owner.token,
        )
        .await;
    assert_eq!(rest.ok(200)["name"], "Litigation");
    // The name taken (case-insensitively): 409 uniqueness.
    let twice = scim(
        &app,
        "POST",
        "/Groups",
        &token,
        Some(json!({"displayName": "LITIGATION"})),
    )
    .await;
    assert_scim_error(&twice, 409, Some("uniqueness"));
    assert_scim_error(
        &scim(
            &app,
            "POST",
            "/Groups",
            &token,
            Some(json!({"members": []})),
        )
        .await,
        400,
        Some("invalidValue"),
    );

    // Add a member: an accepted user; the REST API sees the membership.
    let path = format!("/Groups/{id}");
    let added = patch(
        &app,
        &token,
        &path,
        json!([{"op": "add", "path": "members", "value": [{"value": ann}]}]),
    )
    .await;
    assert_eq!(member_values(added.ok(200)), [ann.as_str()]);
    let users = app
        .get(
            &format!("/accounts/{}/users", owner.account_id),
            &owner.token,
        )
        .await;
    let users = users.ok(200)["items"].as_array().unwrap().clone();
    let ann_user = users
        .iter()
        .find(|u| u["email"] == "ann@example.com")
        .unwrap();
    assert_eq!(ann_user["group_ids"], json!([id.parse::<i64>().unwrap()]));
    // A pending invitation cannot be a member; an unknown id neither.
    for bad in [pending.as_str(), "999999"] {
        let refused = patch(
            &app,
            &token,
            &path,
            json!([{"op": "add", "path": "members", "value": [{"value": bad}]}]),
        )
        .await;
        assert_scim_error(&refused, 400, Some("invalidValue"));
    }
    // Adding twice changes nothing.
    let again = patch(
        &app,
        &token,
        &path,
        json!([{"op": "add", "path": "members", "value": [{"value": ann}, {"value": bob}]}]),
    )
    .await;
    assert_eq!(member_values(again.ok(200)), [ann.clone(), bob.clone()]);

    // List members: by displayName (case-insensitive), paged, members left out on request.
    let listed = scim(
        &app,
        "GET",
        "/Groups?filter=displayName%20eq%20%22litigation%22&startIndex=1&count=10",
        &token,
        None,
    )
    .await;
    let listed = listed.ok(200).clone();
    assert_eq!(listed["totalResults"], 1);
    assert_eq!(listed["Resources"][0]["id"], id);
    assert_eq!(
        member_values(&listed["Resources"][0]),
        [ann.clone(), bob.clone()]
    );
    let bare = scim(
        &app,
        "GET",
        "/Groups?excludedAttributes=members",
        &token,
        None,
    )
    .await;
    assert!(bare.ok(200)["Resources"][0].get("members").is_none());
    let none = scim(
        &app,
        "GET",
        "/Groups?filter=displayName+eq+%22Other%22",
        &token,
        None,
    )
    .await;
    assert_eq!(none.ok(200)["totalResults"], 0);
    assert_scim_error(
        &scim(&app, "GET", "/Groups?filter=displayName+xx+1", &token, None).await,
        400,
        Some("invalidFilter"),
    );

    // Remove.
    let removed = patch(
        &app,
        &token,
        &path,
        json!([{"op": "remove", "path": "members", "value": [{"value": ann}]}]),
    )
    .await;
    assert_eq!(member_values(removed.ok(200)), [bob.as_str()]);

    // Rename; a name another group has: 409 uniqueness.
    let renamed = patch(
        &app,
        &token,
        &path,
        json!([{"op": "replace", "path": "displayName", "value": "Trial"}]),
    )
    .await;
    assert_eq!(renamed.ok(200)["displayName"], "Trial");
    scim(
        &app,
        "POST",
        "/Groups",
        &token,
        Some(json!({"displayName": "Other"})),
    )
    .await
    .ok(201);
    let clash = patch(
        &app,
        &token,
        &path,
        json!([{"op": "replace", "path": "displayName", "value": "other"}]),
    )
    .await;
    assert_scim_error(&clash, 409, Some("uniqueness"));
    // Replace members: exactly these.
    let replaced = patch(
        &app,
        &token,
        &path,
        json!([{"op": "replace", "path": "members", "value": [{"value": ann}]}]),
    )
    .await;
    assert_eq!(member_values(replaced.ok(200)), [ann.as_str()]);
    let got = scim(&app, "GET", &path, &token, None).await;
    assert_eq!(got.ok(200)["displayName"], "Trial");

    // Delete: the group goes, the people stay.
    let deleted = scim(&app, "DELETE", &path, &token, None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert_scim_error(&scim(&app, "GET", &path, &token, None).await, 404, None);
    assert_scim_error(&scim(&app, "DELETE", &path, &token, None).await, 404, None);
    assert_scim_error(
        &scim(&app, "GET", "/Groups/nope", &token, None).await,
        404,
        None,
    );
    let ann_now = scim(&app, "GET", &format!("/Users/{ann}"), &token, None).await;
    assert_eq!(ann_now.ok(200)["active"], true);

    // The audit trail names the SCIM token.
    let events = app
        .get(
            &format!("/accounts/{}/audit-events", owner.account_id),
            &owner.token,
        )
        .await;
    let events = events.ok(200)["items"].as_array().unwrap().clone();
    let by_scim: Vec<&str> = events
        .iter()
        .filter(|e| e["actor"]["type"] == "scim_token")
        .map(|e| e["action"].as_str().unwrap())
        .filter(|a| a.starts_with("group.") || *a == "user.updated")
        .collect();
    for action in [
        "group.created",
        "user.updated",
        "group.updated",
        "group.deleted",
    ] {
        assert!(by_scim.contains(&action), "{action}: {by_scim:?}");
    }
}

async fn okta_group_push_and_entra_member_removal(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let token = scim_token(&app, &owner).await;
    let ann = scim_person(&app, &token, "ann@example.com", "attorney", true).await;
    let bob = scim_person(&app, &token, "bob@example.com", "attorney", true).await;

    // Okta's group push: look up, POST the group without members, PATCH add.
    let found = scim(
        &app,
        "GET",
        "/Groups?filter=displayName%20eq%20%22Okta%20Push%22&startIndex=1&count=100",
        &token,
        None,
    )
    .await;
    assert_eq!(found.ok(200)["totalResults"], 0);
    let created = scim(
        &app,
        "POST",
        "/Groups",
        &token,
        Some(json!({"schemas": [GROUP], "displayName": "Okta Push", "members": []})),
    )
    .await;
    let id = created.ok(201)["id"].as_str().unwrap().to_owned();
    let path = format!("/Groups/{id}");
    let pushed = patch(
        &app,
        &token,
        &path,
        json!([{"op": "add", "path": "members", "value": [
            {"value": ann, "display": "ann@example.com"},
            {"value": bob, "display": "bob@example.com"},
        ]}]),
    )
    .await;
    assert_eq!(member_values(pushed.ok(200)), [ann.clone(), bob.clone()]);
    // Okta renames with a path-less replace carrying id and displayName.
    let renamed = patch(
        &app,
        &token,
        &path,
        json!([{"op": "replace", "value": {"id": id, "displayName": "Okta Pushed"}}]),
    )
    .await;
    assert_eq!(renamed.ok(200)["displayName"], "Okta Pushed");

    // Entra ID: capitalised ops, remove by a filtered path.
    let entra = patch(
        &app,
        &token,
        &path,
        json!([{"op": "Remove", "path": format!("members[value eq \"{ann}\"]")}]),
    )
    .await;
    assert_eq!(member_values(entra.ok(200)), [bob.as_str()]);
    let entra = patch(
        &app,
        &token,
        &path,
        json!([{"op": "Add", "path": "members", "value": [{"value": ann}]}]),
    )
    .await;
    assert_eq!(member_values(entra.ok(200)), [ann.clone(), bob.clone()]);
    let unsupported = patch(
        &app,
        &token,
        &path,
        json!([{"op": "add", "path": "owners", "value": []}]),
    )
    .await;
    assert_scim_error(&unsupported, 400, Some("invalidPath"));
    // A failed operation changes nothing of the PATCH (one transaction).
    let half = patch(
        &app,
        &token,
        &path,
        json!([
            {"op": "remove", "path": "members", "value": [{"value": bob}]},
            {"op": "add", "path": "members", "value": [{"value": "424242"}]},
        ]),
    )
    .await;
    assert_scim_error(&half, 400, Some("invalidValue"));
    let got = scim(&app, "GET", &path, &token, None).await;
    assert_eq!(member_values(got.ok(200)), [ann, bob]);
}

async fn put_group_replaces_its_name_and_members_in_one_transaction(app: TestApp) {
    let mut spec = AccountSpec::classic_annual();
    spec.licenses = &[(LicenseType::Attorney, 3), (LicenseType::NonAttorney, 3)];
    let owner = app.bootstrap(&spec);
    let token = scim_token(&app, &owner).await;
    let ann = scim_person(&app, &token, "ann@example.com", "attorney", true).await;
    let bob = scim_person(&app, &token, "bob@example.com", "attorney", true).await;
    let cat = scim_person(&app, &token, "cat@example.com", "non_attorney", true).await;
    let pending = scim_person(&app, &token, "pat@example.com", "non_attorney", false).await;
    // Someone who joined without SCIM, put in the group through the REST API.
    let (rest_user, _) = app
        .join(
            &owner,
            json!({"email": "rest@example.com", "subscriber_type": "non_attorney"}),
        )
        .await;
    let created = scim(
        &app,
        "POST",
        "/Groups",
        &token,
        Some(json!({"schemas": [GROUP], "displayName": "Team", "members": [{"value": ann}, {"value": bob}]})),
    )
    .await;
    let id = created.ok(201)["id"].as_str().unwrap().to_owned();
    let group_id: i64 = id.parse().unwrap();
    let path = format!("/Groups/{id}");
    let rest_path = format!("/accounts/{}/users/{rest_user}", owner.account_id);
    app.request(
        "PATCH",
        &rest_path,
        Some(&owner.token),
        Some(&json!({"group_ids": [group_id]})),
    )
    .await
    .ok(200);
    let group_ids_of = |email: &'static str| {
        let app = &app;
        let owner = &owner;
        async move {
            let users = app
                .get(
                    &format!("/accounts/{}/users", owner.account_id),
                    &owner.token,
                )
                .await;
            users.ok(200)["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["email"] == email)
                .unwrap()["group_ids"]
                .clone()
        }
    };

    // Name and members become exactly the body's.
    let put = scim(
        &app,
        "PUT",
        &path,
        &token,
        Some(json!({"schemas": [GROUP], "id": id, "displayName": "Renamed", "members": [{"value": bob}, {"value": cat}]})),
    )
    .await;
    assert_eq!(put.header("content-type"), Some("application/scim+json"));
    let group = put.ok(200).clone();
    assert_eq!(group["id"], id);
    assert_eq!(group["displayName"], "Renamed");
    assert_eq!(member_values(&group), [bob.clone(), cat.clone()]);
    let got = scim(&app, "GET", &path, &token, None).await;
    assert_eq!(got.ok(200)["displayName"], "Renamed");
    assert_eq!(member_values(got.ok(200)), [bob.clone(), cat.clone()]);
    let rest = app
        .get(
            &format!("/accounts/{}/groups/{id}", owner.account_id),
            &owner.token,
        )
        .await;
    assert_eq!(rest.ok(200)["name"], "Renamed");
    assert_eq!(group_ids_of("ann@example.com").await, json!([]));
    assert_eq!(group_ids_of("cat@example.com").await, json!([group_id]));
    // Who joined without SCIM is a SCIM User too: not in the body, so out.
    assert_eq!(group_ids_of("rest@example.com").await, json!([]));

    // The changes are the REST use-cases', by the token.
    let events = app
        .get(
            &format!("/accounts/{}/audit-events", owner.account_id),
            &owner.token,
        )
        .await;
    let events = events.ok(200)["items"].as_array().unwrap().clone();
    let by_token = |action: &str| {
        events
            .iter()
            .filter(|e| e["action"] == action && e["actor"]["type"] == "scim_token")
            .count()
    };
    assert_eq!(by_token("group.updated"), 1, "the rename");
    // ann and bob added on create; ann and rest removed and cat added by the PUT.
    assert_eq!(by_token("user.updated"), 5);

    // Failures change nothing: the whole PUT is one transaction.
    let before = scim(&app, "GET", &path, &token, None).await.ok(200).clone();
    scim(
        &app,
        "POST",
        "/Groups",
        &token,
        Some(json!({"displayName": "Other"})),
    )
    .await
    .ok(201);
    let refusals = [
        // The name another group has (case-insensitively).
        (
            json!({"displayName": "OTHER", "members": []}),
            409,
            "uniqueness",
        ),
        // A pending invitation, or an unknown User, as a member.
        (
            json!({"displayName": "Next", "members": [{"value": ann}, {"value": pending}]}),
            400,
            "invalidValue",
        ),
        (
            json!({"displayName": "Next", "members": [{"value": "999999"}]}),
            400,
            "invalidValue",
        ),
        (
            json!({"displayName": "Next", "members": [{"nope": ann}]}),
            400,
            "invalidValue",
        ),
        (
            json!({"displayName": "Next", "members": "all"}),
            400,
            "invalidValue",
        ),
        // No displayName, or not a string.
        (json!({"members": [{"value": ann}]}), 400, "invalidValue"),
        (json!({"displayName": 7}), 400, "invalidValue"),
        (json!({"displayName": ""}), 400, "invalidValue"),
        // Not an object.
        (json!([{"displayName": "Next"}]), 400, "invalidSyntax"),
    ];
    for (body, status, scim_type) in refusals {
        let reply = scim(&app, "PUT", &path, &token, Some(body.clone())).await;
        assert_scim_error(&reply, status, Some(scim_type));
        let now = scim(&app, "GET", &path, &token, None).await;
        assert_eq!(now.ok(200), &before, "{body} changed the group");
    }
    let not_json = app
        .send_not_json(reqwest::Method::PUT, &format!("/scim/v2{path}"), &token)
        .await;
    assert_scim_error(&not_json, 400, Some("invalidSyntax"));
    // Unknown ids.
    for unknown in ["999999", "abc"] {
        let reply = scim(
            &app,
            "PUT",
            &format!("/Groups/{unknown}"),
            &token,
            Some(json!({"displayName": "Ghost"})),
        )
        .await;
        assert_scim_error(&reply, 404, None);
    }
    assert_eq!(group_ids_of("ann@example.com").await, json!([]));

    // Without members: no SCIM User stays in the group; the name may stay too.
    let emptied = scim(
        &app,
        "PUT",
        &path,
        &token,
        Some(json!({"displayName": "Renamed"})),
    )
    .await;
    let emptied = emptied.ok(200).clone();
    assert_eq!(emptied["displayName"], "Renamed");
    assert_eq!(emptied["members"], json!([]));
    assert_eq!(group_ids_of("bob@example.com").await, json!([]));
    assert_eq!(group_ids_of("cat@example.com").await, json!([]));
}
