//! Webhook signature checks and typed events, against the Frame.io webhooks
//! guide (`docs/guides/webhooks.txt`, a single-line file: sources are given as
//! section and byte offset).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use frameio_ext::webhook::{
    DEFAULT_TOLERANCE, EventType, IdRef, Resource, SIGNATURE_HEADER, TIMESTAMP_HEADER, Verifier, VerifyError,
    WebhookEvent,
};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

const SECRET: &str = "s3cr3t";
const TIMESTAMP: u64 = 1604004499;
const BODY: &[u8] = br#"{"type":"file.ready"}"#;
const SIGNATURE: &str = "v0=30d49b91e771b36df6ede5f05ecd4ed439aa9f95b06f335fc44fe322faa33326";

/// webhooks.txt, "Webhook Message Payload" > "Example Payload" (byte 6627).
const DOC_PAYLOAD: &str = r#"{ "account": { "id": "6f70f1bd-7e89-4a7e-b4d3-7e576585a181" }, "project": { "id": "7e46e495-4444-4555-8649-bee4d391a997" }, "resource": { "id": "d3075547-4e64-45f0-ad12-d075660eddd2", "type": "file" }, "type": "file.ready", "user": { "id": "56556a3f-859f-4b38-b6c6-e8625b5da8a5" }, "workspace": { "id": "378fcbf7-6f88-4224-8139-6a743ed940b2" } }"#;

/// Every event type the docs list: the guide's tables (webhooks.txt, "Webhook
/// Event Subscriptions") plus `file.copied` and `folder.copied` from the
/// "Create webhook" API reference ("Valid events", 002_ca67f33d460f59c7.txt
/// byte 1146917).
const DOCUMENTED_TYPES: [&str; 30] = [
    "project.created",
    "project.updated",
    "project.deleted",
    "file.created",
    "file.ready",
    "file.updated",
    "file.deleted",
    "file.upload.completed",
    "file.versioned",
    "file.copied",
    "folder.created",
    "folder.updated",
    "folder.deleted",
    "folder.copied",
    "comment.created",
    "comment.updated",
    "comment.deleted",
    "comment.completed",
    "comment.uncompleted",
    "metadata.value.updated",
    "collection.created",
    "collection.updated",
    "collection.deleted",
    "customfield.created",
    "customfield.updated",
    "customfield.deleted",
    "share.created",
    "share.updated",
    "share.deleted",
    "share.viewed",
];

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn headers(timestamp: &str, signature: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(TIMESTAMP_HEADER, HeaderValue::from_str(timestamp).unwrap());
    headers.insert(SIGNATURE_HEADER, HeaderValue::from_str(signature).unwrap());
    headers
}

fn vector_headers() -> HeaderMap {
    headers(&TIMESTAMP.to_string(), SIGNATURE)
}

fn verifier() -> Verifier {
    Verifier::new(SECRET)
}

#[test]
fn test_vector_verifies() {
    verifier().verify_at(&vector_headers(), BODY, at(TIMESTAMP)).unwrap();
}

#[test]
fn headers_match_case_insensitively_as_frameio_spells_them() {
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_bytes(b"X-Frameio-Request-Timestamp").unwrap(),
        HeaderValue::from_static("1604004499"),
    );
    headers.insert(HeaderName::from_bytes(b"X-Frameio-Signature").unwrap(), HeaderValue::from_static(SIGNATURE));
    verifier().verify_at(&headers, BODY, at(TIMESTAMP)).unwrap();
}

#[test]
fn sign_reproduces_the_test_vector() {
    assert_eq!(verifier().sign(TIMESTAMP, BODY), SIGNATURE);
}

