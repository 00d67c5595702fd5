//! The client core against the fake Frame.io: credentials and headers, the
//! error type (envelopes, synthesized envelopes, decode paths), rate-limit
//! headers, and token refresh after a 401.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use frameio_ext::auth::AuthError;
use frameio_ext::{AccessToken, Client, ClientBuilder, Credentials, Error, RateLimiting, RetryPolicy, TokenProvider};
use frameio_fake::{Fake, Fault, RateLimits, Target};
use futures::future::BoxFuture;
use support::{TOKEN, World};

/// A File as `files_show` returns it, for replies the fake would not give by itself.
const FILE_JSON: &str = r#"{"data": {"created_at": "2024-10-02T00:22:44.887775Z", "file_size": 102432,
    "id": "df171f3e-c95f-4454-9071-825cd924b572", "media_type": "application/pdf", "name": "sample.pdf",
    "parent_id": "e183c7ba-07d9-425a-9467-ebdf0223d9ce", "project_id": "976dd413-a92b-4af6-b465-98aded0174a8",
    "status": "created", "type": "file", "updated_at": "2024-10-02T00:22:44.927993Z",
    "view_url": "https://next.frame.io/project/976dd413/view/df171f3e"}}"#;

/// A world with `sample.pdf` in it; returns it and the file's id.
async fn with_file() -> (World, String) {
    let world = World::start().await;
    let file = world.file("sample.pdf", 102_432);
    (world, file)
}

fn builder(world: &World) -> ClientBuilder {
    world
        .client()
        .credentials(Credentials::bearer(TOKEN))
        .retry_policy(RetryPolicy::none())
        .rate_limiting(RateLimiting::disabled())
}

async fn show(
    client: &Client,
    account: &str,
    file: &str,
) -> Result<frameio_gen::v4::types::FileWithIncludesResponse, Error> {
    client.files_show().account_id(account).file_id(file).send().await
}

/// The error `files_show` gets when the fake answers with `fault`.
async fn error_for(fault: Fault) -> Error {
    let (world, file) = with_file().await;
    world.fake.fault(Target::operation("files_show"), fault);
    show(&builder(&world).build().unwrap(), &world.account, &file).await.unwrap_err()
}

