//! Adobe IMS providers against a fake IMS (httpmock on 127.0.0.1): URL
//! building, every grant's form fields, renewal timing, single-flight,
//! error typing, revocation, persistence, callbacks, redaction, and the
//! loopback redirect over real HTTP.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use frameio_ext::auth::{AccessToken, AuthError};
use frameio_ext::ims::{
    ExposeSecret, ImsConfigError, ImsPkceApp, ImsServerToServer, ImsWebApp, LoopbackError, LoopbackRedirect,
    USER_SCOPES,
};
use frameio_ext::{TokenProvider, TokenSet};
use httpmock::Mock;
use httpmock::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tracing::subscriber::Interest;

const CLIENT_ID: &str = "test-client-id";
const CLIENT_SECRET: &str = "client-secret-C0FFEE";
const REDIRECT_URI: &str = "https://app.example/callback";
const TOKEN_PATH: &str = "/ims/token/v3";
const REVOKE_PATH: &str = "/ims/revoke";
const HOUR: u64 = 3600;

/// A wall clock the test moves by hand.
#[derive(Clone)]
struct FakeClock(Arc<Mutex<SystemTime>>);

impl FakeClock {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(UNIX_EPOCH + Duration::from_secs(1_800_000_000))))
    }

    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }

    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }

    fn source(&self) -> impl Fn() -> SystemTime + Send + Sync + 'static {
        let clock = self.clone();
        move || clock.now()
    }
}

/// Every `TokenSet` the `on_token` callback saw.
#[derive(Clone, Default)]
struct Saved(Arc<Mutex<Vec<TokenSet>>>);

impl Saved {
    fn callback(&self) -> impl Fn(&TokenSet) + Send + Sync + 'static {
        let saved = self.clone();
        move |tokens| saved.0.lock().unwrap().push(tokens.clone())
    }

    fn refresh_tokens(&self) -> Vec<Option<String>> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|tokens| tokens.refresh_token().map(|t| t.expose_secret().to_owned()))
            .collect()
    }
}

/// An IMS `/ims/token/v3` success body, with the extra fields IMS sends.
fn token_body(access: &str, refresh: Option<&str>, expires_in: u64) -> Value {
    let mut body = json!({
        "access_token": access,
        "token_type": "bearer",
        "expires_in": expires_in,
        "sub": "B0DC108C5CD449CA0A494133@c62f24cc5b5b7e0e0a494004",
        "id_token": "id-token",
    });
    if let Some(refresh) = refresh {
        body["refresh_token"] = json!(refresh);
    }
    body
}

/// A token endpoint mock answering `body` to requests carrying all `form`
/// fields.
async fn token_mock<'a>(server: &'a MockServer, form: &[(&str, &str)], status: u16, body: Value) -> Mock<'a> {
    let form: Vec<(String, String)> = form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    server
        .mock_async(|mut when, then| {
            when = when.method(POST).path(TOKEN_PATH);
            for (key, value) in form {
                when = when.form_urlencoded_tuple(key, value);
            }
            drop(when);
            then.status(status).header("content-type", "application/json;charset=UTF-8").json_body(body);
        })
        .await
}

fn basic_auth() -> String {
    format!("Basic {}", STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}")))
}

fn web_app(server: &MockServer, clock: &FakeClock) -> frameio_ext::ims::ImsBuilder<ImsWebApp> {
    ImsWebApp::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .redirect_uri(REDIRECT_URI)
        .ims_base_url(server.base_url())
        .clock(clock.source())
}

fn pkce_app(server: &MockServer, clock: &FakeClock) -> frameio_ext::ims::ImsBuilder<ImsPkceApp> {
    ImsPkceApp::builder()
        .client_id(CLIENT_ID)
        .redirect_uri(REDIRECT_URI)
        .ims_base_url(server.base_url())
        .clock(clock.source())
}

fn s2s(server: &MockServer, clock: &FakeClock) -> frameio_ext::ims::ImsBuilder<ImsServerToServer> {
    ImsServerToServer::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .ims_base_url(server.base_url())
        .clock(clock.source())
}

/// A web app signed in with `at-1` / `rt-1`, valid for an hour.
async fn signed_in_web_app(server: &MockServer, clock: &FakeClock, saved: &Saved) -> ImsWebApp {
    let exchange =
        token_mock(server, &[("grant_type", "authorization_code")], 200, token_body("at-1", Some("rt-1"), HOUR)).await;
    let auth = web_app(server, clock).on_token(saved.callback()).build().unwrap();
    auth.exchange_code("code-1").await.unwrap();
    exchange.delete_async().await;
    auth
}

