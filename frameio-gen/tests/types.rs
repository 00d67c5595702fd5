//! The types the xtask emits itself (open enums, tagged unions, comma lists) decode
//! and encode as the wire demands.

use frameio_gen::v4::types::{AssetInclude, AssetIncludeList, AssetWithIncludes, FileStatus, MetadataField};
use serde_json::{Value, json};

fn file(status: &str) -> Value {
    json!({
        "type": "file", "id": "f1", "name": "a.mov", "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-02T00:00:00Z", "file_size": 10, "media_type": "video/quicktime",
        "parent_id": "p", "project_id": "pr", "status": status, "view_url": "https://next.frame.io/x"
    })
}

#[test]
fn a_union_decodes_on_its_tag_into_the_named_type() {
    let asset: AssetWithIncludes = serde_json::from_value(file("uploaded")).unwrap();
    let AssetWithIncludes::File(f) = &asset else { panic!("decoded as {asset:?}") };
    assert_eq!((f.name.as_str(), asset.tag()), ("a.mov", "file"));
    assert_eq!(serde_json::to_value(&asset).unwrap()["type"], "file");
}

#[test]
fn a_union_reads_an_escaped_tag_key() {
    let text = file("uploaded").to_string().replacen("\"type\"", "\"typ\\u0065\"", 1);
    assert!(matches!(serde_json::from_str::<AssetWithIncludes>(&text).unwrap(), AssetWithIncludes::File(_)));
}

#[test]
fn an_unknown_tag_is_kept_and_re_encoded_unchanged() {
    let playlist = json!({"type": "playlist", "id": "x", "items": [1, 2]});
    let asset: AssetWithIncludes = serde_json::from_value(playlist.clone()).unwrap();
    assert!(matches!(&asset, AssetWithIncludes::Unknown(_)), "{asset:?}");
    assert_eq!(asset.tag(), "playlist");
    assert_eq!(serde_json::to_value(&asset).unwrap(), playlist);
}

#[test]
fn a_known_tag_with_a_bad_body_is_an_error_not_unknown() {
    let mut bad = file("uploaded");
    bad["file_size"] = json!("ten");
    assert!(serde_json::from_value::<AssetWithIncludes>(bad).is_err());
}

#[test]
fn metadata_fields_decode_by_field_type_not_by_shape() {
    // Untagged, `{"value": 4}` matched the number variant first.
    let rating = json!({"field_type": "rating", "field_definition_id": "d", "field_definition_name": "Stars", "mutable": true, "value": 4});
    let field: MetadataField = serde_json::from_value(rating.clone()).unwrap();
    assert!(matches!(field, MetadataField::Rating(_)), "{field:?}");
    assert_eq!(serde_json::to_value(&field).unwrap(), rating);
}

#[test]
fn open_enums_keep_unknown_values() {
    let known: FileStatus = serde_json::from_value(json!("transcoded")).unwrap();
    assert_eq!(known, FileStatus::Transcoded);
    let new: FileStatus = serde_json::from_value(json!("archived")).unwrap();
    assert_eq!(new, FileStatus::Unknown("archived".into()));
    assert_eq!(serde_json::to_value(&new).unwrap(), json!("archived"));
    assert_eq!("uploaded".parse::<FileStatus>().unwrap().to_string(), "uploaded");
}

#[test]
fn a_decoded_file_with_a_new_status_survives() {
    let asset: AssetWithIncludes = serde_json::from_value(file("quarantined")).unwrap();
    let AssetWithIncludes::File(f) = asset else { panic!() };
    assert_eq!(f.status, FileStatus::Unknown("quarantined".into()));
}

#[test]
fn include_lists_are_comma_separated() {
    let list = AssetIncludeList::from([AssetInclude::Creator, AssetInclude::MediaLinksOriginal]);
    assert_eq!(list.to_string(), "creator,media_links.original");
    assert_eq!(serde_json::to_value(&list).unwrap(), json!("creator,media_links.original"));
    assert_eq!(AssetIncludeList::from(AssetInclude::Project).to_string(), "project");
}

#[test]
fn a_variant_error_is_reported_at_the_item_in_the_whole_document() {
    let mut bad = file("uploaded");
    bad.as_object_mut().unwrap().remove("media_type");
    let page = json!({"data": [file("uploaded"), bad]}).to_string();
    let err = serde_json::from_str::<frameio_gen::v4::types::FileAssetsWithIncludesResponse>(&page).unwrap_err();
    assert!(err.to_string().starts_with("missing field `media_type`"), "{err}");
    assert!(!err.to_string().contains("column 2"), "position relative to the item leaked: {err}");
    let second_item_start = page.find("},{").unwrap() + 2;
    assert!(err.column() > second_item_start, "{err} is not within the second item");
}

