//! The client core against a fake API: credentials and headers, the error
//! type (envelopes, synthesized envelopes, decode paths), rate-limit headers,
//! and token refresh after a 401.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use frameio_ext::auth::AuthError;
use frameio_ext::{AccessToken, Client, ClientBuilder, Credentials, Error, RateLimiting, RetryPolicy, TokenProvider};
use futures::future::BoxFuture;
use support::fake_api::{FILE_JSON, FakeApi, Reply, TOKEN};

fn builder(server: &FakeApi) -> ClientBuilder {
    Client::builder()
        .base_url(server.url())
        .credentials(Credentials::bearer(TOKEN))
        .retry_policy(RetryPolicy::none())
        .rate_limiting(RateLimiting::disabled())
}

async fn show_file(client: &Client) -> Result<frameio_gen::v4::types::FileWithIncludesResponse, Error> {
    client.files_show().account_id("acc-1").file_id("file-1").send().await
}

/// An error from a server that always answers `reply`.
async fn error_for(reply: Reply) -> Error {
    let server = FakeApi::scripted(vec![reply]).await;
    show_file(&builder(&server).build().unwrap()).await.unwrap_err()
}

#[tokio::test]
async fn sends_the_bearer_token_and_user_agent() {
    let server = FakeApi::scripted(vec![Reply::json(200, FILE_JSON)]).await;
    let file = show_file(&builder(&server).build().unwrap()).await.unwrap();
    assert_eq!(file.data.name, "sample.pdf");

    let [request] = &server.received()[..] else { panic!("one request") };
    assert_eq!(request.path, "/v4/accounts/acc-1/files/file-1");
    assert_eq!(request.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(request.header("user-agent"), Some(concat!("frameio-rs/", env!("CARGO_PKG_VERSION"))));
    assert_eq!(request.header("x-frameio-legacy-token-auth"), None);
    assert_eq!(request.header("api-version"), None, "files_show documents no api-version header");
}

#[tokio::test]
async fn a_legacy_developer_token_adds_its_header() {
    let server = FakeApi::scripted(vec![Reply::json(200, FILE_JSON)]).await;
    let client = builder(&server).credentials(Credentials::legacy_developer_token("legacy-tok")).build().unwrap();
    show_file(&client).await.unwrap();
    let request = &server.received()[0];
    assert_eq!(request.header("authorization"), Some("Bearer legacy-tok"));
    assert_eq!(request.header("x-frameio-legacy-token-auth"), Some("true"));
}

#[tokio::test]
async fn user_agent_and_http_client_can_be_replaced() {
    let server = FakeApi::scripted(vec![Reply::json(200, FILE_JSON)]).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-proxy-tag", "corp".parse().unwrap());
    let http = reqwest::Client::builder().default_headers(headers).build().unwrap();
    let client = builder(&server).user_agent("dailies/2.0").http_client(http).build().unwrap();
    show_file(&client).await.unwrap();
    let request = &server.received()[0];
    assert_eq!(request.header("user-agent"), Some("dailies/2.0"));
    assert_eq!(request.header("x-proxy-tag"), Some("corp"), "the caller's client sent the request");
}

#[tokio::test]
async fn the_token_never_shows_in_debug_or_errors() {
    let server = FakeApi::scripted(vec![Reply::text(502, &format!("<html>proxy saw Bearer {TOKEN}</html>"))]).await;
    let builder = builder(&server);
    assert!(!format!("{builder:?}").contains(TOKEN));
    let client = builder.build().unwrap();
    assert!(!format!("{client:?}").contains(TOKEN));
    assert!(!format!("{:?}", Credentials::bearer(TOKEN)).contains(TOKEN));
    assert!(!format!("{:?}", AccessToken::new(TOKEN)).contains(TOKEN));

    let echoed = show_file(&client).await.unwrap_err();
    let excerpt = echoed.api().unwrap().body_excerpt().unwrap();
    assert_eq!(excerpt, "<html>proxy saw Bearer [redacted]</html>", "an echoed token is blanked out");
    for text in [echoed.to_string(), format!("{echoed:?}")] {
        assert!(!text.contains(TOKEN), "{text}");
    }

    let unauthorized = error_for(Reply::json(401, r#"{"errors": [{"detail": "Invalid token"}]}"#)).await;
    let refused = show_file(&Client::builder().base_url(dead_url().await).bearer_token(TOKEN).build().unwrap())
        .await
        .unwrap_err();
    for error in [unauthorized, refused] {
        for text in [error.to_string(), format!("{error:?}")] {
            assert!(!text.contains(TOKEN), "{text}");
        }
    }
}

#[tokio::test]
async fn a_full_envelope_is_parsed_with_its_headers() {
    let error = error_for(
        Reply::json(
            422,
            r#"{"errors": [{"detail": "Unexpected field: foo", "source": {"pointer": "/data/foo"}, "title": "Invalid value"},
                           {"detail": "name can't be blank"}]}"#,
        )
        .header("x-request-id", "req-123")
        .header("x-ratelimit-limit", "10")
        .header("x-ratelimit-remaining", "7")
        .header("x-ratelimit-window", "60000"),
    )
    .await;
    assert_eq!(error.status(), Some(http::StatusCode::UNPROCESSABLE_ENTITY));
    let [first, second] = error.errors() else { panic!("two entries: {:?}", error.errors()) };
    assert_eq!(first.detail, "Unexpected field: foo");
    assert_eq!(first.title.as_deref(), Some("Invalid value"));
    assert_eq!(first.source.as_ref().and_then(|s| s.pointer.as_deref()), Some("/data/foo"));
    assert_eq!((second.title.as_deref(), second.source.as_ref()), (None, None));

    let api = error.api().unwrap();
    assert_eq!(api.request_id(), Some("req-123"));
    assert_eq!(api.attempts(), Some(1));
    assert!(!api.is_synthesized() && api.body_excerpt().is_none());
    let limits = error.rate_limit().unwrap();
    assert_eq!((limits.limit(), limits.remaining()), (Some(10), Some(7)));
    assert_eq!(limits.window(), Some(Duration::from_secs(60)));
    let text = error.to_string();
    assert!(
        text.contains("422 Unprocessable Entity to `files_show`: Invalid value: Unexpected field: foo (at /data/foo)"),
        "{text}"
    );
    assert!(text.contains("[request id req-123]"), "{text}");
    assert!(!error.is_retryable() && !error.is_not_found());
}

#[tokio::test]
async fn a_minimal_envelope_has_only_details() {
    let error = error_for(Reply::json(403, r#"{"errors": [{"detail": "Forbidden"}]}"#)).await;
    assert_eq!(error.status(), Some(http::StatusCode::FORBIDDEN));
    assert_eq!(error.errors().len(), 1);
    assert_eq!(error.errors()[0].detail, "Forbidden");
    assert!(
        error
            .to_string()
            .contains("answered 403 Forbidden to `files_show`: Forbidden; this user or token may not do this")
    );
    assert_eq!((error.retry_after(), error.rate_limit()), (None, None));
}

#[tokio::test]
async fn a_non_json_error_body_keeps_its_status_and_an_excerpt() {
    let page = format!("<html>\n<body>\n<h1>502 Bad Gateway</h1>{}</body></html>", "x".repeat(400));
    let error = error_for(Reply::text(502, &page).header("content-type", "text/html")).await;
    assert_eq!(error.status(), Some(http::StatusCode::BAD_GATEWAY));
    let api = error.api().unwrap();
    assert!(api.is_synthesized());
    let excerpt = api.body_excerpt().unwrap();
    assert!(excerpt.starts_with("<html> <body> <h1>502 Bad Gateway</h1>xxx"), "{excerpt}");
    assert!(excerpt.chars().count() <= 201 && excerpt.ends_with('…'), "{excerpt}");
    assert_eq!(error.errors()[0].detail, excerpt);
    assert!(error.is_retryable());
    assert!(error.to_string().contains("with a body that is not an error envelope"), "{error}");
}

#[tokio::test]
async fn a_truncated_envelope_is_synthesized_too() {
    let error = error_for(Reply::json(500, r#"{"errors": [{"detail": "boo"#)).await;
    assert_eq!(error.status(), Some(http::StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(error.api().unwrap().body_excerpt(), Some(r#"{"errors": [{"detail": "boo"#));
}

#[tokio::test]
async fn an_empty_error_body_keeps_its_status() {
    let error = error_for(Reply::empty(404)).await;
    assert!(error.is_not_found());
    let api = error.api().unwrap();
    assert!(api.is_synthesized());
    assert_eq!(api.body_excerpt(), Some(""));
    assert_eq!(error.errors()[0].detail, "empty body");
    assert_eq!(
        error.to_string(),
        "Frame.io answered 404 Not Found to `files_show` with an empty body; the resource does not exist, was \
         deleted, or this user cannot see it"
    );
}

#[tokio::test]
async fn plan_limits_and_rate_limits_are_recognisable() {
    let plan = error_for(Reply::json(402, r#"{"errors": [{"detail": "Usage exceeded"}]}"#)).await;
    assert!(plan.is_plan_limit() && !plan.is_rate_limited() && !plan.is_retryable());
    assert!(plan.to_string().contains("plan limits"), "{plan}");

    let limited = error_for(
        Reply::json(429, r#"{"errors": [{"detail": "Too many requests"}]}"#)
            .header("retry-after", "12")
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-window", "1000"),
    )
    .await;
    assert!(limited.is_rate_limited() && limited.is_retryable() && !limited.is_plan_limit());
    assert_eq!(limited.retry_after(), Some(Duration::from_secs(12)));
    assert!(limited.rate_limit().unwrap().is_exhausted());
    assert!(limited.to_string().contains("wait 12s before trying again"), "{limited}");
}

#[tokio::test]
async fn a_decode_error_names_the_json_path() {
    let body = FILE_JSON.replace(r#""file_size": 102432"#, r#""file_size": "large""#);
    let error = error_for(Reply::json(200, &body)).await;
    let Error::Decode(decode) = &error else { panic!("a decode error: {error:?}") };
    assert_eq!(decode.path().as_deref(), Some("data.file_size"));
    assert_eq!((decode.pointer().as_deref(), decode.field()), (Some("/data/file_size"), Some("file_size")));
    assert_eq!((decode.operation(), error.operation()), ("files_show", Some("files_show")));
    assert!(decode.excerpt().contains(r#""file_size": "large""#), "{}", decode.excerpt());
    let text = error.to_string();
    assert!(text.contains("`files_show` at `/data/file_size` (field `file_size`)"), "{text}");
    assert!(text.contains("please report it"), "{text}");

    let missing = error_for(Reply::json(200, &FILE_JSON.replace(r#""name": "sample.pdf","#, ""))).await;
    let Error::Decode(decode) = &missing else { panic!("a decode error: {missing:?}") };
    assert_eq!(decode.path().as_deref(), Some("data.name"));
}

#[tokio::test]
async fn a_missing_parameter_is_an_invalid_request_and_sends_nothing() {
    let server = FakeApi::scripted(vec![Reply::json(200, FILE_JSON)]).await;
    let client = builder(&server).build().unwrap();
    let error = client.files_show().account_id("acc-1").send().await.unwrap_err();
    assert!(matches!(&error, Error::InvalidRequest(m) if m.contains("file_id")), "{error:?}");
    assert_eq!(server.count(), 0);
}

#[tokio::test]
async fn rate_limit_headers_of_every_response_are_readable() {
    let server = FakeApi::scripted(vec![
        Reply::json(200, FILE_JSON)
            .header("x-ratelimit-limit", "100")
            .header("x-ratelimit-remaining", "99")
            .header("x-ratelimit-window", "60000"),
    ])
    .await;
    let client = builder(&server).build().unwrap();
    assert_eq!(client.last_rate_limit(), None);
    show_file(&client).await.unwrap();
    let status = client.clone().last_rate_limit().expect("recorded, and shared by clones");
    assert_eq!(status.operation(), Some("files_show"));
    assert_eq!((status.limit(), status.remaining()), (Some(100), Some(99)));
    assert_eq!(status.window(), Some(Duration::from_secs(60)));
}

#[tokio::test]
async fn the_builder_rejects_bad_configuration() {
    let no_credentials = Client::builder().build().unwrap_err();
    assert!(matches!(&no_credentials, Error::Config(m) if m.contains("credentials")), "{no_credentials}");
    let bad_url = Client::builder().bearer_token(TOKEN).base_url("api.frame.io").build().unwrap_err();
    assert!(matches!(bad_url, Error::Config(_)));
    let bad_agent = Client::builder().bearer_token(TOKEN).user_agent("a\nb").build().unwrap_err();
    assert!(matches!(bad_agent, Error::Config(_)));
    let client = Client::builder().bearer_token(TOKEN).base_url("https://eu.example/").build().unwrap();
    assert_eq!(client.base_url(), "https://eu.example");
    assert_eq!(Client::builder().bearer_token(TOKEN).build().unwrap().base_url(), "https://api.frame.io");
}

/// A provider that hands out `tok-1`, then `tok-2` once `tok-1` is invalidated.
#[derive(Default)]
struct Rotating {
    invalidated: Mutex<Vec<String>>,
    calls: AtomicUsize,
    renews: bool,
}

impl TokenProvider for Rotating {
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let renewed = self.renews && !self.invalidated.lock().unwrap().is_empty();
        Box::pin(async move { Ok(AccessToken::new(if renewed { "tok-2" } else { "tok-1" })) })
    }

    fn invalidate(&self, rejected: &AccessToken) {
        self.invalidated.lock().unwrap().push(rejected.expose_secret().to_string());
    }
}

#[tokio::test]
async fn a_401_invalidates_the_token_and_retries_once_with_a_new_one() {
    let server = FakeApi::start(|request, _| match request.header("authorization") {
        Some("Bearer tok-2") => Reply::json(200, FILE_JSON),
        _ => Reply::json(401, r#"{"errors": [{"detail": "Token expired"}]}"#),
    })
    .await;
    let provider = Arc::new(Rotating { renews: true, ..Rotating::default() });
    let client = builder(&server).credentials(Credentials::shared_provider(provider.clone())).build().unwrap();
    let file = client.files_show().account_id("a").file_id("f").await.unwrap();
    assert_eq!(file.data.name, "sample.pdf");
    assert_eq!(*provider.invalidated.lock().unwrap(), ["tok-1"]);
    let sent: Vec<_> = server.received().iter().map(|r| r.header("authorization").unwrap().to_string()).collect();
    assert_eq!(sent, ["Bearer tok-1", "Bearer tok-2"]);
}

#[tokio::test]
async fn a_401_is_final_when_the_provider_has_no_other_token() {
    let server = FakeApi::scripted(vec![Reply::json(401, r#"{"errors": [{"detail": "Token expired"}]}"#)]).await;
    let provider = Arc::new(Rotating::default());
    let client = builder(&server).credentials(Credentials::shared_provider(provider.clone())).build().unwrap();
    let error = show_file(&client).await.unwrap_err();
    assert_eq!(error.status(), Some(http::StatusCode::UNAUTHORIZED));
    assert_eq!((server.count(), error.attempts()), (1, Some(1)));
    assert_eq!(*provider.invalidated.lock().unwrap(), ["tok-1"], "the provider was told");
    assert!(error.to_string().contains("sign in again"), "{error}");
}

struct SignedOut;

impl TokenProvider for SignedOut {
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>> {
        Box::pin(async { Err(AuthError::SignInAgain { reason: "refresh token revoked".into() }) })
    }
}

#[tokio::test]
async fn a_provider_failure_is_an_auth_error_and_sends_nothing() {
    let server = FakeApi::scripted(vec![Reply::json(200, FILE_JSON)]).await;
    let client = builder(&server).token_provider(SignedOut).build().unwrap();
    let error = show_file(&client).await.unwrap_err();
    assert!(matches!(&error, Error::Auth(AuthError::SignInAgain { reason }) if reason == "refresh token revoked"));
    assert_eq!(error.to_string(), "sign in again: refresh token revoked");
    assert_eq!(server.count(), 0);
}

/// A URL nothing listens on.
async fn dead_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}