/// Tokens that expired a second ago, with refresh token `rt-1`.
fn expired_tokens(clock: &FakeClock) -> TokenSet {
    TokenSet::new(AccessToken::new("at-old").with_expiry(clock.now() - Duration::from_secs(1)))
        .with_refresh_token("rt-1")
}

fn query(url: &reqwest::Url, key: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn web_app_authorization_url_carries_client_redirect_scopes_and_fresh_state() {
    let server = MockServer::start_async().await;
    let auth = web_app(&server, &FakeClock::new()).build().unwrap();

    let request = auth.authorization_url();
    let url = request.url();
    assert_eq!(url.path(), "/ims/authorize/v2");
    assert_eq!(url.host_str(), Some("127.0.0.1"));
    assert_eq!(query(url, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(query(url, "redirect_uri").as_deref(), Some(REDIRECT_URI));
    assert_eq!(query(url, "response_type").as_deref(), Some("code"));
    assert_eq!(query(url, "scope").as_deref(), Some("openid email profile offline_access additional_info.roles"));
    assert_eq!(query(url, "state").as_deref(), Some(request.state()));
    assert!(request.state().len() >= 16);
    assert_eq!(query(url, "code_challenge"), None);
    assert!(!url.as_str().contains(CLIENT_SECRET));

    let other = auth.authorization_url();
    assert_ne!(other.state(), request.state(), "each request has its own state");
}

#[tokio::test]
async fn pkce_authorization_url_carries_the_s256_challenge_of_its_verifier() {
    let server = MockServer::start_async().await;
    let auth = pkce_app(&server, &FakeClock::new()).scopes(["openid", "offline_access"]).build().unwrap();

    let (request, verifier) = auth.authorization_url();
    let url = request.url();
    assert_eq!(url.path(), "/ims/authorize/v2");
    assert!((43..=128).contains(&verifier.expose_secret().len()));
    let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.expose_secret().as_bytes()));
    assert_eq!(query(url, "code_challenge"), Some(expected));
    assert_eq!(query(url, "code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(query(url, "state").as_deref(), Some(request.state()));
    assert_eq!(query(url, "scope").as_deref(), Some("openid offline_access"));
    assert!(!url.as_str().contains(verifier.expose_secret()));

    let (_, second) = auth.authorization_url();
    assert_ne!(second.expose_secret(), verifier.expose_secret());
}

#[tokio::test]
async fn web_app_exchanges_the_code_with_basic_auth_and_the_redirect_uri() {
    let server = MockServer::start_async().await;
    let clock = FakeClock::new();
    let exchange = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("authorization", basic_auth())
                .header("content-type", "application/x-www-form-urlencoded")
                .form_urlencoded_tuple("grant_type", "authorization_code")
                .form_urlencoded_tuple("code", "code-123")
                .form_urlencoded_tuple("redirect_uri", REDIRECT_URI)
                .form_urlencoded_tuple_missing("client_secret")
                .form_urlencoded_tuple_missing("code_verifier");
            then.status(200).header("content-type", "application/json").json_body(token_body(
                "at-1",
                Some("rt-1"),
                86399,
            ));
        })
        .await;
    let auth = web_app(&server, &clock).build().unwrap();

    let token = auth.exchange_code("code-123").await.unwrap();

    exchange.assert_calls_async(1).await;
    assert_eq!(token.expose_secret(), "at-1");
    assert_eq!(token.expires_at(), Some(clock.now() + Duration::from_secs(86399)));
    let tokens = auth.export().unwrap();
    assert_eq!(tokens.refresh_token().unwrap().expose_secret(), "rt-1");
    assert_eq!(auth.token().await.unwrap().expose_secret(), "at-1");
    exchange.assert_calls_async(1).await;
}

#[tokio::test]
async fn pkce_exchange_sends_the_verifier_and_client_id_but_no_secret() {
    let server = MockServer::start_async().await;
    let clock = FakeClock::new();
    let auth = pkce_app(&server, &clock).build().unwrap();
    let (_, verifier) = auth.authorization_url();
    let exchange = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header_missing("authorization")
                .form_urlencoded_tuple("grant_type", "authorization_code")
                .form_urlencoded_tuple("code", "code-456")
                .form_urlencoded_tuple("client_id", CLIENT_ID)
                .form_urlencoded_tuple("code_verifier", verifier.expose_secret())
                .form_urlencoded_tuple("redirect_uri", REDIRECT_URI)
                .form_urlencoded_tuple_missing("client_secret");
            then.status(200).header("content-type", "application/json").json_body(token_body(
                "at-pkce",
                Some("rt-pkce"),
                HOUR,
            ));
        })
        .await;

    let token = auth.exchange_code("code-456", &verifier).await.unwrap();

    exchange.assert_calls_async(1).await;
    assert_eq!(token.expose_secret(), "at-pkce");
}

