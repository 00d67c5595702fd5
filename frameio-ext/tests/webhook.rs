//! Request signatures (`frameio_ext::signature`: the verifier, its replay cache
//! and its properties) and typed webhook events (`frameio_ext::webhook`),
//! against the Frame.io webhooks guide (`docs/guides/webhooks.txt`, a
//! single-line file: sources are given as section and byte offset).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use frameio_ext::signature::{DEFAULT_TOLERANCE, SIGNATURE_HEADER, TIMESTAMP_HEADER, Verifier, VerifyError};
use frameio_ext::webhook::{EventType, IdRef, Resource, WebhookEvent};
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
fn uppercase_hex_signature_is_malformed() {
    // Frame.io sends lower case, and the guide's own check compares strings.
    let upper = format!("v0={}", SIGNATURE[3..].to_uppercase());
    let err = verifier().verify_at(&headers("1604004499", &upper), BODY, at(TIMESTAMP)).unwrap_err();
    assert!(matches!(err, VerifyError::MalformedSignature), "{err:?}");
    assert!(err.to_string().contains("lower-case"), "{err}");
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
    assert!(message.contains("301s") && message.contains("VerifierBuilder::tolerance"), "{message}");
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
    let verifier = Verifier::builder(SECRET).tolerance(Duration::from_secs(10)).build();
    assert_eq!(verifier.tolerance(), Duration::from_secs(10));
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
    let builder = Verifier::builder("hunter2-very-secret").replay_cache(8);
    let builder_debug = format!("{builder:?}");
    let verifier = builder.build();
    verifier.verify_at(&vector_headers(), BODY, at(TIMESTAMP)).unwrap_err();
    for debug in [builder_debug, format!("{verifier:?}"), format!("{:?}", Verifier::new("hunter2-very-secret"))] {
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("[redacted]"), "{debug}");
    }
    assert!(format!("{verifier:?}").contains("capacity: 8"), "{verifier:?}");
}

#[test]
fn duplicate_headers_are_rejected_and_named() {
    for name in [TIMESTAMP_HEADER, SIGNATURE_HEADER] {
        // Even an identical second value: which one a proxy reads is unknown.
        let mut twice = vector_headers();
        let value = twice[name].clone();
        twice.append(name, value);
        let err = verifier().verify_at(&twice, BODY, at(TIMESTAMP)).unwrap_err();
        assert!(matches!(err, VerifyError::DuplicateHeader { name: n } if n == name), "{name}: {err:?}");
        assert!(err.to_string().contains(name), "{err}");

        let mut other = vector_headers();
        other.append(name, HeaderValue::from_static("1604004500"));
        let err = verifier().verify_at(&other, BODY, at(TIMESTAMP)).unwrap_err();
        assert!(matches!(err, VerifyError::DuplicateHeader { name: n } if n == name), "{name}: {err:?}");
    }
}

#[test]
fn oversized_headers_are_rejected_before_decoding() {
    let long_signature = format!("{SIGNATURE}{}", "0".repeat(10_000));
    let err = verifier().verify_at(&headers("1604004499", &long_signature), BODY, at(TIMESTAMP)).unwrap_err();
    assert!(matches!(err, VerifyError::MalformedSignature), "{err:?}");

    let long_timestamp = "1".repeat(10_000);
    let err = verifier().verify_at(&headers(&long_timestamp, SIGNATURE), BODY, at(TIMESTAMP)).unwrap_err();
    match &err {
        // The error repeats only the start of what it was sent.
        VerifyError::MalformedTimestamp { value } => assert_eq!(value, &"1".repeat(32)),
        other => panic!("expected MalformedTimestamp, got {other:?}"),
    }
    assert!(err.to_string().len() < 200, "{err}");
}