#[tokio::test]
async fn sends_the_bearer_token_and_user_agent() {
    let (world, id) = with_file().await;
    let file = show(&builder(&world).build().unwrap(), &world.account, &id).await.unwrap();
    assert_eq!((file.data.name.as_str(), file.data.id.as_str()), ("sample.pdf", id.as_str()));

    let [request] = &world.fake.requests()[..] else { panic!("one request") };
    assert_eq!(request.path, format!("/v4/accounts/{}/files/{id}", world.account));
    assert_eq!(request.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(request.header("user-agent"), Some(concat!("frameio-rs/", env!("CARGO_PKG_VERSION"))));
    assert_eq!(request.header("x-frameio-legacy-token-auth"), None);
    assert_eq!(request.header("api-version"), None, "files_show documents no api-version header");
}

#[tokio::test]
async fn a_legacy_developer_token_adds_its_header() {
    let (world, file) = with_file().await;
    world.fake.accept_token("legacy-tok");
    let client = builder(&world).credentials(Credentials::legacy_developer_token("legacy-tok")).build().unwrap();
    show(&client, &world.account, &file).await.unwrap();
    let request = &world.fake.requests()[0];
    assert_eq!(request.header("authorization"), Some("Bearer legacy-tok"));
    assert_eq!(request.header("x-frameio-legacy-token-auth"), Some("true"));
}

#[tokio::test]
async fn user_agent_and_http_client_can_be_replaced() {
    let (world, file) = with_file().await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-proxy-tag", "corp".parse().unwrap());
    frameio_ext::tls::install_default_provider();
    let http = reqwest::Client::builder().default_headers(headers).build().unwrap();
    let client = builder(&world).user_agent("dailies/2.0").http_client(http).build().unwrap();
    show(&client, &world.account, &file).await.unwrap();
    let request = &world.fake.requests()[0];
    assert_eq!(request.header("user-agent"), Some("dailies/2.0"));
    assert_eq!(request.header("x-proxy-tag"), Some("corp"), "the caller's client sent the request");
}

#[tokio::test]
async fn the_token_never_shows_in_debug_or_errors() {
    let (world, file) = with_file().await;
    let echo = Fault::status(502).body("text/html", format!("<html>proxy saw Bearer {TOKEN}</html>"));
    world.fake.fault(Target::operation("files_show"), echo);
    let builder = builder(&world);
    assert!(!format!("{builder:?}").contains(TOKEN));
    let client = builder.build().unwrap();
    assert!(!format!("{client:?}").contains(TOKEN));
    assert!(!format!("{:?}", Credentials::bearer(TOKEN)).contains(TOKEN));
    assert!(!format!("{:?}", AccessToken::new(TOKEN)).contains(TOKEN));

    let echoed = show(&client, &world.account, &file).await.unwrap_err();
    let excerpt = echoed.api().unwrap().body_excerpt().unwrap();
    assert_eq!(excerpt, "<html>proxy saw Bearer [redacted]</html>", "an echoed token is blanked out");
    for text in [echoed.to_string(), format!("{echoed:?}")] {
        assert!(!text.contains(TOKEN), "{text}");
    }

    // The fake's own 401, once it no longer accepts the token.
    world.fake.revoke_token(TOKEN);
    let unauthorized = show(&client, &world.account, &file).await.unwrap_err();
    assert_eq!(unauthorized.status(), Some(http::StatusCode::UNAUTHORIZED));
    let dead = Client::builder().base_url(dead_url().await).bearer_token(TOKEN).build().unwrap();
    let refused = show(&dead, &world.account, &file).await.unwrap_err();
    for error in [unauthorized, refused] {
        for text in [error.to_string(), format!("{error:?}")] {
            assert!(!text.contains(TOKEN), "{text}");
        }
    }
}

#[tokio::test]
async fn a_full_envelope_is_parsed_with_its_headers() {
    let error = error_for(
        Fault::json(
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
    let error = error_for(Fault::json(403, r#"{"errors": [{"detail": "Forbidden"}]}"#)).await;
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
    let error = error_for(Fault::status(502).body("text/html", page)).await;
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
    let error = error_for(Fault::json(500, r#"{"errors": [{"detail": "boo"#)).await;
    assert_eq!(error.status(), Some(http::StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(error.api().unwrap().body_excerpt(), Some(r#"{"errors": [{"detail": "boo"#));
}

#[tokio::test]
async fn an_empty_error_body_keeps_its_status() {
    let error = error_for(Fault::empty(404)).await;
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
    let plan = error_for(Fault::json(402, r#"{"errors": [{"detail": "Usage exceeded"}]}"#)).await;
    assert!(plan.is_plan_limit() && !plan.is_rate_limited() && !plan.is_retryable());
    assert!(plan.to_string().contains("plan limits"), "{plan}");

    let limited = error_for(
        Fault::json(429, r#"{"errors": [{"detail": "Too many requests"}]}"#)
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
    let error = error_for(Fault::json(200, body)).await;
    let Error::Decode(decode) = &error else { panic!("a decode error: {error:?}") };
    assert_eq!(decode.path().as_deref(), Some("data.file_size"));
    assert_eq!((decode.pointer().as_deref(), decode.field()), (Some("/data/file_size"), Some("file_size")));
    assert_eq!((decode.operation(), error.operation()), ("files_show", Some("files_show")));
    assert!(decode.excerpt().contains(r#""file_size": "large""#), "{}", decode.excerpt());
    let text = error.to_string();
    assert!(text.contains("`files_show` at `/data/file_size` (field `file_size`)"), "{text}");
    assert!(text.contains("please report it"), "{text}");

    let missing = error_for(Fault::json(200, FILE_JSON.replace(r#""name": "sample.pdf","#, ""))).await;
    let Error::Decode(decode) = &missing else { panic!("a decode error: {missing:?}") };
    assert_eq!(decode.path().as_deref(), Some("data.name"));
}

#[tokio::test]
async fn a_missing_parameter_is_an_invalid_request_and_sends_nothing() {
    let (world, _) = with_file().await;
    let client = builder(&world).build().unwrap();
    let error = client.files_show().account_id(&world.account).send().await.unwrap_err();
    assert!(matches!(&error, Error::InvalidRequest(m) if m.contains("file_id")), "{error:?}");
    assert!(world.fake.requests().is_empty());
}

#[tokio::test]
async fn rate_limit_headers_of_every_response_are_readable() {
    let limits = RateLimits::documented().limit("files_show", 100, Duration::from_secs(60));
    let world = World::with(Fake::builder().rate_limits(limits)).await;
    let file = world.file("sample.pdf", 10);
    let client = builder(&world).build().unwrap();
    assert_eq!(client.last_rate_limit(), None);
    show(&client, &world.account, &file).await.unwrap();
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
    // The fake takes only the renewed token: `tok-1` gets its 401.
    let (world, id) = with_file().await;
    world.fake.revoke_token(TOKEN);
    world.fake.accept_token("tok-2");
    let provider = Arc::new(Rotating { renews: true, ..Rotating::default() });
    let client = builder(&world).credentials(Credentials::shared_provider(provider.clone())).build().unwrap();
    let file = client.files_show().account_id(&world.account).file_id(&id).await.unwrap();
    assert_eq!(file.data.name, "sample.pdf");
    assert_eq!(*provider.invalidated.lock().unwrap(), ["tok-1"]);
    let sent: Vec<_> = world.fake.requests().iter().map(|r| r.header("authorization").unwrap().to_string()).collect();
    assert_eq!(sent, ["Bearer tok-1", "Bearer tok-2"]);
}

#[tokio::test]
async fn a_401_is_final_when_the_provider_has_no_other_token() {
    let (world, file) = with_file().await;
    let provider = Arc::new(Rotating::default());
    let client = builder(&world).credentials(Credentials::shared_provider(provider.clone())).build().unwrap();
    let error = show(&client, &world.account, &file).await.unwrap_err();
    assert_eq!(error.status(), Some(http::StatusCode::UNAUTHORIZED));
    assert_eq!((world.fake.requests().len(), error.attempts()), (1, Some(1)));
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
    let (world, file) = with_file().await;
    let client = builder(&world).token_provider(SignedOut).build().unwrap();
    let error = show(&client, &world.account, &file).await.unwrap_err();
    assert!(matches!(&error, Error::Auth(AuthError::SignInAgain { reason }) if reason == "refresh token revoked"));
    assert_eq!(error.to_string(), "sign in again: refresh token revoked");
    assert!(world.fake.requests().is_empty());
}

/// A URL nothing listens on.
async fn dead_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}