#[tokio::test]
async fn server_to_server_fetches_with_client_credentials_and_again_before_expiry() {
    let server = MockServer::start_async().await;
    let clock = FakeClock::new();
    let s2s_form = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("scope", "openid AdobeID frame.s2s.all"),
    ];
    let first = token_mock(&server, &s2s_form, 200, token_body("s2s-1", None, HOUR)).await;
    let auth = s2s(&server, &clock).build().unwrap();

    assert_eq!(auth.token().await.unwrap().expose_secret(), "s2s-1");
    assert_eq!(auth.token().await.unwrap().expose_secret(), "s2s-1");
    clock.advance(Duration::from_secs(HOUR - 61));
    assert_eq!(auth.token().await.unwrap().expose_secret(), "s2s-1");
    first.assert_calls_async(1).await;
    assert!(auth.export().unwrap().refresh_token().is_none());

    first.delete_async().await;
    let second = token_mock(&server, &s2s_form, 200, token_body("s2s-2", None, HOUR)).await;
    clock.advance(Duration::from_secs(2)); // 59 s before expiry: inside the 60 s margin
    assert_eq!(auth.token().await.unwrap().expose_secret(), "s2s-2");
    assert_eq!(auth.token().await.unwrap().expose_secret(), "s2s-2");
    second.assert_calls_async(1).await;
}

#[tokio::test]
async fn user_token_is_refreshed_ahead_of_expiry_with_the_refresh_token() {
    let server = MockServer::start_async().await;
    let clock = FakeClock::new();
    let exchange =
        token_mock(&server, &[("grant_type", "authorization_code")], 200, token_body("at-1", Some("rt-1"), HOUR)).await;
    let refresh = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("authorization", basic_auth())
                .form_urlencoded_tuple("grant_type", "refresh_token")
                .form_urlencoded_tuple("refresh_token", "rt-1");
            then.status(200).header("content-type", "application/json").json_body(token_body(
                "at-2",
                Some("rt-2"),
                HOUR,
            ));
        })
        .await;
    let auth = web_app(&server, &clock).refresh_margin(Duration::from_secs(120)).build().unwrap();
    auth.exchange_code("code-1").await.unwrap();
    exchange.assert_calls_async(1).await;

    clock.advance(Duration::from_secs(HOUR - 121));
    assert_eq!(auth.token().await.unwrap().expose_secret(), "at-1");
    refresh.assert_calls_async(0).await;

    clock.advance(Duration::from_secs(2)); // 119 s before expiry
    assert_eq!(auth.token().await.unwrap().expose_secret(), "at-2");
    refresh.assert_calls_async(1).await;
    exchange.assert_calls_async(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_hundred_concurrent_callers_at_expiry_cause_exactly_one_refresh() {
    let server = MockServer::start_async().await;
    let clock = FakeClock::new();
    let refresh = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .form_urlencoded_tuple("grant_type", "refresh_token")
                .form_urlencoded_tuple_exists("refresh_token");
            then.status(200)
                .header("content-type", "application/json")
                .json_body(token_body("at-2", Some("rt-2"), HOUR))
                .delay(Duration::from_millis(300));
        })
        .await;
    let saved = Saved::default();
    let auth = web_app(&server, &clock).on_token(saved.callback()).build().unwrap();
    auth.import(expired_tokens(&clock));

    let callers: Vec<_> = (0..100)
        .map(|_| {
            let auth = auth.clone();
            tokio::spawn(async move { auth.token().await })
        })
        .collect();
    for caller in callers {
        let token = caller.await.unwrap().unwrap();
        assert_eq!(token.expose_secret(), "at-2");
    }

    refresh.assert_calls_async(1).await;
    assert_eq!(saved.refresh_tokens(), vec![Some("rt-2".to_owned())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_callers_share_a_failed_refresh_instead_of_retrying_it() {
    let server = MockServer::start_async().await;
    let clock = FakeClock::new();
    let refresh = server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH);
            then.status(503)
                .header("content-type", "application/json")
                .json_body(json!({"error": "temporarily_unavailable"}))
                .delay(Duration::from_secs(1));
        })
        .await;
    let auth = web_app(&server, &clock).build().unwrap();
    auth.import(expired_tokens(&clock));

    let callers: Vec<_> = (0..20)
        .map(|_| {
            let auth = auth.clone();
            tokio::spawn(async move { auth.token().await })
        })
        .collect();
    for caller in callers {
        match caller.await.unwrap() {
            Err(AuthError::Rejected { status, error, .. }) => {
                assert_eq!((status, error.as_str()), (503, "temporarily_unavailable"));
            }
            other => panic!("expected the shared 503, got {other:?}"),
        }
    }
    refresh.assert_calls_async(1).await;
}