#[test]
fn tampered_body_is_a_mismatch() {
    let err = verifier().verify_at(&vector_headers(), br#"{"type":"file.deleted"}"#, at(TIMESTAMP)).unwrap_err();
    assert!(matches!(err, VerifyError::Mismatch), "{err:?}");
}

#[test]
fn reencoded_body_is_a_mismatch() {
    // Same JSON value, different bytes: verification must use the raw body.
    let err = verifier().verify_at(&vector_headers(), br#"{ "type": "file.ready" }"#, at(TIMESTAMP)).unwrap_err();
    assert!(matches!(err, VerifyError::Mismatch), "{err:?}");
}

#[test]
fn wrong_secret_is_a_mismatch() {
    let err = Verifier::new("not-the-secret").verify_at(&vector_headers(), BODY, at(TIMESTAMP)).unwrap_err();
    assert!(matches!(err, VerifyError::Mismatch), "{err:?}");
    assert!(err.to_string().contains("secret"), "{err}");
}

#[test]
fn timestamp_is_part_of_the_signed_message() {
    // A replayed signature with a refreshed timestamp must not pass.
    let later = TIMESTAMP + 600;
    let err = verifier().verify_at(&headers(&later.to_string(), SIGNATURE), BODY, at(later)).unwrap_err();
    assert!(matches!(err, VerifyError::Mismatch), "{err:?}");
}

#[test]
fn uppercase_hex_signature_verifies() {
    let upper = format!("v0={}", SIGNATURE[3..].to_uppercase());
    verifier().verify_at(&headers("1604004499", &upper), BODY, at(TIMESTAMP)).unwrap();
}

#[test]
fn default_window_is_five_minutes() {
    assert_eq!(DEFAULT_TOLERANCE, Duration::from_secs(300));
    assert_eq!(verifier().tolerance(), DEFAULT_TOLERANCE);
}

#[test]
fn stale_timestamp_just_inside_the_window_is_accepted() {
    verifier().verify_at(&vector_headers(), BODY, at(TIMESTAMP + 300)).unwrap();
}

#[test]
fn stale_timestamp_just_outside_the_window_is_rejected_with_its_age() {
    let err = verifier().verify_at(&vector_headers(), BODY, at(TIMESTAMP + 301)).unwrap_err();
    match &err {
        VerifyError::Stale { age, tolerance } => {
            assert_eq!(*age, Duration::from_secs(301));
            assert_eq!(*tolerance, DEFAULT_TOLERANCE);
        }
        other => panic!("expected Stale, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("301s") && message.contains("with_tolerance"), "{message}");
}

#[test]
fn sub_second_clock_does_not_push_a_request_out_of_the_window() {
    let now = at(TIMESTAMP + 300) + Duration::from_millis(999);
    verifier().verify_at(&vector_headers(), BODY, now).unwrap();
}

#[test]
fn future_timestamp_just_inside_the_window_is_accepted() {
    verifier().verify_at(&vector_headers(), BODY, at(TIMESTAMP - 300)).unwrap();
}

#[test]
fn future_timestamp_just_outside_the_window_is_rejected_with_the_skew() {
    let err = verifier().verify_at(&vector_headers(), BODY, at(TIMESTAMP - 301)).unwrap_err();
    match &err {
        VerifyError::Future { ahead, tolerance } => {
            assert_eq!(*ahead, Duration::from_secs(301));
            assert_eq!(*tolerance, DEFAULT_TOLERANCE);
        }
        other => panic!("expected Future, got {other:?}"),
    }
    assert!(err.to_string().contains("clock"), "{err}");
}

#[test]
fn window_is_configurable() {
    let verifier = verifier().with_tolerance(Duration::from_secs(10));
    verifier.verify_at(&vector_headers(), BODY, at(TIMESTAMP + 10)).unwrap();
    verifier.verify_at(&vector_headers(), BODY, at(TIMESTAMP - 10)).unwrap();
    let stale = verifier.verify_at(&vector_headers(), BODY, at(TIMESTAMP + 11)).unwrap_err();
    assert!(matches!(stale, VerifyError::Stale { .. }), "{stale:?}");
    let future = verifier.verify_at(&vector_headers(), BODY, at(TIMESTAMP - 11)).unwrap_err();
    assert!(matches!(future, VerifyError::Future { .. }), "{future:?}");
}

#[test]
fn forged_stale_request_reports_the_signature_not_the_age() {
    let err = Verifier::new("forger").verify_at(&vector_headers(), BODY, at(TIMESTAMP + 3600)).unwrap_err();
    assert!(matches!(err, VerifyError::Mismatch), "{err:?}");
}

#[test]
fn verify_uses_the_system_clock() {
    // The test vector is from 2020: far outside the window today.
    let err = verifier().verify(&vector_headers(), BODY).unwrap_err();
    assert!(matches!(err, VerifyError::Stale { .. }), "{err:?}");

    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let fresh = headers(&now.to_string(), &verifier().sign(now, BODY));
    verifier().verify(&fresh, BODY).unwrap();
}

#[test]
fn missing_headers_are_named() {
    let mut no_timestamp = vector_headers();
    no_timestamp.remove(TIMESTAMP_HEADER);
    let err = verifier().verify_at(&no_timestamp, BODY, at(TIMESTAMP)).unwrap_err();
    assert!(matches!(err, VerifyError::MissingHeader { name } if name == TIMESTAMP_HEADER), "{err:?}");

    let mut no_signature = vector_headers();
    no_signature.remove(SIGNATURE_HEADER);
    let err = verifier().verify_at(&no_signature, BODY, at(TIMESTAMP)).unwrap_err();
    assert!(matches!(err, VerifyError::MissingHeader { name } if name == SIGNATURE_HEADER), "{err:?}");
    assert!(err.to_string().contains("x-frameio-signature"), "{err}");
}

#[test]
fn malformed_timestamps_are_rejected() {
    for bad in ["", "abc", "+1604004499", "-1604004499", "1604004499.5", " 1604004499", "99999999999999999999999"] {
        let err = verifier().verify_at(&headers(bad, SIGNATURE), BODY, at(TIMESTAMP)).unwrap_err();
        assert!(matches!(&err, VerifyError::MalformedTimestamp { value } if value == bad), "{bad:?}: {err:?}");
    }
}

#[test]
fn non_ascii_timestamp_is_malformed() {
    let mut headers = vector_headers();
    headers.insert(TIMESTAMP_HEADER, HeaderValue::from_bytes("16040044é9".as_bytes()).unwrap());
    let err = verifier().verify_at(&headers, BODY, at(TIMESTAMP)).unwrap_err();
    assert!(matches!(err, VerifyError::MalformedTimestamp { .. }), "{err:?}");
}

#[test]
fn malformed_signatures_are_rejected() {
    let digest = &SIGNATURE[3..];
    for bad in [
        String::new(),
        digest.to_owned(),
        format!("v1={digest}"),
        format!("v0:{digest}"),
        format!("v0={}", &digest[..62]),
        format!("v0={digest}00"),
        format!("v0={}zz", &digest[..62]),
        format!("v0=,{digest}"),
    ] {
        let err = verifier().verify_at(&headers("1604004499", &bad), BODY, at(TIMESTAMP)).unwrap_err();
        assert!(matches!(err, VerifyError::MalformedSignature), "{bad:?}: {err:?}");
    }
}

#[test]
fn debug_never_shows_the_secret() {
    let verifier = Verifier::new("hunter2-very-secret");
    let debug = format!("{verifier:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("[redacted]"), "{debug}");
}

#[test]
fn documented_example_payload_parses() {
    let event: WebhookEvent = serde_json::from_str(DOC_PAYLOAD).unwrap();
    assert_eq!(
        event,
        WebhookEvent {
            r#type: EventType::FileReady,
            resource: Resource { id: "d3075547-4e64-45f0-ad12-d075660eddd2".into(), r#type: "file".into() },
            account: Some(id("6f70f1bd-7e89-4a7e-b4d3-7e576585a181")),
            workspace: Some(id("378fcbf7-6f88-4224-8139-6a743ed940b2")),
            project: Some(id("7e46e495-4444-4555-8649-bee4d391a997")),
            user: Some(id("56556a3f-859f-4b38-b6c6-e8625b5da8a5")),
            extra: Default::default(),
        }
    );
    let original: Value = serde_json::from_str(DOC_PAYLOAD).unwrap();
    assert_eq!(serde_json::to_value(&event).unwrap(), original);
}

fn id(id: &str) -> IdRef {
    IdRef { id: id.into() }
}

#[test]
fn verify_and_parse_returns_the_typed_event() {
    let body = DOC_PAYLOAD.as_bytes();
    let verifier = verifier();
    let headers = headers("1604004499", &verifier.sign(TIMESTAMP, body));
    let event: WebhookEvent = verifier.verify_and_parse_at(&headers, body, at(TIMESTAMP)).unwrap();
    assert_eq!(event.r#type, EventType::FileReady);
    assert_eq!(event.user, Some(id("56556a3f-859f-4b38-b6c6-e8625b5da8a5")));
}

#[test]
fn verify_and_parse_checks_the_signature_before_parsing() {
    let err =
        verifier().verify_and_parse_at::<WebhookEvent>(&vector_headers(), b"not json", at(TIMESTAMP)).unwrap_err();
    assert!(matches!(err, VerifyError::Mismatch), "{err:?}");
}

#[test]
fn authentic_body_that_is_not_an_event_is_a_payload_error() {
    // The test vector's body has no `resource`, which every event carries.
    let err = verifier().verify_and_parse_at::<WebhookEvent>(&vector_headers(), BODY, at(TIMESTAMP)).unwrap_err();
    assert!(matches!(err, VerifyError::Payload(_)), "{err:?}");
    assert!(err.to_string().contains("resource"), "{err}");
}

#[test]
fn verify_error_converts_into_the_crate_error() {
    let err: frameio_ext::Error = VerifyError::Mismatch.into();
    assert!(matches!(err, frameio_ext::Error::Signature(VerifyError::Mismatch)));
    assert_eq!(err.to_string(), VerifyError::Mismatch.to_string());
}

#[test]
fn only_type_and_resource_are_required() {
    let event: WebhookEvent =
        serde_json::from_value(json!({"type": "share.viewed", "resource": {"id": "s1", "type": "share"}})).unwrap();
    assert_eq!(event.r#type, EventType::ShareViewed);
    assert_eq!((event.account, event.workspace, event.project, event.user), (None, None, None, None));
    for missing in ["type", "resource"] {
        let mut payload: Value = serde_json::from_str(DOC_PAYLOAD).unwrap();
        payload.as_object_mut().unwrap().remove(missing);
        let err = serde_json::from_value::<WebhookEvent>(payload).unwrap_err();
        assert!(err.to_string().contains(missing), "{err}");
    }
}

#[test]
fn every_documented_event_type_is_known_and_round_trips() {
    assert_eq!(EventType::KNOWN.len(), DOCUMENTED_TYPES.len());
    for wire in DOCUMENTED_TYPES {
        let parsed: EventType = serde_json::from_value(json!(wire)).unwrap();
        assert!(!matches!(parsed, EventType::Unknown(_)), "{wire} is Unknown");
        assert!(EventType::KNOWN.contains(&parsed), "{wire} missing from KNOWN");
        assert_eq!(parsed.as_str(), wire);
        assert_eq!(parsed.to_string(), wire);
        assert_eq!(serde_json::to_value(&parsed).unwrap(), json!(wire));
        assert_eq!(EventType::from(wire.to_owned()), parsed);
    }
}

#[test]
fn event_type_variants_match_their_wire_names() {
    let pairs = [
        (EventType::FileUploadCompleted, "file.upload.completed"),
        (EventType::MetadataValueUpdated, "metadata.value.updated"),
        (EventType::CustomFieldCreated, "customfield.created"),
        (EventType::CommentUncompleted, "comment.uncompleted"),
        (EventType::FolderCopied, "folder.copied"),
        (EventType::ShareViewed, "share.viewed"),
    ];
    for (variant, wire) in pairs {
        assert_eq!(variant.as_str(), wire);
        assert_eq!(EventType::from(wire), variant);
    }
}

#[test]
fn unknown_event_type_is_kept_and_reserialised_unchanged() {
    let payload = json!({
        "type": "asset.teleported",
        "resource": {"id": "r1", "type": "asset"},
        "account": {"id": "a1"},
        "team": {"id": "t1"},
        "delivered_at": 1604004499,
    });
    let event: WebhookEvent = serde_json::from_value(payload.clone()).unwrap();
    assert_eq!(event.r#type, EventType::Unknown("asset.teleported".into()));
    assert_eq!(event.r#type.as_str(), "asset.teleported");
    assert_eq!(event.extra["team"], json!({"id": "t1"}));
    assert_eq!(serde_json::to_value(&event).unwrap(), payload);
}

mod over_http {
    //! The axum example's flow, end to end: a real server verifying requests
    //! sent over TCP.

    use std::sync::Arc;

    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    use frameio_ext::webhook::{Verifier, VerifyError, WebhookEvent};

    use super::{DOC_PAYLOAD, SECRET};

    async fn receive(State(verifier): State<Arc<Verifier>>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
        match verifier.verify_and_parse::<WebhookEvent>(&headers, &body) {
            Ok(event) => (StatusCode::OK, event.r#type.to_string()),
            Err(err @ VerifyError::Payload(_)) => (StatusCode::BAD_REQUEST, err.to_string()),
            Err(err) => (StatusCode::UNAUTHORIZED, err.to_string()),
        }
    }

    async fn post_signed(url: &str, body: &'static str, signed_body: &str) -> (u16, String) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let signature = Verifier::new(SECRET).sign(now, signed_body.as_bytes());
        let response = reqwest::Client::new()
            .post(url)
            .header("X-Frameio-Request-Timestamp", now.to_string())
            .header("X-Frameio-Signature", signature)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    #[tokio::test]
    async fn signed_request_is_verified_from_the_raw_body() {
        let app = Router::new().route("/webhook", post(receive)).with_state(Arc::new(Verifier::new(SECRET)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });

        assert_eq!(post_signed(&url, DOC_PAYLOAD, DOC_PAYLOAD).await, (200, "file.ready".to_owned()));
        let (status, message) = post_signed(&url, DOC_PAYLOAD, "{}").await;
        assert_eq!(status, 401, "{message}");
        assert!(message.contains("does not match"), "{message}");
    }
}
