//! The committed OpenAPI document is what the code generates, and it hangs together.

use std::collections::BTreeSet;

use serde_json::Value;

#[test]
fn the_committed_document_matches_the_code() {
    let generated = invitations::http::openapi_json();
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("openapi/openapi.json is committed");
    assert!(
        generated == committed,
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json` and commit it"
    );
}

#[test]
fn the_binary_prints_the_committed_document() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_invitations"))
        .arg("openapi")
        .output()
        .expect("run invitations openapi");
    assert!(output.status.success());
    let committed =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).unwrap();
    assert!(
        output.stdout == committed,
        "`invitations openapi` differs from openapi/openapi.json"
    );
}

fn collect_refs(value: &Value, refs: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if let ("$ref", Some(r)) = (key.as_str(), inner.as_str()) {
                    refs.insert(r.to_owned());
                }
                collect_refs(inner, refs);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
        _ => {}
    }
}

#[test]
fn every_operation_is_named_answered_and_every_reference_resolves() {
    let doc: Value = serde_json::from_str(&invitations::http::openapi_json()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let mut operation_ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(
                operation_ids.insert(id.to_owned()),
                "duplicate operationId {id}"
            );
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{id} documents no success"
            );
            for (status, response) in responses {
                if !status.starts_with('2') {
                    // SCIM answers errors as SCIM error objects (RFC 7644 §3.12).
                    let media = if path.starts_with("/scim/v2/") {
                        "application/scim+json"
                    } else {
                        "application/problem+json"
                    };
                    assert!(
                        response["content"][media].is_object(),
                        "{id} {status} is not problem+json"
                    );
                }
            }
            // Invitee tokens, and providers' own signatures on delivery events.
            let public = path.starts_with("/invitations/")
                || path.starts_with("/mail-events/")
                || [
                    "/healthz",
                    "/readyz",
                    "/metrics",
                    "/permissions",
                    "/sessions",
                    "/openapi.json",
                    "/docs",
                    "/scim/v2/ServiceProviderConfig",
                    "/scim/v2/ResourceTypes",
                    "/scim/v2/Schemas",
                ]
                .contains(&path.as_str());
            assert_eq!(operation["security"].is_array(), !public, "{id}: security");
        }
    }
    for expected in [
        "get_account",
        "create_invitation",
        "quote_invitation",
        "list_invitations",
        "get_invitation",
        "revoke_invitation",
        "resend_invitation",
        "preview_invitation",
        "accept_invitation",
        "decline_invitation",
        "list_users",
        "get_user",
        "update_user",
        "disable_user",
        "enable_user",
        "list_groups",
        "create_group",
        "get_group",
        "update_group",
        "delete_group",
        "get_license_summary",
        "buy_licenses",
        "list_charges",
        "list_permissions",
        "create_session",
        "get_health",
        "get_readiness",
        "get_metrics",
        "list_audit_events",
        "bulk_create_invitations",
        "list_webhooks",
        "create_webhook",
        "delete_webhook",
    ] {
        assert!(
            operation_ids.contains(expected),
            "missing operation {expected}"
        );
    }
    let mut refs = BTreeSet::new();
    collect_refs(&doc, &mut refs);
    for reference in refs {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .expect("local schema ref");
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "unresolved {reference}"
        );
    }
}

#[test]
fn enums_list_exactly_the_contract_values() {
    let doc: Value = serde_json::from_str(&invitations::http::openapi_json()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let values = |name: &str| -> Vec<String> {
        schemas[name]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} is not an enum: {}", schemas[name]))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        values("InvitationStatus"),
        ["pending", "accepted", "declined", "revoked", "expired"]
    );
    assert_eq!(values("InvitableRole"), ["administrator", "standard"]);
    assert_eq!(
        values("Role"),
        ["primary_subscriber", "administrator", "standard"]
    );
    assert_eq!(values("SubscriberType"), ["attorney", "non_attorney"]);
    assert_eq!(values("Permission"), ["accounts", "billing", "reports"]);
    assert_eq!(values("LicenseType"), ["attorney", "non_attorney", "user"]);
    assert_eq!(
        values("Delivery"),
        [
            "queued",
            "sent",
            "delivered",
            "bounced",
            "complained",
            "failed"
        ]
    );
    assert_eq!(
        values("ChargeReason"),
        ["invitation", "license_purchase", "user_enabled"]
    );
}

#[test]
fn both_dialects_have_the_same_migrations() {
    let names = |dialect: &str| -> BTreeSet<String> {
        std::fs::read_dir(format!(
            "{}/migrations/{dialect}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
    };
    assert_eq!(names("postgres"), names("sqlite"));
}

/// A field the service always sends, even as `null`, is `required` (and
/// nullable), so generated clients type it `T | null`, not optional. The
/// only nullable fields left optional are the ones the service omits.
#[test]
fn nullable_response_fields_are_required_unless_omitted() {
    const OMITTED_WHEN_EMPTY: &[(&str, &str)] = &[
        ("Problem", "errors"),
        ("Problem", "license_type"),
        ("Problem", "buy_licenses_url"),
        ("BulkResult", "invitation"),
        ("BulkResult", "problem"),
        ("WebhookEndpoint", "secret"),
    ];
    let document: Value = serde_json::from_str(&invitations::http::openapi_json()).unwrap();
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let nullable = |property: &Value| {
        property["type"]
            .as_array()
            .is_some_and(|types| types.iter().any(|t| t == "null"))
            || property["oneOf"]
                .as_array()
                .is_some_and(|options| options.iter().any(|o| o["type"] == "null"))
    };
    let mut optional = Vec::new();
    for (name, schema) in schemas {
        let Some(properties) = schema["properties"].as_object() else {
            continue;
        };
        // Request bodies: an absent field means "not given".
        if name.ends_with("Request") {
            continue;
        }
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (field, property) in properties {
            if nullable(property)
                && !required.contains(&field.as_str())
                && !OMITTED_WHEN_EMPTY.contains(&(name.as_str(), field.as_str()))
            {
                optional.push(format!("{name}.{field}"));
            }
        }
    }
    assert!(
        optional.is_empty(),
        "nullable but not required: {optional:?}"
    );
}