#[tokio::test]
async fn refused_refresh_token_means_sign_in_again_without_asking_ims_again() {
    let server = MockServer::start_async().await;
    let clock = FakeClock::new();
    let refresh = token_mock(
        &server,
        &[("grant_type", "refresh_token"), ("refresh_token", "rt-1")],
        400,
        json!({"error": "invalid_grant", "error_description": "refresh token expired"}),
    )
    .await;
    let auth = web_app(&server, &clock).build().unwrap();
    auth.import(expired_tokens(&clock));

    match auth.token().await {
        Err(AuthError::SignInAgain { reason }) => {
            assert!(reason.contains("refresh token expired"), "{reason}")
        }
        other => panic!("expected SignInAgain, got {other:?}"),
    }
    assert!(matches!(auth.token().await, Err(AuthError::SignInAgain { .. })));
    refresh.assert_calls_async(1).await;
    assert!(auth.export().is_none());
}

#[tokio::test]
async fn other_ims_refusals_stay_typed_as_rejected() {
    let server = MockServer::start_async().await;
    let clock = FakeClock::new();
    token_mock(
        &server,
        &[("grant_type", "client_credentials")],
        401,
        json!({"error": "invalid_client", "error_description": "invalid client_secret parameter"}),
    )
    .await;
    let auth = s2s(&server, &clock).build().unwrap();

    match auth.token().await {
        Err(AuthError::Rejected { status, error, description }) => {
            assert_eq!(status, 401);
            assert_eq!(error, "invalid_client");
            assert_eq!(description.as_deref(), Some("invalid client_secret parameter"));
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn rate_limit_is_typed_with_retry_after_and_respected() {
    let server = MockServer::start_async().await;
    let clock = FakeClock::new();
    let limited = server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH);
            then.status(429).header("retry-after", "30");
        })
        .await;
    let auth = web_app(&server, &clock).build().unwrap();
    auth.import(expired_tokens(&clock));

    assert!(matches!(
        auth.token().await,
        Err(AuthError::RateLimited { retry_after: Some(wait) }) if wait == Duration::from_secs(30)
    ));
    clock.advance(Duration::from_secs(10));
    assert!(matches!(
        auth.token().await,
        Err(AuthError::RateLimited { retry_after: Some(wait) }) if wait == Duration::from_secs(20)
    ));
    limited.assert_calls_async(1).await;

    clock.advance(Duration::from_secs(21));
    assert!(auth.token().await.is_err());
    limited.assert_calls_async(2).await;
}