#[test]
fn extreme_timestamps_are_typed_errors() {
    let verifier = verifier();
    for (timestamp, now) in [(u64::MAX, TIMESTAMP), (0, TIMESTAMP), (u64::MAX, 0), (TIMESTAMP, 0)] {
        let headers = headers(&timestamp.to_string(), &verifier.sign(timestamp, BODY));
        match verifier.verify_at(&headers, BODY, at(now)).unwrap_err() {
            VerifyError::Future { ahead, .. } => assert_eq!(ahead, Duration::from_secs(timestamp - now)),
            VerifyError::Stale { age, .. } => assert_eq!(age, Duration::from_secs(now - timestamp)),
            other => panic!("{timestamp} at {now}: {other:?}"),
        }
    }
    // A clock before 1970 counts as 0.
    let before_epoch = UNIX_EPOCH - Duration::from_secs(10);
    let err = verifier.verify_at(&vector_headers(), BODY, before_epoch).unwrap_err();
    assert!(matches!(err, VerifyError::Future { ahead, .. } if ahead == Duration::from_secs(TIMESTAMP)), "{err:?}");
    // The widest window and the latest timestamp: the cache's closing time saturates.
    let lenient = Verifier::builder(SECRET).tolerance(Duration::MAX).replay_cache(4).build();
    let latest = headers(&u64::MAX.to_string(), &lenient.sign(u64::MAX, BODY));
    lenient.verify_at(&latest, BODY, at(0)).unwrap();
    let replay = lenient.verify_at(&latest, BODY, at(TIMESTAMP)).unwrap_err();
    assert!(matches!(replay, VerifyError::Replay), "{replay:?}");
}

