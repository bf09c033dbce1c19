//! Health, the OpenAPI document, problem+json errors and X-Request-Id.

use super::*;

crate::db_tests!(
    health_and_readiness_answer_200,
    the_openapi_document_and_the_docs_page_are_served,
    every_error_is_problem_json_with_the_documented_fields,
    x_request_id_is_echoed_when_sent_and_generated_otherwise,
);

async fn health_and_readiness_answer_200(app: TestApp) {
    for path in ["/healthz", "/readyz"] {
        let reply = without_token(&app, "GET", path).await;
        reply.ok(200);
        assert!(
            reply
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "{path}: {:?}",
            reply.header("content-type")
        );
    }
}

async fn the_openapi_document_and_the_docs_page_are_served(app: TestApp) {
    let spec = without_token(&app, "GET", "/openapi.json").await;
    let document = spec.ok(200);
    assert!(
        spec.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        spec.header("content-type")
    );
    assert!(document["openapi"].is_string(), "{}", spec.text);
    let paths = document["paths"].as_object().expect("paths");
    for path in [
        "/accounts/{account_id}/invitations",
        "/invitations/{token}/accept",
        "/sessions",
    ] {
        assert!(paths.contains_key(path), "{path} not documented");
    }

    let docs = without_token(&app, "GET", "/docs/").await;
    assert_eq!(docs.status, 200, "{}", docs.text);
    assert!(
        docs.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{:?}",
        docs.header("content-type")
    );
    assert!(docs.text.to_ascii_lowercase().contains("<html"));
    // `/docs` itself answers with the same page (its assets resolve under /docs/).
    invitations::outbound::install_tls_provider();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let bare = client
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 200);
    let page = bare.text().await.unwrap();
    assert!(page.contains("<base href=\"/docs/\">"), "{page}");
    let asset = client
        .get(format!("{}/docs/swagger-ui-bundle.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        asset.status(),
        200,
        "the UI's JavaScript is served from the binary"
    );
}

async fn every_error_is_problem_json_with_the_documented_fields(app: TestApp) {
    let owner = app.bootstrap(&AccountSpec::classic_annual());
    let (_, standard) = member(&app, &owner, "staff@example.com", "standard").await;
    let invitations = format!("/accounts/{}/invitations", owner.account_id);
    let (invitation, token) = app
        .invite_and_read_token(
            &owner,
            json!({"email": "x@example.com", "subscriber_type": "non_attorney"}),
        )
        .await;
    let raw = |body: String, content_type: &'static str| {
        let request = app
            .client
            .post(format!("{}{invitations}", app.base))
            .bearer_auth(&owner.token)
            .header("content-type", content_type)
            .body(body);
        async move { TestApp::reply(request.send().await.expect("request")).await }
    };

    let mut cases: Vec<(Reply, u16, &str)> = vec![
        (
            raw("{".into(), "application/json").await,
            400,
            "malformed_json",
        ),
        (raw("{}".into(), "text/plain").await, 400, "malformed_json"),
        (
            without_token(&app, "GET", &invitations).await,
            401,
            "unauthorized",
        ),
        (
            sign_in(
                &app,
                json!({"email": "x@y.example", "password": "nope nope"}),
            )
            .await,
            401,
            "invalid_credentials",
        ),
        (app.get(&invitations, &standard).await, 403, "forbidden"),
        (
            without_token(&app, "GET", "/nowhere").await,
            404,
            "not_found",
        ),
        (
            app.get(&format!("{invitations}/987654"), &owner.token)
                .await,
            404,
            "not_found",
        ),
        (
            app.post(
                &invitations,
                &owner.token,
                json!({"email": "x@example.com", "subscriber_type": "non_attorney"}),
            )
            .await,
            409,
            "invitation_pending",
        ),
    ];
    app.request(
        "DELETE",
        &format!("{invitations}/{}", invitation["id"]),
        Some(&owner.token),
        None,
    )
    .await
    .ok(200);
    cases.push((app.accept(&token).await, 410, "invitation_revoked"));
    cases.push((
        raw(
            json!({"email": "big@example.com", "message": "x".repeat(1_100_000)}).to_string(),
            "application/json",
        )
        .await,
        413,
        "payload_too_large",
    ));
    cases.push((
        app.post(&invitations, &owner.token, json!({"email": "nope"}))
            .await,
        422,
        "validation_failed",
    ));

    for (reply, status, code) in &cases {
        let body = reply.problem(*status, code);
        for field in ["type", "title", "detail", "instance", "code"] {
            assert!(
                body[field].as_str().is_some_and(|s| !s.is_empty()),
                "{status} {code} without {field}: {}",
                reply.text
            );
        }
        assert_eq!(body["status"], *status);
        if *status == 422 {
            let errors = body["errors"].as_array().expect("errors on 422");
            assert!(!errors.is_empty());
            for error in errors {
                for key in ["field", "code", "message"] {
                    assert!(error[key].is_string(), "{error}");
                }
            }
        }
        let lower = reply.text.to_ascii_lowercase();
        for leak in ["panicked", "stack backtrace", "diesel", "/src/", "select "] {
            assert!(
                !lower.contains(leak),
                "{status} {code} leaks {leak}: {}",
                reply.text
            );
        }
    }
}

async fn x_request_id_is_echoed_when_sent_and_generated_otherwise(app: TestApp) {
    for path in ["/healthz", "/nowhere"] {
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .header("x-request-id", "test-request-42")
            .send()
            .await
            .expect("request");
        let reply = TestApp::reply(response).await;
        assert_eq!(
            reply.header("x-request-id"),
            Some("test-request-42"),
            "{path}"
        );
    }

    let mut generated = BTreeSet::new();
    for path in ["/healthz", "/healthz", "/nowhere"] {
        let reply = without_token(&app, "GET", path).await;
        let id = reply
            .header("x-request-id")
            .expect("a generated request id");
        assert!(!id.is_empty());
        generated.insert(id.to_owned());
    }
    assert_eq!(
        generated.len(),
        3,
        "each request gets its own id: {generated:?}"
    );
}