#[tokio::test]
async fn retry_after_may_be_an_http_date() {
    let server = MockServer::start_async().await;
    let at = SystemTime::now() + Duration::from_secs(120);
    server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH);
            then.status(429).header("retry-after", httpdate::fmt_http_date(at));
        })
        .await;
    let auth = s2s(&server, &FakeClock::new()).build().unwrap();

    match auth.token().await {
        Err(AuthError::RateLimited { retry_after: Some(wait) }) => {
            assert!((Duration::from_secs(110)..=Duration::from_secs(120)).contains(&wait), "{wait:?}")
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

#[tokio::test]
async fn a_failed_early_refresh_keeps_serving_the_still_valid_token() {
    let server = MockServer::start_async().await;
    let clock = FakeClock::new();
    let saved = Saved::default();
    let auth = signed_in_web_app(&server, &clock, &saved).await;
    let failing = token_mock(&server, &[("grant_type", "refresh_token")], 500, json!({"error": "server_error"})).await;

    clock.advance(Duration::from_secs(HOUR - 30));
    assert_eq!(auth.token().await.unwrap().expose_secret(), "at-1");
    assert_eq!(auth.token().await.unwrap().expose_secret(), "at-1");
    failing.assert_calls_async(1).await; // retried only after a pause
    assert!(matches!(auth.refresh().await, Err(AuthError::Rejected { status: 500, .. })));
    failing.assert_calls_async(2).await;

    clock.advance(Duration::from_secs(31)); // expired now
    assert!(matches!(auth.token().await, Err(AuthError::Rejected { status: 500, .. })));
}

#[tokio::test]
async fn unreachable_ims_is_a_network_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let auth = ImsServerToServer::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .ims_base_url(format!("http://{address}"))
        .build()
        .unwrap();

    assert!(matches!(auth.token().await, Err(AuthError::Network(_))));
}

#[tokio::test]
async fn malformed_token_answer_is_invalid_response() {
    let server = MockServer::start_async().await;
    token_mock(&server, &[], 200, json!({"access_token": "at-x", "token_type": "bearer", "expires_in": "soon"})).await;
    let auth = s2s(&server, &FakeClock::new()).build().unwrap();

    match auth.token().await {
        Err(AuthError::InvalidResponse(message)) => {
            assert!(message.contains("expires_in"), "{message}");
            assert!(!message.contains("at-x"), "{message}");
        }
        other => panic!("expected InvalidResponse, got {other:?}"),
    }
}

#[tokio::test]
async fn invalidate_forces_a_refresh_only_for_the_rejected_token() {
    let server = MockServer::start_async().await;
    let clock = FakeClock::new();
    let auth = signed_in_web_app(&server, &clock, &Saved::default()).await;
    let refresh = token_mock(
        &server,
        &[("grant_type", "refresh_token"), ("refresh_token", "rt-1")],
        200,
        token_body("at-2", Some("rt-2"), HOUR),
    )
    .await;

    auth.invalidate(&AccessToken::new("some-older-token"));
    assert_eq!(auth.token().await.unwrap().expose_secret(), "at-1");
    refresh.assert_calls_async(0).await;

    let current = auth.token().await.unwrap();
    auth.invalidate(&current);
    assert_eq!(auth.token().await.unwrap().expose_secret(), "at-2");
    refresh.assert_calls_async(1).await;

    auth.invalidate(&current); // a late 401 for the old token changes nothing
    assert_eq!(auth.token().await.unwrap().expose_secret(), "at-2");
    refresh.assert_calls_async(1).await;
}

#[tokio::test]
async fn web_app_revoke_posts_both_tokens_with_basic_auth_and_signs_out() {
    let server = MockServer::start_async().await;
    let clock = FakeClock::new();
    let auth = signed_in_web_app(&server, &clock, &Saved::default()).await;
    let mut revocations = Vec::new();
    for token in ["at-1", "rt-1"] {
        revocations.push(
            server
                .mock_async(|when, then| {
                    when.method(POST)
                        .path(REVOKE_PATH)
                        .header("authorization", basic_auth())
                        .form_urlencoded_tuple("token", token);
                    then.status(200);
                })
                .await,
        );
    }

    auth.revoke().await.unwrap();

    for revocation in &revocations {
        revocation.assert_calls_async(1).await;
    }
    assert!(auth.export().is_none());
    assert!(matches!(auth.token().await, Err(AuthError::SignInAgain { .. })));
}

#[tokio::test]
async fn pkce_revoke_sends_the_client_id_in_the_query_and_no_secret() {
    let server = MockServer::start_async().await;
    let clock = FakeClock::new();
    let auth = pkce_app(&server, &clock).build().unwrap();
    auth.import(
        TokenSet::new(AccessToken::new("at-p").with_expiry(clock.now() + Duration::from_secs(HOUR)))
            .with_refresh_token("rt-p"),
    );
    let mut revocations = Vec::new();
    for token in ["at-p", "rt-p"] {
        revocations.push(
            server
                .mock_async(|when, then| {
                    when.method(POST)
                        .path(REVOKE_PATH)
                        .query_param("client_id", CLIENT_ID)
                        .header_missing("authorization")
                        .form_urlencoded_tuple("token", token)
                        .form_urlencoded_tuple_missing("client_secret");
                    then.status(200);
                })
                .await,
        );
    }

    auth.revoke().await.unwrap();

    for revocation in &revocations {
        revocation.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn revoke_reports_a_refusal_but_still_signs_out() {
    let server = MockServer::start_async().await;
    let clock = FakeClock::new();
    let auth = signed_in_web_app(&server, &clock, &Saved::default()).await;
    server
        .mock_async(|when, then| {
            when.method(POST).path(REVOKE_PATH);
            then.status(400).header("content-type", "application/json").json_body(json!({"error": "invalid_request"}));
        })
        .await;

    assert!(matches!(auth.revoke().await, Err(AuthError::Rejected { status: 400, .. })));
    assert!(auth.export().is_none());
}

#[tokio::test]
async fn exported_tokens_round_trip_through_json_into_a_new_provider() {
    let server = MockServer::start_async().await;
    let clock = FakeClock::new();
    let auth = signed_in_web_app(&server, &clock, &Saved::default()).await;

    let json = serde_json::to_value(auth.export().unwrap()).unwrap();
    let expires_at = clock.now() + Duration::from_secs(HOUR);
    let unix = expires_at.duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
    assert_eq!(json, json!({"access_token": "at-1", "refresh_token": "rt-1", "expires_at": unix}));

    // A fresh fake IMS with no mocks: any request would fail the test.
    let other_server = MockServer::start_async().await;
    let restored = web_app(&other_server, &clock).build().unwrap();
    restored.import(serde_json::from_value(json).unwrap());
    let token = restored.token().await.unwrap();
    assert_eq!(token.expose_secret(), "at-1");
    assert_eq!(token.expires_at(), Some(expires_at));

    // Integer `expires_at`, as another SDK may have written it, reads too.
    let tokens: TokenSet =
        serde_json::from_value(json!({"access_token": "a", "refresh_token": null, "expires_at": 1_800_000_000u64}))
            .unwrap();
    assert_eq!(tokens.expires_at(), Some(UNIX_EPOCH + Duration::from_secs(1_800_000_000)));
    assert!(tokens.refresh_token().is_none());
}

#[tokio::test]
async fn imported_expired_tokens_are_refreshed_with_the_imported_refresh_token() {
    let server = MockServer::start_async().await;
    let clock = FakeClock::new();
    let refresh = token_mock(
        &server,
        &[("grant_type", "refresh_token"), ("refresh_token", "rt-1"), ("client_id", CLIENT_ID)],
        200,
        token_body("at-2", None, HOUR),
    )
    .await;
    let auth = pkce_app(&server, &clock).build().unwrap();
    auth.import(expired_tokens(&clock));

    assert_eq!(auth.token().await.unwrap().expose_secret(), "at-2");
    refresh.assert_calls_async(1).await;
    // IMS did not rotate the refresh token: the old one is kept.
    let exported = auth.export().unwrap();
    assert_eq!(exported.refresh_token().unwrap().expose_secret(), "rt-1");
}

#[tokio::test]
async fn on_token_fires_on_every_new_token_with_the_rotated_refresh_token() {
    let server = MockServer::start_async().await;
    let clock = FakeClock::new();
    let saved = Saved::default();
    let auth = signed_in_web_app(&server, &clock, &saved).await;
    assert_eq!(saved.refresh_tokens(), vec![Some("rt-1".to_owned())]);

    let first = token_mock(
        &server,
        &[("grant_type", "refresh_token"), ("refresh_token", "rt-1")],
        200,
        token_body("at-2", Some("rt-2"), HOUR),
    )
    .await;
    let second = token_mock(
        &server,
        &[("grant_type", "refresh_token"), ("refresh_token", "rt-2")],
        200,
        token_body("at-3", Some("rt-3"), HOUR),
    )
    .await;

    assert_eq!(auth.refresh().await.unwrap().expose_secret(), "at-2");
    assert_eq!(auth.refresh().await.unwrap().expose_secret(), "at-3");

    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
    assert_eq!(saved.refresh_tokens(), ["rt-1", "rt-2", "rt-3"].map(|t| Some(t.to_owned())).to_vec());
    let last = saved.0.lock().unwrap().last().unwrap().clone();
    assert_eq!(last.access_token().expose_secret(), "at-3");
}

#[tokio::test]
async fn no_sign_in_yet_means_sign_in_again() {
    let server = MockServer::start_async().await;
    let auth = pkce_app(&server, &FakeClock::new()).build().unwrap();
    assert!(matches!(auth.token().await, Err(AuthError::SignInAgain { .. })));
    assert!(auth.export().is_none());
}

#[test]
fn builders_check_their_settings() {
    assert!(matches!(
        ImsServerToServer::builder().client_secret(CLIENT_SECRET).build(),
        Err(ImsConfigError::Missing("client_id"))
    ));
    assert!(matches!(
        ImsWebApp::builder().client_id(CLIENT_ID).redirect_uri(REDIRECT_URI).build(),
        Err(ImsConfigError::Missing("client_secret"))
    ));
    assert!(matches!(ImsPkceApp::builder().client_id(CLIENT_ID).build(), Err(ImsConfigError::Missing("redirect_uri"))));
    assert!(matches!(
        ImsServerToServer::builder()
            .client_id(CLIENT_ID)
            .client_secret(CLIENT_SECRET)
            .ims_base_url("http://ims.example")
            .build(),
        Err(ImsConfigError::Invalid { field: "ims_base_url", .. })
    ));
    assert!(
        ImsPkceApp::builder()
            .client_id(CLIENT_ID)
            .redirect_uri("adobe+0123abcd://callback")
            .ims_base_url("https://ims-na1-stg1.adobelogin.com")
            .build()
            .is_ok()
    );
    assert_eq!(USER_SCOPES.join(" "), "openid email profile offline_access additional_info.roles");
}

thread_local! {
    /// Where this thread's `frameio_ext` log events go, if it captures them.
    static CAPTURED: RefCell<Option<Arc<Mutex<String>>>> = const { RefCell::new(None) };
}

/// A global subscriber that formats this crate's events into the capturing
/// thread's buffer. Global and installed once (rather than a per-test
/// `set_default`) because callsite interest is cached process-wide: a scoped
/// subscriber races other test threads registering the same callsites.
struct ThreadCapture;

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

fn ours(metadata: &tracing::Metadata<'_>) -> bool {
    metadata.target().starts_with("frameio_ext")
}

impl tracing::Subscriber for ThreadCapture {
    fn register_callsite(&self, metadata: &'static tracing::Metadata<'static>) -> Interest {
        if ours(metadata) { Interest::sometimes() } else { Interest::never() }
    }

    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        ours(metadata) && CAPTURED.with(|captured| captured.borrow().is_some())
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        capture(|logs| span.record(&mut Fields(logs)));
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        capture(|logs| values.record(&mut Fields(logs)));
    }

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        capture(|logs| {
            event.record(&mut Fields(logs));
            logs.push('\n');
        });
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

fn capture(write: impl FnOnce(&mut String)) {
    CAPTURED.with(|captured| {
        if let Some(logs) = &*captured.borrow() {
            write(&mut logs.lock().unwrap());
        }
    });
}

/// Starts capturing this thread's `frameio_ext` log events.
fn capture_logs_on_this_thread() -> Arc<Mutex<String>> {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| tracing::subscriber::set_global_default(ThreadCapture).unwrap());
    let logs = Arc::default();
    CAPTURED.with(|captured| *captured.borrow_mut() = Some(Arc::clone(&logs)));
    logs
}

/// Runs every flow through success and failure, then formats everything a
/// secret could leak through and checks no secret shows.
#[tokio::test]
async fn secrets_never_show_in_debug_display_errors_or_logs() {
    // A current-thread runtime: the providers' spawned tasks log on this thread.
    let logs = capture_logs_on_this_thread();
    let server = MockServer::start_async().await;
    let clock = FakeClock::new();
    let secrets = [CLIENT_SECRET, "at-secret-1", "rt-secret-1", "at-secret-2", "rt-secret-2", "code-secret"];
    let mut shown = Vec::<String>::new();

    let web_builder = web_app(&server, &clock);
    shown.push(format!("{web_builder:?}"));
    let web = web_builder.build().unwrap();
    let exchange = token_mock(
        &server,
        &[("grant_type", "authorization_code"), ("code", "code-secret")],
        200,
        token_body("at-secret-1", Some("rt-secret-1"), HOUR),
    )
    .await;
    let access = web.exchange_code("code-secret").await.unwrap();
    exchange.delete_async().await;
    let refresh = token_mock(
        &server,
        &[("grant_type", "refresh_token"), ("refresh_token", "rt-secret-1")],
        200,
        token_body("at-secret-2", Some("rt-secret-2"), HOUR),
    )
    .await;
    let renewed = web.refresh().await.unwrap();
    refresh.delete_async().await;
    let tokens = web.export().unwrap();
    shown.extend([format!("{web:?}"), format!("{access:?}"), format!("{renewed:?}"), format!("{tokens:?}")]);

    // Failures: early refresh failing (logged), refused refresh token, rate
    // limit, refused revocation, unreachable IMS, bad configuration.
    let failing = token_mock(&server, &[("grant_type", "refresh_token")], 500, json!({"error": "server_error"})).await;
    clock.advance(Duration::from_secs(HOUR - 30));
    assert!(web.token().await.is_ok()); // the failed early refresh is logged
    failing.delete_async().await;
    let refused = token_mock(
        &server,
        &[("grant_type", "refresh_token")],
        400,
        json!({"error": "invalid_grant", "error_description": "refresh token revoked"}),
    )
    .await;
    let sign_in_again = web.refresh().await.unwrap_err();
    refused.delete_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path(REVOKE_PATH);
            then.status(400).header("content-type", "application/json").json_body(json!({"error": "invalid_request"}));
        })
        .await;
    web.import(
        TokenSet::new(AccessToken::new("at-secret-1").with_expiry(clock.now() + Duration::from_secs(HOUR)))
            .with_refresh_token("rt-secret-1"),
    );
    let revoke_error = web.revoke().await.unwrap_err();

    let pkce = pkce_app(&server, &clock).build().unwrap();
    let (request, verifier) = pkce.authorization_url();
    shown.extend([format!("{pkce:?}"), format!("{request:?}"), format!("{verifier:?}")]);

    let s2s_server = MockServer::start_async().await;
    s2s_server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH);
            then.status(429).header("retry-after", "5");
        })
        .await;
    let s2s_auth = s2s(&s2s_server, &clock).build().unwrap();
    let rate_limited = s2s_auth.token().await.unwrap_err();
    shown.push(format!("{s2s_auth:?}"));

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let offline = ImsServerToServer::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .ims_base_url(format!("http://{address}"))
        .build()
        .unwrap();
    let network = offline.token().await.unwrap_err();
    let config = ImsWebApp::builder().client_id(CLIENT_ID).client_secret(CLIENT_SECRET).build().unwrap_err();

    assert!(matches!(sign_in_again, AuthError::SignInAgain { .. }));
    assert!(matches!(revoke_error, AuthError::Rejected { .. }));
    assert!(matches!(rate_limited, AuthError::RateLimited { .. }));
    assert!(matches!(network, AuthError::Network(_)));
    for error in [&sign_in_again, &revoke_error, &rate_limited, &network] {
        shown.push(format!("{error:?}"));
        shown.push(format!("{error}"));
    }
    shown.push(format!("{config:?} {config}"));
    let logs = logs.lock().unwrap().clone();
    assert!(logs.contains("new token issued"), "the subscriber saw the provider's events: {logs}");
    assert!(logs.contains("token renewal failed"), "{logs}");
    shown.push(logs);

    for text in &shown {
        for secret in secrets.iter().copied().chain([verifier.expose_secret()]) {
            assert!(!text.contains(secret), "`{secret}` leaked in: {text}");
        }
    }
}