#[test]
fn a_tag_that_is_not_the_first_member_still_decodes() {
    let mut fields: Vec<(String, Value)> = file("uploaded").as_object().unwrap().clone().into_iter().collect();
    fields.rotate_left(3);
    let text = format!(
        "{{{}}}",
        fields.iter().map(|(k, v)| format!("{}:{v}", Value::from(k.as_str()))).collect::<Vec<_>>().join(",")
    );
    assert!(!text.starts_with("{\"type\""), "{text}");
    let asset: AssetWithIncludes = serde_json::from_str(&text).unwrap();
    let AssetWithIncludes::File(f) = &asset else { panic!("{asset:?}") };
    assert_eq!(f.name, "a.mov");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), serde_json::to_value(&asset).unwrap());
}

/// `{:?}` of a value carrying secrets shows its shape, never the secret.
fn assert_redacted(debug: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!debug.contains(secret), "`{secret}` is in the Debug output: {debug}");
    }
    assert!(debug.contains("[redacted]"), "{debug}");
}

#[test]
fn c2c_tokens_and_secrets_are_redacted_in_debug() {
    use frameio_gen::c2c::types::{DeviceCodeResponse, DeviceTokenRequest, DeviceTokenResponse};
    let tokens: DeviceTokenResponse = serde_json::from_value(json!({
        "access_token": "at-SECRET-1", "refresh_token": "rt-SECRET-2", "token_type": "bearer", "expires_in": 28800,
        "id_token": "it-SECRET-3"
    }))
    .unwrap();
    let debug = format!("{tokens:?}");
    assert_redacted(&debug, &["SECRET"]);
    assert!(debug.contains(r#"token_type: "bearer""#) && debug.contains("28800"), "{debug}");
    assert!(debug.contains(r#"refresh_token: Some("[redacted]")"#), "{debug}");
    assert!(debug.contains(r#"extra: ["id_token"]"#), "an undeclared member shows its key only: {debug}");

    let body: DeviceTokenRequest = serde_json::from_value(json!({
        "client_id": "model-1", "client_secret": "cs-SECRET", "device_code": "dc-SECRET",
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code"
    }))
    .unwrap();
    let debug = format!("{body:?}");
    assert_redacted(&debug, &["SECRET"]);
    assert!(debug.contains(r#"client_id: "model-1""#), "{debug}");
    let builder = DeviceTokenRequest::builder().client_secret(Some("cs-SECRET".to_string()));
    assert_redacted(&format!("{builder:?}"), &["SECRET"]);

    let code: DeviceCodeResponse = serde_json::from_value(json!({
        "device_code": "dc-SECRET", "user_code": "123456", "expires_in": 120, "interval": 5, "name": "Camera"
    }))
    .unwrap();
    let debug = format!("{code:?}");
    assert_redacted(&debug, &["SECRET"]);
    assert!(debug.contains("123456"), "the user code is shown to the user anyway: {debug}");
}

#[test]
fn presigned_urls_are_redacted_in_debug_keeping_count_and_sizes() {
    use frameio_gen::v4::types::{FileWithUploadUrls, FileWithUploadUrlsResponse};
    let presigned = "https://frameio-uploads.s3.amazonaws.com/parts/1?X-Amz-Signature=SIGNED";
    let file: FileWithUploadUrlsResponse = serde_json::from_value(json!({"data": {
        "id": "f1", "name": "a.mov", "file_size": 30, "media_type": null, "status": "created",
        "upload_urls": [{"size": 20, "url": presigned}, {"size": 10, "url": presigned}]
    }}))
    .unwrap();
    let debug = format!("{file:?}");
    assert_redacted(&debug, &["SIGNED", "amazonaws"]);
    assert_eq!(debug.matches(r#"url: "[redacted]""#).count(), 2, "{debug}");
    assert!(debug.contains("size: 20") && debug.contains("size: 10"), "{debug}");
    let FileWithUploadUrls { upload_urls, .. } = file.data;
    assert_eq!(upload_urls[0].url, presigned, "only Debug redacts: the value is intact");
}

#[test]
fn media_links_are_redacted_in_debug() {
    let mut with_links = file("transcoded");
    with_links["media_links"] = json!({
        "original": {"download_url": "https://assets.frame.io/o?Signature=SIGNED", "inline_url": null},
        "thumbnail": null
    });
    let asset: AssetWithIncludes = serde_json::from_value(with_links).unwrap();
    let debug = format!("{asset:?}");
    assert_redacted(&debug, &["SIGNED"]);
    assert!(debug.contains(r#"download_url: Some("[redacted]")"#) && debug.contains("inline_url: None"), "{debug}");
    assert!(debug.contains(r#"view_url: Some("https://next.frame.io/x")"#), "a view URL needs a login: {debug}");
}
