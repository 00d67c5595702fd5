//! Response members the API sends as `null` that the published spec types as never
//! null. One such member fails the whole response: a folder listing with one file
//! still uploading does not decode. Each member becomes nullable (`nullable: true`;
//! a `$ref` is wrapped as `allOf: [$ref]`, the downgrade's form); a required member
//! stays required, since the API sends it, as `null`.
//!
//! Evidence, per member (the whole audit of every required, non-nullable response
//! member, with the verdict for each, is `tests/fixtures/conformance/NULLABLE_AUDIT.md`):
//!
//! | schema | member | evidence |
//! |---|---|---|
//! | `File`, `FileWithIncludes`, `FileWithUploadUrls` | `media_type` (required) | The official Python SDK 4.0.0, generated from Frame.io's API definition, types it `Optional[str]` with the API's own field description "File media type. Null until the file has finished uploading and its type is determined." (`frameio/types/file.py`, `frameio/types/file_with_includes.py`; `FileWithUploadUrls(File)` in `frameio/types/file_with_upload_urls.py` inherits it). The published schemas (017, 023, 019, ...) say only "File media type". Fixture `v4/folders_children_200_uploading_file.json`, defect D19. |
//! | `MediaLinksCollection` | every link (`original`, `thumbnail`, `efficient`, ...; optional) | The published descriptions of `GET …/files/{file_id}` (025), `…/folders/{folder_id}/children` (034) and `…/version_stacks/{version_stack_id}/children` (071): "the unsupported media links will be set to null", "if a requested transcode link does not exist … or transcoding process hasn't finished …, then the media link will also be set to null in the response payload. In short, the client must handle null media links gracefully." The media-links guide (`guides/media_links.txt`, `video_h264_180`): "It will be `null` if a 180p transcode was not generated for the asset." The SDK types each link `Optional[...]` (`frameio/types/media_links_collection.py`). Defect D19. |
//!
//! Runs after `dedupe_identical_schemas`, like `listing_members_the_api_omits`: before
//! it, the file schema exists in several identical copies that must still merge.

use serde_json::{Value, json};

use super::Repair;
use super::edit;
use crate::error::SpecError;
use crate::merge::Origins;

/// (schema, members): each member is nullable in what the API sends.
const NULLABLE: &[(&str, &[&str])] = &[
    ("File", &["media_type"]),
    ("FileWithIncludes", &["media_type"]),
    ("FileWithUploadUrls", &["media_type"]),
    (
        "MediaLinksCollection",
        &[
            "efficient",
            "high_quality",
            "original",
            "scrub_sheet",
            "thumbnail",
            "thumbnail_high_quality",
            "video_h264_180",
        ],
    ),
];

pub const REPAIR: Repair = Repair {
    name: "nullable_members_the_api_sends_null",
    quirk: "file `media_type` (null until uploaded) and media links (null until transcoded) are typed as never null",
    apply: |doc, origins| {
        for (schema, members) in NULLABLE {
            for member in *members {
                nullable(doc, origins, &format!("{}/properties/{member}", edit::component(schema)))?;
            }
        }
        Ok(())
    },
};

/// Makes the member schema at `at` nullable; fails if it already is.
fn nullable(doc: &mut Value, origins: &Origins, at: &str) -> Result<(), SpecError> {
    let member = edit::schema(doc, origins, at)?;
    if member.get("nullable") == Some(&Value::Bool(true)) {
        return Err(origins.error(at, "the member is nullable now: remove it from this repair"));
    }
    if let Some(target) = member.remove("$ref") {
        let siblings = std::mem::take(member);
        member.insert("allOf".into(), json!([{"$ref": target}]));
        member.extend(siblings);
    }
    member.insert("nullable".into(), Value::Bool(true));
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;

    fn doc() -> Value {
        let file = json!({"properties": {"media_type": {"type": "string"}, "id": {"type": "string"}}, "required": ["id", "media_type"]});
        let link = json!({"$ref": "#/components/schemas/RenditionMediaLink"});
        let links: Map<String, Value> = NULLABLE[3].1.iter().map(|m| (m.to_string(), link.clone())).collect();
        json!({"components": {"schemas": {
            "File": file, "FileWithIncludes": file, "FileWithUploadUrls": file,
            "MediaLinksCollection": {"properties": links}
        }}})
    }

    #[test]
    fn media_type_is_nullable_and_stays_required() {
        let mut doc = doc();
        (REPAIR.apply)(&mut doc, &Origins::default()).unwrap();
        let file = &doc["components"]["schemas"]["FileWithIncludes"];
        assert_eq!(file["properties"]["media_type"], json!({"type": "string", "nullable": true}));
        assert_eq!(file["required"], json!(["id", "media_type"]));
        assert!(file["properties"]["id"].get("nullable").is_none());
    }

    #[test]
    fn a_referenced_link_is_wrapped_to_carry_nullable() {
        let mut doc = doc();
        (REPAIR.apply)(&mut doc, &Origins::default()).unwrap();
        assert_eq!(
            doc["components"]["schemas"]["MediaLinksCollection"]["properties"]["thumbnail"],
            json!({"allOf": [{"$ref": "#/components/schemas/RenditionMediaLink"}], "nullable": true})
        );
    }

    #[test]
    fn fails_once_the_spec_says_nullable_itself() {
        let mut doc = doc();
        doc["components"]["schemas"]["File"]["properties"]["media_type"]["nullable"] = json!(true);
        let err = (REPAIR.apply)(&mut doc, &Origins::default()).unwrap_err();
        assert_eq!(err.pointer, "/components/schemas/File/properties/media_type");
    }
}
