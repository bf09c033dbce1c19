//! `docs/REFERENCE.md`, the endpoint reference for integrators, is generated
//! from the OpenAPI document: this test fails when they drift apart, and
//! `UPDATE_REFERENCE=1 cargo test --test api reference` rewrites it.

use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// The responses of an operation as `201, 401 unauthorized, …`: status and,
/// where the description names error codes in backticks, those codes.
fn answers(operation: &Value) -> String {
    let Some(responses) = operation["responses"].as_object() else {
        return String::new();
    };
    responses
        .iter()
        .map(|(status, response)| {
            let codes: Vec<&str> = text(&response["description"])
                .split('`')
                .skip(1)
                .step_by(2)
                .filter(|code| invitations::error::ALL_CODES.contains(code))
                .collect();
            if codes.is_empty() {
                status.clone()
            } else {
                format!("{status} ({})", codes.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn reference(document: &Value) -> String {
    let mut out = String::from(
        "# Endpoint reference\n\n\
         Generated from `openapi/openapi.json` by `tests/api/reference.rs` (a test keeps\n\
         the two equal). The rules behind each answer are in [API.md](API.md); the\n\
         document itself has every schema, and a running service serves it at\n\
         `/openapi.json` and as an interactive page at `/docs/`.\n",
    );
    let tags = document["tags"].as_array().cloned().unwrap_or_default();
    let paths = document["paths"].as_object().cloned().unwrap_or_default();
    for tag in &tags {
        let name = text(&tag["name"]);
        out.push_str(&format!("\n## {name}\n\n{}\n\n", text(&tag["description"])));
        out.push_str("| operation | summary | answers |\n|---|---|---|\n");
        for (path, item) in &paths {
            for method in METHODS {
                let operation = &item[method];
                let tagged = operation["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == name));
                if !tagged {
                    continue;
                }
                let auth = if operation["security"].is_array() {
                    " 🔑"
                } else {
                    ""
                };
                out.push_str(&format!(
                    "| `{} {path}`{auth} | {} (`{}`) | {} |\n",
                    method.to_uppercase(),
                    text(&operation["summary"]).replace('|', "\\|"),
                    text(&operation["operationId"]),
                    answers(operation),
                ));
            }
        }
    }
    out.push_str("\n🔑: needs `Authorization: Bearer <token>`.\n");
    out
}

#[test]
fn the_endpoint_reference_is_generated_from_the_openapi_document() {
    let root = env!("CARGO_MANIFEST_DIR");
    let document: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{root}/openapi/openapi.json")).unwrap(),
    )
    .unwrap();
    let expected = reference(&document);
    let path = format!("{root}/docs/REFERENCE.md");
    if std::env::var("UPDATE_REFERENCE").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &expected).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "docs/REFERENCE.md is stale: run `UPDATE_REFERENCE=1 cargo test --test api reference` and commit it"
    );
    // Every operation of the document has its row.
    let operations = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| METHODS.iter().filter(move |m| item[**m].is_object()))
        .count();
    assert_eq!(committed.matches("| `").count(), operations);
}