#[test]
fn documented_example_payload_parses() {
    let event: WebhookEvent = serde_json::from_str(DOC_PAYLOAD).unwrap();
    assert_eq!(
        event,
        WebhookEvent {
            r#type: EventType::FileReady,
            resource: Resource::new("d3075547-4e64-45f0-ad12-d075660eddd2", "file"),
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
    IdRef::new(id)
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

#[test]
fn unknown_members_are_kept_at_every_level() {
    // The guide's example, with a member Frame.io sends today (`user.adobe_auth_id`, for users
    // signed in with an Adobe ID) and an unknown one in every object.
    let payload = json!({
        "type": "file.ready",
        "resource": {"id": "d3075547", "type": "file", "parent": {"id": "f1", "type": "folder"}},
        "account": {"id": "6f70f1bd", "plan": "team"},
        "workspace": {"id": "378fcbf7", "name": "Post"},
        "project": {"id": "7e46e495", "tags": ["a", {"b": null}]},
        "user": {"id": "56556a3f", "adobe_auth_id": "0123ABCD@AdobeID"},
        "event_id": "e-1",
    });
    let event: WebhookEvent = serde_json::from_value(payload.clone()).unwrap();
    assert_eq!(event.resource.extra["parent"], json!({"id": "f1", "type": "folder"}));
    let extra = |object: &Option<IdRef>, key: &str| object.as_ref().unwrap().extra[key].clone();
    assert_eq!(extra(&event.account, "plan"), json!("team"));
    assert_eq!(extra(&event.workspace, "name"), json!("Post"));
    assert_eq!(extra(&event.project, "tags"), json!(["a", {"b": null}]));
    assert_eq!(extra(&event.user, "adobe_auth_id"), json!("0123ABCD@AdobeID"));
    assert_eq!(event.user.as_ref().unwrap().id, "56556a3f");
    assert_eq!(event.extra["event_id"], json!("e-1"));
    assert_eq!(serde_json::to_value(&event).unwrap(), payload);
    // From the wire text too, as a receiver decodes it.
    let reparsed: WebhookEvent = serde_json::from_str(&payload.to_string()).unwrap();
    assert_eq!(reparsed, event);
}

mod replay {
    //! The optional seen-signature cache.

    use std::collections::HashMap;
    use std::sync::Arc;

    use super::*;

    const WINDOW: Duration = Duration::from_secs(10);

    fn cached(capacity: usize) -> Verifier {
        Verifier::builder(SECRET).tolerance(WINDOW).replay_cache(capacity).build()
    }

    /// A distinct signed request: `n` in the body, signed at `timestamp`.
    fn request(verifier: &Verifier, n: usize, timestamp: u64) -> (HeaderMap, Vec<u8>) {
        let body = format!(r#"{{"type":"file.ready","n":{n}}}"#).into_bytes();
        (headers(&timestamp.to_string(), &verifier.sign(timestamp, &body)), body)
    }

    #[test]
    fn a_signed_request_is_accepted_once() {
        let verifier = cached(16);
        assert_eq!(verifier.replay_cache_len(), Some(0));
        verifier.verify_at(&vector_headers(), BODY, at(TIMESTAMP)).unwrap();
        for later in [0, 1, 10] {
            let err = verifier.verify_at(&vector_headers(), BODY, at(TIMESTAMP + later)).unwrap_err();
            assert!(matches!(err, VerifyError::Replay), "{later}s later: {err:?}");
            assert!(err.to_string().contains("replay"), "{err}");
        }
        let err = verifier.verify_and_parse_at::<Value>(&vector_headers(), BODY, at(TIMESTAMP)).unwrap_err();
        assert!(matches!(err, VerifyError::Replay), "{err:?}");
        assert_eq!(verifier.replay_cache_len(), Some(1));

        // The same body signed at another time is another delivery.
        let retry = headers("1604004500", &verifier.sign(TIMESTAMP + 1, BODY));
        verifier.verify_at(&retry, BODY, at(TIMESTAMP + 1)).unwrap();
        // Rejected requests are not recorded.
        let forged = Verifier::new("forger");
        let err = verifier.verify_at(&headers("1604004499", &forged.sign(TIMESTAMP, b"{}")), b"{}", at(TIMESTAMP));
        assert!(matches!(err, Err(VerifyError::Mismatch)), "{err:?}");
        assert_eq!(verifier.replay_cache_len(), Some(2));
    }

    #[test]
    fn without_a_cache_a_request_verifies_every_time() {
        let verifier = verifier();
        assert_eq!(verifier.replay_cache_len(), None);
        for _ in 0..3 {
            verifier.verify_at(&vector_headers(), BODY, at(TIMESTAMP)).unwrap();
        }
    }

    #[test]
    fn clones_share_one_cache() {
        let verifier = cached(4);
        let clone = verifier.clone();
        verifier.verify_at(&vector_headers(), BODY, at(TIMESTAMP)).unwrap();
        let err = clone.verify_at(&vector_headers(), BODY, at(TIMESTAMP)).unwrap_err();
        assert!(matches!(err, VerifyError::Replay), "{err:?}");
        assert_eq!(clone.replay_cache_len(), Some(1));
    }

    #[test]
    fn after_the_window_the_entry_is_forgotten_and_the_timestamp_check_takes_over() {
        let verifier = cached(1);
        verifier.verify_at(&vector_headers(), BODY, at(TIMESTAMP)).unwrap();
        // The last second of the window: still remembered.
        let err = verifier.verify_at(&vector_headers(), BODY, at(TIMESTAMP + 10)).unwrap_err();
        assert!(matches!(err, VerifyError::Replay), "{err:?}");
        // Full: a new request in the same window is not let in by forgetting the first.
        let (second, body) = request(&verifier, 2, TIMESTAMP + 10);
        let err = verifier.verify_at(&second, &body, at(TIMESTAMP + 10)).unwrap_err();
        assert!(matches!(err, VerifyError::ReplayCacheFull { capacity: 1 }), "{err:?}");
        assert!(err.to_string().contains("503"), "{err}");

        // One second later the first request is stale, so its entry can go...
        let err = verifier.verify_at(&vector_headers(), BODY, at(TIMESTAMP + 11)).unwrap_err();
        assert!(matches!(err, VerifyError::Stale { .. }), "{err:?}");
        // ...and a new request (Frame.io's retry of the one refused above) is accepted again.
        let (retry, body) = request(&verifier, 2, TIMESTAMP + 11);
        verifier.verify_at(&retry, &body, at(TIMESTAMP + 11)).unwrap();
        assert_eq!(verifier.replay_cache_len(), Some(1));
        let err = verifier.verify_at(&retry, &body, at(TIMESTAMP + 12)).unwrap_err();
        assert!(matches!(err, VerifyError::Replay), "{err:?}");
    }

    #[test]
    fn a_request_signed_ahead_of_local_time_is_remembered_until_its_own_window_closes() {
        let verifier = cached(4);
        let (ahead, body) = request(&verifier, 1, TIMESTAMP + 10);
        verifier.verify_at(&ahead, &body, at(TIMESTAMP)).unwrap();
        // 20 s after it arrived, 10 s after its timestamp: still in its window.
        let err = verifier.verify_at(&ahead, &body, at(TIMESTAMP + 20)).unwrap_err();
        assert!(matches!(err, VerifyError::Replay), "{err:?}");
        let err = verifier.verify_at(&ahead, &body, at(TIMESTAMP + 21)).unwrap_err();
        assert!(matches!(err, VerifyError::Stale { .. }), "{err:?}");
    }

    #[test]
    fn the_capacity_holds_under_ten_times_as_many_distinct_requests() {
        const CAPACITY: usize = 64;

        // All in one window: the first CAPACITY are kept, the rest refused, none forgotten.
        let verifier = cached(CAPACITY);
        let requests: Vec<_> = (0..10 * CAPACITY).map(|n| request(&verifier, n, TIMESTAMP)).collect();
        for (n, (headers, body)) in requests.iter().enumerate() {
            let result = verifier.verify_at(headers, body, at(TIMESTAMP));
            if n < CAPACITY {
                result.unwrap();
            } else {
                assert!(matches!(result, Err(VerifyError::ReplayCacheFull { capacity: CAPACITY })), "{n}: {result:?}");
            }
            assert!(verifier.replay_cache_len().unwrap() <= CAPACITY);
        }
        for (headers, body) in &requests[..CAPACITY] {
            let err = verifier.verify_at(headers, body, at(TIMESTAMP + 1)).unwrap_err();
            assert!(matches!(err, VerifyError::Replay), "{err:?}");
        }

        // A steady 5 requests a second: an 11-second window holds 55, so all are accepted.
        let verifier = cached(CAPACITY);
        for n in 0..10 * CAPACITY {
            let now = TIMESTAMP + (n / 5) as u64;
            let (headers, body) = request(&verifier, n, now);
            verifier.verify_at(&headers, &body, at(now)).unwrap();
            assert!(verifier.replay_cache_len().unwrap() <= CAPACITY);
        }
        assert!(verifier.replay_cache_len().unwrap() >= 50, "{:?}", verifier.replay_cache_len());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_deliveries_of_one_request_are_accepted_exactly_once() {
        const TASKS: usize = 8;
        const REQUESTS: usize = 200;
        let verifier = cached(REQUESTS);
        let requests: Arc<Vec<_>> = Arc::new((0..REQUESTS).map(|n| request(&verifier, n, TIMESTAMP)).collect());
        let start = Arc::new(tokio::sync::Barrier::new(TASKS));
        let tasks: Vec<_> = (0..TASKS)
            .map(|task| {
                let (verifier, requests, start) = (verifier.clone(), requests.clone(), start.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    // Each task walks the requests from a different place, so they collide.
                    let order = (0..REQUESTS).map(|i| (i + task * REQUESTS / TASKS) % REQUESTS);
                    let mut accepted = Vec::new();
                    for n in order {
                        let (headers, body) = &requests[n];
                        match verifier.verify_at(headers, body, at(TIMESTAMP)) {
                            Ok(()) => accepted.push(n),
                            Err(VerifyError::Replay) => {}
                            Err(other) => panic!("request {n}: {other:?}"),
                        }
                    }
                    accepted
                })
            })
            .collect();
        let mut times_accepted = HashMap::new();
        for task in tasks {
            for n in task.await.unwrap() {
                *times_accepted.entry(n).or_insert(0) += 1;
            }
        }
        assert_eq!(times_accepted.len(), REQUESTS);
        assert!(times_accepted.values().all(|&times| times == 1), "{times_accepted:?}");
    }

    #[test]
    fn a_verifier_can_be_shared_across_threads() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        shareable::<Verifier>();
    }

    #[test]
    #[should_panic(expected = "at least one signature")]
    fn a_cache_without_room_is_a_configuration_error() {
        Verifier::builder(SECRET).replay_cache(0);
    }
}

mod properties {
    //! The verifier on arbitrary input: no panics, and exactly the right
    //! requests accepted.

    use proptest::prelude::*;

    use super::*;

    /// A byte string that can be a header value (no control characters but tab).
    fn header_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..max)
            .prop_map(|bytes| bytes.into_iter().filter(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f)).collect())
    }

    /// Timestamp header values, from plausible to hostile.
    fn timestamp_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<u64>().prop_map(|t| t.to_string()),
            Just(u64::MAX.to_string()),
            Just("18446744073709551616".to_owned()),
            "[0-9]{21,300}",
            "-[0-9]{1,25}",
            "\\+[0-9]{1,20}",
            "0{1,30}[0-9]{1,10}",
            "[0-9]{1,10}\\.[0-9]{1,5}",
            "[ -~]{0,40}",
        ]
    }

    fn system_time(secs: u64) -> SystemTime {
        UNIX_EPOCH.checked_add(Duration::from_secs(secs)).unwrap_or(UNIX_EPOCH)
    }

    /// Latest time `SystemTime` can hold on every platform this runs on.
    const LATEST: u64 = i64::MAX as u64 - 1_000_000;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_headers_and_bodies_never_panic_and_never_verify(
            timestamps in proptest::collection::vec(header_bytes(64), 0..3),
            signatures in proptest::collection::vec(header_bytes(100), 0..3),
            body in proptest::collection::vec(any::<u8>(), 0..512),
            now in any::<u64>(),
            cache in any::<bool>(),
        ) {
            let mut headers = HeaderMap::new();
            for (name, values) in [(TIMESTAMP_HEADER, &timestamps), (SIGNATURE_HEADER, &signatures)] {
                for value in values {
                    headers.append(name, HeaderValue::from_bytes(value).unwrap());
                }
            }
            let builder = Verifier::builder(SECRET);
            let verifier = if cache { builder.replay_cache(4).build() } else { builder.build() };
            let result = verifier.verify_at(&headers, &body, system_time(now));
            prop_assert!(result.is_err(), "random headers verified: {headers:?}");
        }

        #[test]
        fn any_timestamp_text_gives_a_typed_answer(text in timestamp_text(), now in 0..LATEST) {
            let verifier = Verifier::builder(SECRET).replay_cache(4).build();
            // Signed correctly whenever the text is a timestamp at all.
            let signature = text.parse::<u64>().map_or_else(|_| SIGNATURE.to_owned(), |t| verifier.sign(t, BODY));
            let Ok(value) = HeaderValue::from_str(&text) else { return Ok(()) };
            let mut headers = headers("0", &signature);
            headers.insert(TIMESTAMP_HEADER, value);
            let canonical = text.parse::<u64>().ok().filter(|t| t.to_string() == text && !text.starts_with('+'));
            match (verifier.verify_at(&headers, BODY, system_time(now)), canonical) {
                (Err(VerifyError::MalformedTimestamp { value }), None) => {
                    prop_assert!(value.len() <= 32 && text.starts_with(value.as_str()), "{value:?}");
                }
                (Ok(()), Some(t)) => prop_assert!(t.abs_diff(now) <= DEFAULT_TOLERANCE.as_secs()),
                (Err(VerifyError::Stale { age, .. }), Some(t)) => {
                    prop_assert!(t < now && age == Duration::from_secs(now - t) && age > DEFAULT_TOLERANCE);
                }
                (Err(VerifyError::Future { ahead, .. }), Some(t)) => {
                    prop_assert!(t > now && ahead == Duration::from_secs(t - now) && ahead > DEFAULT_TOLERANCE);
                }
                // Leading zeros are digits Frame.io could have signed; signed here as the number, they mismatch.
                (Err(VerifyError::Mismatch), None) => prop_assert!(text.starts_with('0') && text.len() > 1),
                (other, canonical) => prop_assert!(false, "{text:?} ({canonical:?}) at {now}: {other:?}"),
            }
        }

        #[test]
        fn a_correct_signature_verifies_once(
            secret in "[ -~]{1,64}",
            timestamp in 0..LATEST,
            skew in -300i64..=300,
            body in proptest::collection::vec(any::<u8>(), 0..2048),
        ) {
            let signer = Verifier::new(secret.clone());
            let verifier = Verifier::builder(secret).replay_cache(1).build();
            let headers = headers(&timestamp.to_string(), &signer.sign(timestamp, &body));
            let now = system_time(timestamp.saturating_add_signed(skew));
            verifier.verify_at(&headers, &body, now).unwrap();
            prop_assert!(matches!(verifier.verify_at(&headers, &body, now), Err(VerifyError::Replay)));
        }

        #[test]
        fn any_single_byte_change_fails(
            timestamp in 0..LATEST,
            body in proptest::collection::vec(any::<u8>(), 1..512),
            part in 0..3usize,
            index in any::<prop::sample::Index>(),
            flip in 1..=255u8,
        ) {
            let verifier = verifier();
            let mut timestamp_text = timestamp.to_string().into_bytes();
            let mut signature = verifier.sign(timestamp, &body).into_bytes();
            let mut body = body;
            let changed = match part {
                0 => &mut body,
                1 => &mut timestamp_text,
                _ => &mut signature,
            };
            let i = index.index(changed.len());
            changed[i] ^= flip;
            let (Ok(timestamp_value), Ok(signature_value)) =
                (HeaderValue::from_bytes(&timestamp_text), HeaderValue::from_bytes(&signature))
            else {
                // A control character: no such header arrives.
                return Ok(());
            };
            let mut headers = HeaderMap::new();
            headers.insert(TIMESTAMP_HEADER, timestamp_value);
            headers.insert(SIGNATURE_HEADER, signature_value);
            let result = verifier.verify_at(&headers, &body, system_time(timestamp));
            prop_assert!(
                matches!(
                    result,
                    Err(VerifyError::Mismatch | VerifyError::MalformedSignature | VerifyError::MalformedTimestamp { .. })
                ),
                "part {part}, byte {i} ^ {flip}: {result:?}"
            );
        }

        #[test]
        fn signatures_longer_than_any_valid_one_are_malformed(extra in "[0-9a-f]{1,4096}") {
            let signature = format!("{SIGNATURE}{extra}");
            let result = verifier().verify_at(&headers("1604004499", &signature), BODY, at(TIMESTAMP));
            prop_assert!(matches!(result, Err(VerifyError::MalformedSignature)), "{result:?}");
        }
    }
}

