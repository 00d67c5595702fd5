//! Property tests of what servers send, through the public API against a
//! local server (axum on 127.0.0.1) that answers whatever the case says: the
//! V4 and C2C error-envelope parsers, the `Retry-After` and `x-ratelimit-*`
//! readings, and pagination over arbitrary cursor graphs and sequences. None
//! may panic; every number is clamped; no listing loops. (The webhook
//! signature verifier's properties are in `webhook.rs`.)

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, Uri};
use axum::response::Response;
use frameio_ext::c2c::{C2cClient, classify, error_kind};
use frameio_ext::pagination::{EMPTY_PAGE_RETRIES, PaginationError};
use frameio_ext::rate_limit::MAX_HINT;
use frameio_ext::{Client, Error, RateLimitStatus, RateLimiting, RetryPolicy};
use futures::StreamExt;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::json;

/// The largest `x-ratelimit-limit` believed (documented on `RateLimitStatus`).
const MAX_LIMIT: u64 = 1_000_000;

fn runner() -> TestRunner {
    TestRunner::new(Config { cases: 256, failure_persistence: None, ..Config::default() })
}

/// A local server answering every request from `answer(state, uri)`, on a
/// runtime of its own that the cases `block_on`.
struct Harness<S> {
    runtime: tokio::runtime::Runtime,
    url: String,
    state: Arc<Mutex<S>>,
}

impl<S: Send + 'static> Harness<S> {
    fn start(initial: S, answer: fn(&mut S, &Uri) -> Response) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let state = Arc::new(Mutex::new(initial));
        let shared = Arc::clone(&state);
        let url = runtime.block_on(async move {
            let handler = move |State(state): State<Arc<Mutex<S>>>, uri: Uri| async move {
                answer(&mut state.lock().unwrap(), &uri)
            };
            let router = Router::new().fallback(handler).with_state(shared);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
            url
        });
        Self { runtime, url, state }
    }

    fn set(&self, state: S) {
        *self.state.lock().unwrap() = state;
    }
}

// ---------------------------------------------------------------------------
// Error answers: status, headers and body as the case says.

#[derive(Debug, Clone, Default)]
struct ErrorAnswer {
    status: u16,
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Vec<u8>,
}

fn answer_error(answer: &mut ErrorAnswer, _: &Uri) -> Response {
    let mut response = Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        response = response.header(HeaderName::from_static(name), HeaderValue::from_bytes(value).unwrap());
    }
    response.body(Body::from(answer.body.clone())).unwrap()
}

/// A header value as a server might send it: a number (in range or not), a
/// date, or arbitrary bytes a header may carry.
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    let valid = |v: &Vec<u8>| HeaderValue::from_bytes(v).is_ok();
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string().into_bytes()),
        (0u64..100_000).prop_map(|n| n.to_string().into_bytes()),
        "[0-9]{19,40}".prop_map(String::into_bytes),
        "-?[0-9]{1,5}(\\.[0-9]{1,3})?".prop_map(String::into_bytes),
        (0u64..4_000_000_000).prop_map(|s| httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(s)).into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..40).prop_filter("a header value", valid),
    ]
}

/// Zero to two of each rate-limit header, in any order.
fn rate_headers() -> impl Strategy<Value = Vec<(&'static str, Vec<u8>)>> {
    let name = prop_oneof![
        Just("retry-after"),
        Just("x-ratelimit-limit"),
        Just("x-ratelimit-remaining"),
        Just("x-ratelimit-window")
    ];
    proptest::collection::vec((name, header_value()), 0..6)
}

