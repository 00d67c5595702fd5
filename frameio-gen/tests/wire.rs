//! What the generated client puts on the wire, against a real local server.

use frameio_gen::Hooks;
use frameio_gen::v4::Client;
use frameio_gen::v4::types::{AssetInclude, AuditLogInclude};
use httpmock::prelude::*;
use serde_json::json;

/// The raw client as the crate documents it: reqwest's TLS needs a provider
/// installed before `Client::new`.
fn client(base_url: &str) -> Client {
    let _already_set = rustls::crypto::ring::default_provider().install_default();
    Client::new(base_url, Hooks::default())
}

fn page() -> serde_json::Value {
    json!({"data": [], "links": {"next": null}})
}

#[tokio::test]
async fn api_version_is_sent_only_where_documented() {
    let server = MockServer::start_async().await;
    let audit = server
        .mock_async(|when, then| {
            when.method(GET).path("/v4/accounts/a/audit_logs").header("api-version", "4.0");
            then.status(200).json_body(page());
        })
        .await;
    let accounts = server
        .mock_async(|when, then| {
            when.method(GET).path("/v4/accounts").header_missing("api-version");
            then.status(200).json_body(page());
        })
        .await;
    let client = client(&server.base_url());
    client.accounts_auditlog_index().account_id("a").send().await.unwrap();
    client.accounts_index().send().await.unwrap();
    audit.assert_async().await;
    accounts.assert_async().await;
}

#[tokio::test]
async fn filters_are_bracketed_and_include_is_comma_separated() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v4/accounts/a/audit_logs")
                .query_param("filters[ip_address]", "1.1.1.1")
                .query_param("include", "user")
                .query_param("page_size", "100");
            then.status(200).json_body(page());
        })
        .await;
    let client = client(&server.base_url());
    client
        .accounts_auditlog_index()
        .account_id("a")
        .filters_ip_address("1.1.1.1")
        .include(AuditLogInclude::User)
        .page_size(100)
        .send()
        .await
        .unwrap();
    mock.assert_async().await;

    let files = server
        .mock_async(|when, then| {
            when.method(GET).path("/v4/accounts/a/files/f").query_param("include", "creator,project");
            then.status(200).body("{}");
        })
        .await;
    let _ = client
        .files_show()
        .account_id("a")
        .file_id("f")
        .include([AssetInclude::Creator, AssetInclude::Project])
        .send()
        .await;
    files.assert_async().await;
}

#[tokio::test]
async fn a_delete_answered_204_with_no_body_succeeds() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(DELETE).path("/v4/accounts/a/files/f");
            then.status(204);
        })
        .await;
    let client = client(&server.base_url());
    let response = client.files_delete().account_id("a").file_id("f").send().await.unwrap();
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn every_error_status_decodes_the_envelope() {
    let server = MockServer::start_async().await;
    for (status, path) in [(404, "/v4/accounts/a/files/missing"), (503, "/v4/accounts/a/files/busy")] {
        server
            .mock_async(|when, then| {
                when.method(GET).path(path);
                then.status(status).json_body(json!({"errors": [{"detail": "nope", "source": {"pointer": "/x"}}]}));
            })
            .await;
    }
    let client = client(&server.base_url());
    for (status, id) in [(404, "missing"), (503, "busy")] {
        match client.files_show().account_id("a").file_id(id).send().await {
            Err(frameio_gen::Error::ErrorResponse(e)) => {
                assert_eq!(e.status(), status);
                assert_eq!(e.errors[0].detail, "nope");
            }
            other => panic!("{status}: expected the typed envelope, got {other:?}"),
        }
    }
}
