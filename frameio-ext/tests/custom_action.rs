//! Custom-action payloads and responses, against the Frame.io custom actions
//! guide (`docs/guides/custom_actions.txt`, a single-line file: sources are
//! given as section and byte offset).

use std::time::{Duration, UNIX_EPOCH};

use frameio_ext::custom_action::{ActionRequest, ActionResponse, Form, FormField, Message, SelectOption};
use frameio_ext::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, Verifier, VerifyError};
use frameio_ext::webhook::{IdRef, Resource};
use http::HeaderMap;
use serde_json::{Value, json};

/// "Payload From Frame.io", multi-asset payload (byte 6843).
const MULTI_ASSET: &str = r#"{ "account_id": "1a94720e-f7f5-4c41-ab62-d11eebe3d504", "action_id": "0aeb9feb-f8eb-4100-a8c2-b39b66d354ab", "data": { "description": "Pretty cool video.", "title": "Hey there!" }, "interaction_id": "985559de-865a-40e5-a687-2bbed4497eaa", "project": { "id": "3e34e7cb-5c21-49f5-8ca9-a1419584c2ea" }, "resources": [ { "id": "fe41c5a8-1b8d-417d-a7df-0b88bc19b476", "type": "file" }, { "id": "fe81fb2b-1316-4a76-9cf6-0630f474fc39", "type": "file" } ], "type": "some.event", "user": { "id": "68093c1c-4b05-41ce-a3c9-e64d195b1935" }, "workspace": { "id": "629086c0-f6aa-4d63-a284-f39bcd415b9f" } }"#;

/// "Payload From Frame.io", legacy single-resource payload (byte 7463).
const SINGLE_ASSET: &str = r#"{ "account_id": "1a94720e-f7f5-4c41-ab62-d11eebe3d504", "action_id": "0e38b93a-9f10-4bc7-90bc-bd07a16e510a", "data": { "description": "Wow look at this.", "title": "Hey there!!" }, "interaction_id": "dff6d369-7150-41f9-8e6f-4f0895f6b416", "project": { "id": "3e34e7cb-5c21-49f5-8ca9-a1419584c2ea" }, "resource": { "id": "fe81fb2b-1316-4a76-9cf6-0630f474fc39", "type": "file" }, "type": "some.event", "user": { "id": "68093c1c-4b05-41ce-a3c9-e64d195b1935" }, "workspace": { "id": "629086c0-f6aa-4d63-a284-f39bcd415b9f" } }"#;

/// "Create a Form Callback", the submitted form's payload (byte 11436).
const FORM_SUBMISSION: &str = r#"{ "type": "your-specified-event-name", "interaction_id": "the-same-id-as-before", "action_id": "unique-id-for-this-custom-action", "data":{ "title": "MyVideo.mp4", "captions": "off" } }"#;

fn parse(json: &str) -> ActionRequest {
    serde_json::from_str(json).unwrap()
}