/// Sends a GET to the loopback listener, as the user's browser would, and
/// returns the status. (A client of the test's own, so the crate's TLS
/// provider is installed as an app building one would.)
async fn visit(url: &str) -> u16 {
    frameio_ext::tls::install_default_provider();
    reqwest::get(url).await.unwrap().status().as_u16()
}

#[tokio::test]
async fn loopback_redirect_checks_the_state_and_returns_the_code_over_http() {
    let redirect = LoopbackRedirect::bind(0).await.unwrap();
    let uri = redirect.redirect_uri().to_owned();
    assert!(uri.starts_with("http://127.0.0.1:") && uri.ends_with("/callback"), "{uri}");

    let waiting = tokio::spawn(async move { redirect.wait_for_code("state-123").await });
    let origin = uri.trim_end_matches("/callback");
    assert_eq!(visit(&format!("{origin}/favicon.ico")).await, 404);
    assert_eq!(visit(&format!("{uri}?code=forged&state=other")).await, 400);
    assert_eq!(visit(&format!("{uri}?code=forged")).await, 400);
    assert!(!waiting.is_finished(), "bad requests do not end the wait");
    assert_eq!(visit(&format!("{uri}?code=code-789&state=state-123")).await, 200);

    let code = waiting.await.unwrap().unwrap();
    assert_eq!(code.expose_secret(), "code-789");
}

#[tokio::test]
async fn loopback_redirect_reports_a_denied_sign_in() {
    let redirect = LoopbackRedirect::bind(0).await.unwrap();
    let uri = redirect.redirect_uri().to_owned();
    let waiting = tokio::spawn(async move { redirect.wait_for_code("s").await });

    let denied = format!("{uri}?error=access_denied&error_description=User+declined&state=s");
    assert_eq!(visit(&denied).await, 200);

    match waiting.await.unwrap() {
        Err(LoopbackError::Denied { error, description }) => {
            assert_eq!(error, "access_denied");
            assert_eq!(description.as_deref(), Some("User declined"));
        }
        other => panic!("expected Denied, got {other:?}"),
    }
}