/// The one value of `name`, if it was sent exactly once.
fn only<'a>(headers: &'a [(&str, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    let mut values = headers.iter().filter(|(n, _)| *n == name).map(|(_, v)| v.as_slice());
    let first = values.next()?;
    values.next().is_none().then_some(first)
}

/// `value` as the whole number of its text, as the client reads it.
fn number(value: &[u8]) -> Option<u64> {
    std::str::from_utf8(value).ok()?.trim().parse().ok()
}

/// What `Retry-After` and `x-ratelimit-*` must read as, checked on any error
/// the client returned for `headers`.
fn check_rate_readings(error: &Error, headers: &[(&str, Vec<u8>)]) -> Result<(), TestCaseError> {
    let retry_after = error.retry_after();
    prop_assert!(retry_after.is_none_or(|wait| wait <= MAX_HINT), "{retry_after:?}");
    if let Some(seconds) = only(headers, "retry-after").and_then(number) {
        prop_assert_eq!(retry_after, Some(Duration::from_secs(seconds).min(MAX_HINT)));
    }
    let status = error.rate_limit();
    if let Some(status) = status {
        prop_assert!(status.limit().is_none_or(|n| u64::from(n) <= MAX_LIMIT));
        prop_assert!(status.remaining().is_none_or(|n| u64::from(n) <= MAX_LIMIT));
        prop_assert!(status.window().is_none_or(|w| w <= MAX_HINT));
    }
    if let Some(ms) = only(headers, "x-ratelimit-window").and_then(number) {
        prop_assert_eq!(status.and_then(|s| s.window()), Some(Duration::from_millis(ms).min(MAX_HINT)));
    }
    if let Some(limit) = only(headers, "x-ratelimit-limit").and_then(number) {
        prop_assert_eq!(status.and_then(|s| s.limit()).map(u64::from), Some(limit.min(MAX_LIMIT)));
    }
    Ok(())
}

/// A V4 error body: an envelope of arbitrary entries, near-misses, or bytes.
fn v4_body() -> impl Strategy<Value = (Vec<u8>, Option<Vec<String>>)> {
    let text = "\\PC{0,40}";
    let envelope = proptest::collection::vec((text, proptest::option::of(text)), 1..4).prop_map(|entries| {
        let details: Vec<String> = entries.iter().map(|(detail, _)| detail.clone()).collect();
        let errors: Vec<_> = entries
            .into_iter()
            .map(|(detail, title)| json!({"detail": detail, "title": title, "source": {"pointer": "/data/x"}}))
            .collect();
        (serde_json::to_vec(&json!({ "errors": errors })).unwrap(), Some(details))
    });
    prop_oneof![
        envelope,
        proptest::collection::vec(any::<u8>(), 0..2048).prop_map(|body| (body, None)),
        text.prop_map(|t| (format!(r#"{{"errors": "{t}"}}"#).into_bytes(), None)),
        text.prop_map(|t| (format!("<html>{t} access_token=at-5ecre7</html>").into_bytes(), None)),
    ]
}

#[test]
fn any_v4_error_answer_is_a_typed_error_with_clamped_readings() {
    let harness = Harness::start(ErrorAnswer::default(), answer_error);
    let client = Client::builder()
        .base_url(&harness.url)
        .bearer_token("tok-5ecre7")
        .retry_policy(RetryPolicy::none())
        .rate_limiting(RateLimiting::disabled())
        .build()
        .unwrap();
    let cases = (400u16..600, rate_headers(), v4_body());
    runner()
        .run(&cases, |(status, headers, (body, details))| {
            harness.set(ErrorAnswer { status, headers: headers.clone(), body: body.clone() });
            let sent = client.files_show().account_id("a").file_id("f").send();
            let error = harness.runtime.block_on(sent).unwrap_err();
            prop_assert_eq!(error.status().map(|s| s.as_u16()), Some(status), "{:?}", error);
            let api = error.api().expect("an API error");
            match details {
                Some(details) => {
                    prop_assert!(!api.is_synthesized());
                    let got: Vec<&str> = api.errors().iter().map(|e| e.detail.as_str()).collect();
                    prop_assert_eq!(got, details.iter().map(String::as_str).collect::<Vec<_>>());
                }
                None => {
                    prop_assert!(api.is_synthesized(), "{:?}", api);
                    let excerpt = api.body_excerpt().unwrap_or_default();
                    prop_assert!(excerpt.chars().count() <= 256, "{} chars", excerpt.chars().count());
                    prop_assert!(!excerpt.contains("at-5ecre7"), "{}", excerpt);
                }
            }
            let shown = format!("{error} {error:?}");
            prop_assert!(!shown.contains("tok-5ecre7"));
            check_rate_readings(&error, &headers)
        })
        .unwrap();
}

/// A C2C error body: the simple `{"error", "message"}` shape, the detailed
/// `{"errors": [...]}` one, near-misses, or bytes; and the texts a parsed
/// one must show.
fn c2c_body() -> impl Strategy<Value = (Vec<u8>, Option<Vec<String>>)> {
    let text = "\\PC{1,30}";
    let code = prop_oneof![
        Just("authorization_pending".to_string()),
        Just("slow_down".to_string()),
        Just("invalid_grant".to_string()),
        "[a-z_]{1,20}",
    ];
    prop_oneof![
        (code, proptest::option::of(text)).prop_map(|(code, message)| {
            let body = json!({"error": code, "message": message});
            let expected = std::iter::once(code).chain(message).collect();
            (serde_json::to_vec(&body).unwrap(), Some(expected))
        }),
        proptest::collection::vec((text, text), 1..3).prop_map(|entries| {
            let errors: Vec<_> =
                entries.iter().map(|(title, detail)| json!({"title": title, "detail": detail})).collect();
            let expected = entries.into_iter().map(|(_, detail)| detail).collect();
            (serde_json::to_vec(&json!({ "errors": errors })).unwrap(), Some(expected))
        }),
        text.prop_map(|m| (serde_json::to_vec(&json!({ "message": m })).unwrap(), Some(vec![m]))),
        proptest::collection::vec(any::<u8>(), 0..2048).prop_map(|body| (body, None)),
        text.prop_map(|t| (format!(r#"{{"error": 5, "errors": {{"x": "{t}"}}}}"#).into_bytes(), None)),
    ]
}

#[test]
fn any_c2c_error_answer_is_classified_with_clamped_readings() {
    let harness = Harness::start(ErrorAnswer::default(), answer_error);
    let client = C2cClient::builder()
        .base_url(&harness.url)
        .bearer_token("tok-5ecre7")
        .retry_policy(RetryPolicy::none())
        .call_retry_policy(RetryPolicy::none())
        .rate_limiting(RateLimiting::disabled())
        .build()
        .unwrap();
    let cases = (400u16..600, rate_headers(), c2c_body());
    runner()
        .run(&cases, |(status, headers, (body, expected))| {
            harness.set(ErrorAnswer { status, headers: headers.clone(), body: body.clone() });
            let error = harness.runtime.block_on(client.accounts_device_identify().send()).unwrap_err();
            prop_assert_eq!(error.status().map(|s| s.as_u16()), Some(status), "{:?}", error);
            let _ = (classify(&error), error_kind(&error));
            let api = error.api().expect("an API error");
            if let Some(expected) = expected {
                prop_assert!(!api.is_synthesized(), "{:?}", api);
                let shown: Vec<&str> =
                    api.errors().iter().flat_map(|e| [e.detail.as_str(), e.title.as_deref().unwrap_or("")]).collect();
                for text in &expected {
                    prop_assert!(shown.contains(&text.as_str()), "{} not in {:?}", text, shown);
                }
            }
            prop_assert!(api.body_excerpt().unwrap_or_default().chars().count() <= 256);
            check_rate_readings(&error, &headers)
        })
        .unwrap();
}

#[test]
fn rate_limit_headers_never_panic_and_are_clamped() {
    runner()
        .run(&rate_headers(), |headers| {
            let mut map = http::HeaderMap::new();
            for (name, value) in &headers {
                map.append(*name, http::HeaderValue::from_bytes(value).unwrap());
            }
            // The client reads each header's first value.
            let first = |name: &str| headers.iter().find(|(n, _)| *n == name).and_then(|(_, v)| number(v));
            let numbers = ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-window"].map(first);
            let Some(status) = RateLimitStatus::from_headers(&map) else {
                prop_assert_eq!(numbers, [None, None, None]);
                return Ok(());
            };
            let [limit, remaining, window] = numbers;
            prop_assert_eq!(status.limit().map(u64::from), limit.map(|n| n.min(MAX_LIMIT)));
            prop_assert_eq!(status.remaining().map(u64::from), remaining.map(|n| n.min(MAX_LIMIT)));
            prop_assert_eq!(status.window(), window.map(|ms| Duration::from_millis(ms).min(MAX_HINT)));
            prop_assert!(status.limit().is_none_or(|n| u64::from(n) <= MAX_LIMIT));
            prop_assert!(status.remaining().is_none_or(|n| u64::from(n) <= MAX_LIMIT));
            prop_assert!(status.window().is_none_or(|w| w <= MAX_HINT));
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------
// Pagination: a server whose cursors form any graph, or come in any order.

const FILES: &str = "/v4/accounts/a/folders/f/files";

/// What a page says comes next.
#[derive(Debug, Clone, PartialEq)]
enum Next {
    End,
    /// `links.next` with this cursor.
    Cursor(String),
    /// `links.next` without an `after` parameter.
    NoCursor,
}

#[derive(Debug, Clone)]
struct PageAnswer {
    items: usize,
    next: Next,
}

/// How the server picks its answer: by the cursor asked for (a graph, which
/// may have cycles), or by how many requests came before (any sequence).
#[derive(Debug, Clone)]
enum Listing {
    Graph(HashMap<Option<String>, PageAnswer>),
    Script(Vec<PageAnswer>),
}

impl Listing {
    fn answer(&self, after: Option<&str>, nth: usize) -> PageAnswer {
        let last = PageAnswer { items: 0, next: Next::End };
        match self {
            Self::Graph(pages) => pages.get(&after.map(str::to_string)).cloned().unwrap_or(last),
            Self::Script(pages) => pages.get(nth).cloned().unwrap_or(last),
        }
    }
}

#[derive(Debug)]
struct ListingServer {
    listing: Listing,
    requests: usize,
}

fn file(n: usize) -> serde_json::Value {
    json!({
        "type": "file", "id": format!("id-{n}"), "name": format!("f{n}"), "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z", "file_size": 1, "media_type": "image/png", "parent_id": "f",
        "project_id": "p", "status": "uploaded", "view_url": "https://next.frame.io/x"
    })
}

fn answer_page(server: &mut ListingServer, uri: &Uri) -> Response {
    let url = reqwest::Url::parse(&format!("http://local{uri}")).unwrap();
    let after = url.query_pairs().find(|(k, _)| k == "after").map(|(_, v)| v.into_owned());
    let page = server.listing.answer(after.as_deref(), server.requests);
    server.requests += 1;
    let next = match &page.next {
        Next::End => None,
        Next::Cursor(cursor) => {
            let encoded: String = url::form_urlencoded::byte_serialize(cursor.as_bytes()).collect();
            Some(format!("{FILES}?page_size=100&after={encoded}"))
        }
        Next::NoCursor => Some(format!("{FILES}?page_size=100")),
    };
    let body = json!({"data": (0..page.items).map(file).collect::<Vec<_>>(), "links": {"next": next}});
    Response::builder().header("content-type", "application/json").body(Body::from(body.to_string())).unwrap()
}

/// How a listing ends, as the module documentation specifies it.
#[derive(Debug, PartialEq)]
enum Ending {
    Complete,
    Cycle,
    StuckEmptyPage,
    MissingCursor,
}

/// The listing the documented rules follow: (items, requests, ending).
fn expected(listing: &Listing) -> (usize, usize, Ending) {
    let (mut after, mut seen, mut items, mut requests, mut repeats) = (None::<String>, HashSet::new(), 0, 0, 0);
    loop {
        let page = listing.answer(after.as_deref(), requests);
        requests += 1;
        items += page.items;
        let cursor = match page.next {
            Next::End => return (items, requests, Ending::Complete),
            Next::NoCursor => return (items, requests, Ending::MissingCursor),
            Next::Cursor(cursor) => cursor,
        };
        if after.as_deref() == Some(cursor.as_str()) && page.items == 0 {
            repeats += 1;
            if repeats > EMPTY_PAGE_RETRIES {
                return (items, requests, Ending::StuckEmptyPage);
            }
            continue;
        }
        repeats = 0;
        if !seen.insert(cursor.clone()) {
            return (items, requests, Ending::Cycle);
        }
        after = Some(cursor);
    }
}

/// Cursors: arbitrary text (made distinct by a number), a few of them, so
/// that graphs and sequences meet them again.
fn cursors() -> impl Strategy<Value = Vec<String>> {
    ("\\PC{0,8}", 1usize..6).prop_map(|(stem, n)| (0..n).map(|i| format!("{stem}{i}")).collect())
}

fn next_of(cursors: &[String]) -> impl Strategy<Value = Next> + use<> {
    let cursors = cursors.to_vec();
    prop_oneof![
        2 => Just(Next::End),
        8 => proptest::sample::select(cursors).prop_map(Next::Cursor),
        1 => Just(Next::NoCursor),
    ]
}

fn page_of(cursors: &[String]) -> impl Strategy<Value = PageAnswer> + use<> {
    (prop_oneof![1 => Just(0usize), 3 => 1usize..4], next_of(cursors))
        .prop_map(|(items, next)| PageAnswer { items, next })
}

fn listing() -> impl Strategy<Value = Listing> {
    cursors().prop_flat_map(|cursors| {
        let keys: Vec<Option<String>> = std::iter::once(None).chain(cursors.iter().cloned().map(Some)).collect();
        let graph = proptest::collection::vec(page_of(&cursors), keys.len())
            .prop_map(move |pages| Listing::Graph(keys.clone().into_iter().zip(pages).collect()));
        let script = proptest::collection::vec(page_of(&cursors), 1..16).prop_map(Listing::Script);
        prop_oneof![graph, script]
    })
}

#[test]
fn any_cursor_graph_or_sequence_ends_as_documented_without_looping() {
    let harness = Harness::start(ListingServer { listing: Listing::Script(Vec::new()), requests: 0 }, answer_page);
    let client = Client::builder()
        .base_url(&harness.url)
        .bearer_token("t")
        .retry_policy(RetryPolicy::none())
        .rate_limiting(RateLimiting::disabled())
        .build()
        .unwrap();
    runner()
        .run(&listing(), |listing| {
            let (items, requests, ending) = expected(&listing);
            harness.set(ListingServer { listing, requests: 0 });
            let listed = client.files_list().account_id("a").folder_id("f").stream().collect::<Vec<_>>();
            let results = harness
                .runtime
                .block_on(async { tokio::time::timeout(Duration::from_secs(30), listed).await })
                .expect("the listing ended");
            let got_items = results.iter().filter(|r| r.is_ok()).count();
            let errors: Vec<&Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
            let got_ending = match errors[..] {
                [] => Ending::Complete,
                [Error::Pagination(PaginationError::Cycle { .. })] => Ending::Cycle,
                [Error::Pagination(PaginationError::StuckEmptyPage { .. })] => Ending::StuckEmptyPage,
                [Error::Pagination(PaginationError::MissingCursor { .. })] => Ending::MissingCursor,
                _ => return Err(TestCaseError::fail(format!("unexpected errors: {errors:?}"))),
            };
            prop_assert!(results.last().is_some_and(Result::is_err) || got_ending == Ending::Complete);
            prop_assert_eq!((got_items, got_ending), (items, ending));
            prop_assert_eq!(harness.state.lock().unwrap().requests, requests);
            Ok(())
        })
        .unwrap();
}