fn value(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

fn id(id: &str) -> IdRef {
    IdRef::new(id)
}

fn file(id: &str) -> Resource {
    Resource::new(id, "file")
}

#[test]
fn multi_asset_payload_parses() {
    let request = parse(MULTI_ASSET);
    assert_eq!(request.r#type, "some.event");
    assert_eq!(request.action_id, "0aeb9feb-f8eb-4100-a8c2-b39b66d354ab");
    assert_eq!(request.interaction_id, "985559de-865a-40e5-a687-2bbed4497eaa");
    assert_eq!(request.account_id.as_deref(), Some("1a94720e-f7f5-4c41-ab62-d11eebe3d504"));
    assert_eq!(request.resource, None);
    let both = [file("fe41c5a8-1b8d-417d-a7df-0b88bc19b476"), file("fe81fb2b-1316-4a76-9cf6-0630f474fc39")];
    assert_eq!(request.resources.as_deref(), Some(&both[..]));
    assert_eq!(request.targets(), &both[..]);
    assert_eq!(request.user, Some(id("68093c1c-4b05-41ce-a3c9-e64d195b1935")));
    assert_eq!(request.workspace, Some(id("629086c0-f6aa-4d63-a284-f39bcd415b9f")));
    assert_eq!(request.project, Some(id("3e34e7cb-5c21-49f5-8ca9-a1419584c2ea")));
    assert_eq!(request.form_value("title"), Some("Hey there!"));
    assert_eq!(request.form_value("description"), Some("Pretty cool video."));
    assert!(request.extra.is_empty(), "{:?}", request.extra);
}

#[test]
fn legacy_single_asset_payload_parses() {
    let request = parse(SINGLE_ASSET);
    assert_eq!(request.action_id, "0e38b93a-9f10-4bc7-90bc-bd07a16e510a");
    assert_eq!(request.resources, None);
    let one = file("fe81fb2b-1316-4a76-9cf6-0630f474fc39");
    assert_eq!(request.resource.as_ref(), Some(&one));
    assert_eq!(request.targets(), std::slice::from_ref(&one));
    assert_eq!(request.form_value("title"), Some("Hey there!!"));
}

#[test]
fn form_submission_payload_parses_with_the_same_interaction_id() {
    let request = parse(FORM_SUBMISSION);
    assert_eq!(request.r#type, "your-specified-event-name");
    assert_eq!(request.interaction_id, "the-same-id-as-before");
    assert_eq!(request.action_id, "unique-id-for-this-custom-action");
    assert_eq!(request.form_value("title"), Some("MyVideo.mp4"));
    assert_eq!(request.form_value("captions"), Some("off"));
    assert_eq!(request.form_value("missing"), None);
    assert_eq!(request.account_id, None);
    assert_eq!(request.user, None);
    assert!(request.targets().is_empty());
}

#[test]
fn documented_payloads_reserialise_unchanged() {
    for json in [MULTI_ASSET, SINGLE_ASSET, FORM_SUBMISSION] {
        assert_eq!(serde_json::to_value(parse(json)).unwrap(), value(json));
    }
}

#[test]
fn unknown_fields_are_kept() {
    // The guide's field table names a `project_id` the examples do not carry.
    let mut payload = value(SINGLE_ASSET);
    payload["project_id"] = json!("3e34e7cb-5c21-49f5-8ca9-a1419584c2ea");
    let request: ActionRequest = serde_json::from_value(payload.clone()).unwrap();
    assert_eq!(request.extra["project_id"], json!("3e34e7cb-5c21-49f5-8ca9-a1419584c2ea"));
    assert_eq!(serde_json::to_value(&request).unwrap(), payload);
}

#[test]
fn unknown_nested_members_are_kept_at_every_level() {
    let mut payload = value(MULTI_ASSET);
    payload["resources"][0]["name"] = json!("A001_C002.mov");
    payload["resources"][1]["version_stack"] = json!({"id": "vs-1", "head": true});
    payload["user"]["adobe_auth_id"] = json!("0123ABCD@AdobeID");
    payload["workspace"]["name"] = json!("Post");
    payload["project"]["root_folder_id"] = json!("rf-1");
    payload["data"]["unlisted_field"] = json!(["kept", 1, null]);
    payload["team"] = json!({"id": "t-1"});
    let request: ActionRequest = serde_json::from_value(payload.clone()).unwrap();
    let resources = request.resources.as_deref().unwrap();
    assert_eq!(resources[0].extra["name"], json!("A001_C002.mov"));
    assert_eq!(resources[1].extra["version_stack"], json!({"id": "vs-1", "head": true}));
    assert_eq!(request.user.as_ref().unwrap().extra["adobe_auth_id"], json!("0123ABCD@AdobeID"));
    assert_eq!(request.workspace.as_ref().unwrap().extra["name"], json!("Post"));
    assert_eq!(request.project.as_ref().unwrap().extra["root_folder_id"], json!("rf-1"));
    assert_eq!(request.data.as_ref().unwrap()["unlisted_field"], json!(["kept", 1, null]));
    assert_eq!(request.extra["team"], json!({"id": "t-1"}));
    assert_eq!(serde_json::to_value(&request).unwrap(), payload);

    // The legacy single `resource` keeps its unknown members too.
    let mut legacy = value(SINGLE_ASSET);
    legacy["resource"]["name"] = json!("A001_C002.mov");
    let request: ActionRequest = serde_json::from_str(&legacy.to_string()).unwrap();
    assert_eq!(request.targets()[0].extra["name"], json!("A001_C002.mov"));
    assert_eq!(serde_json::to_value(&request).unwrap(), legacy);
}

#[test]
fn identifiers_are_required() {
    for missing in ["type", "action_id", "interaction_id"] {
        let mut payload = value(FORM_SUBMISSION);
        payload.as_object_mut().unwrap().remove(missing);
        let err = serde_json::from_value::<ActionRequest>(payload).unwrap_err();
        assert!(err.to_string().contains(missing), "{err}");
    }
}

#[test]
fn requests_are_verified_with_the_same_verifier_as_webhooks() {
    const SECRET: &str = "action-signing-secret";
    let timestamp = 1_700_000_000;
    let now = UNIX_EPOCH + Duration::from_secs(timestamp + 5);
    let body = MULTI_ASSET.as_bytes();
    let mut headers = HeaderMap::new();
    headers.insert(TIMESTAMP_HEADER, timestamp.to_string().parse().unwrap());
    headers.insert(SIGNATURE_HEADER, Verifier::new(SECRET).sign(timestamp, body).parse().unwrap());

    let request: ActionRequest = Verifier::new(SECRET).verify_and_parse_at(&headers, body, now).unwrap();
    assert_eq!(request, parse(MULTI_ASSET));

    let err =
        Verifier::new("another-action's-secret").verify_and_parse_at::<ActionRequest>(&headers, body, now).unwrap_err();
    assert!(matches!(err, VerifyError::Mismatch), "{err:?}");
}

#[test]
fn message_serialises_as_documented() {
    // "Create a Message Callback" (byte 10271).
    let documented = r#"{ "title": "Success!", "description": "The thing worked! Nice." }"#;
    let message = Message::new("Success!", "The thing worked! Nice.");
    assert_eq!(serde_json::to_value(&message).unwrap(), value(documented));
    assert_eq!(serde_json::to_value(ActionResponse::from(message)).unwrap(), value(documented));
}

#[test]
fn form_serialises_as_documented() {
    // "Create a Form Callback" (byte 10705).
    let documented = r#"{ "title": "Need some more info!", "description": "Getting ready to submit this file!", "fields": [ { "type": "text", "label": "Title", "name": "title", "value": "MyVideo.mp4" }, { "type": "select", "label": "Captions", "name": "captions", "options": [ { "name": "Off", "value": "off" }, { "name": "On", "value": "on" } ] } ] }"#;
    let form = Form::new("Need some more info!", "Getting ready to submit this file!")
        .field(FormField::text("title", "Title").with_value("MyVideo.mp4"))
        .field(FormField::select(
            "captions",
            "Captions",
            [SelectOption::new("Off", "off"), SelectOption::new("On", "on")],
        ));
    assert_eq!(serde_json::to_value(&form).unwrap(), value(documented));
    assert_eq!(serde_json::to_value(ActionResponse::from(form)).unwrap(), value(documented));
}

#[test]
fn every_field_type_serialises_as_documented() {
    // "Supported Field Types", one example per type.
    let cases = [
        // "Text field" (byte 12536).
        (
            FormField::text("title", "Title").with_value("MyVideo.mp4"),
            r#"{ "type": "text", "label": "Title", "name": "title", "value": "MyVideo.mp4" }"#,
        ),
        // "Text area" (byte 12692).
        (
            FormField::textarea("description", "Description").with_value("This video is really, really popular."),
            r#"{ "type": "textarea", "label": "Description", "name": "description", "value": "This video is really, really popular." }"#,
        ),
        // "Select list" (byte 12888).
        (
            FormField::select("captions", "Captions", [SelectOption::new("Off", "off"), SelectOption::new("On", "on")])
                .with_value("off"),
            r#"{ "type": "select", "label": "Captions", "name": "captions", "value": "off", "options": [ { "name": "Off", "value": "off" }, { "name": "On", "value": "on" } ] }"#,
        ),
        // "Checkbox" (byte 13253).
        (
            FormField::boolean("enabled", "Enabled", false),
            r#"{ "type": "boolean", "name": "enabled", "label": "Enabled", "value": "false" }"#,
        ),
        // "Link" (byte 13406).
        (
            FormField::link("videoLink", "Video Link", "https://www.youtube.com/watch?v=XtX1zv9CEVc"),
            r#"{ "type": "link", "name": "videoLink", "label": "Video Link", "value": "https://www.youtube.com/watch?v=XtX1zv9CEVc" }"#,
        ),
    ];
    for (field, documented) in cases {
        assert_eq!(serde_json::to_value(&field).unwrap(), value(documented));
    }
}

#[test]
fn fields_without_a_value_omit_it() {
    assert_eq!(
        serde_json::to_value(FormField::text("title", "Title")).unwrap(),
        json!({"type": "text", "label": "Title", "name": "title"})
    );
    assert_eq!(
        serde_json::to_value(FormField::boolean("ok", "OK", true)).unwrap(),
        json!({"type": "boolean", "label": "OK", "name": "ok", "value": "true"})
    );
}