mod over_http {
    //! The axum example's flow, end to end: a real server verifying requests
    //! sent over TCP.

    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    use frameio_ext::signature::{Verifier, VerifyError};
    use frameio_ext::webhook::WebhookEvent;

    use super::{DOC_PAYLOAD, SECRET};

    async fn receive(State(verifier): State<Verifier>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
        match verifier.verify_and_parse::<WebhookEvent>(&headers, &body) {
            Ok(event) => (StatusCode::OK, event.r#type.to_string()),
            Err(err @ VerifyError::Payload(_)) => (StatusCode::BAD_REQUEST, err.to_string()),
            Err(err) => (StatusCode::UNAUTHORIZED, err.to_string()),
        }
    }

    async fn post_signed(url: &str, body: &'static str, signed_body: &str) -> (u16, String) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        deliver(url, body, now, &Verifier::new(SECRET).sign(now, signed_body.as_bytes())).await
    }

    async fn deliver(url: &str, body: &'static str, timestamp: u64, signature: &str) -> (u16, String) {
        frameio_ext::tls::install_default_provider();
        let response = reqwest::Client::new()
            .post(url)
            .header("X-Frameio-Request-Timestamp", timestamp.to_string())
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
        let verifier = Verifier::builder(SECRET).replay_cache(16).build();
        let app = Router::new().route("/webhook", post(receive)).with_state(verifier);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });

        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let signature = Verifier::new(SECRET).sign(now, DOC_PAYLOAD.as_bytes());
        assert_eq!(deliver(&url, DOC_PAYLOAD, now, &signature).await, (200, "file.ready".to_owned()));
        let (status, message) = deliver(&url, DOC_PAYLOAD, now, &signature).await;
        assert_eq!(status, 401, "{message}");
        assert!(message.contains("replay"), "{message}");

        let (status, message) = post_signed(&url, DOC_PAYLOAD, "{}").await;
        assert_eq!(status, 401, "{message}");
        assert!(message.contains("does not match"), "{message}");
    }
}
