//! `POST …/folders/{folder_id}/files/local_upload` answers 201 with a file that
//! carries `type`, `created_at`, `updated_at`, `parent_id`, `project_id` and
//! `view_url`, which its published schema `FileWithUploadUrls` (019) does not declare
//! (it declares only `id`, `name`, `adobe_version_id`, `file_size`, `media_type`,
//! `status`, `upload_urls`). Evidence: both examples of the response, the uploads
//! guide's "Local Upload > Response Example" (`002_ca67f33d460f59c7.txt:386`, char
//! 53396) and the Postman guide's "Creating a File - Local Upload"
//! (`002_ca67f33d460f59c7.txt:423`, char 697), show all six, e.g.
//! `{"data": {"type": "file", "created_at": "…", "parent_id": "…", "view_url": "…", …}}`
//! (fixtures `v4/files_local_upload_201_*.json`, defect D02).
//!
//! The six members are declared with the schemas the published `File` gives them,
//! optional: the docs show they can be present, not that they always are.

use super::Repair;
use super::edit;

const MEMBERS: [&str; 6] = ["type", "created_at", "updated_at", "parent_id", "project_id", "view_url"];

pub const REPAIR: Repair = Repair {
    name: "local_upload_file_members",
    quirk: "the local-upload 201 file carries `type`, `created_at`, `updated_at`, `parent_id`, `project_id`, `view_url`, undeclared by `FileWithUploadUrls`",
    apply: |doc, origins| {
        let file = edit::component("File");
        let mut members = Vec::new();
        for name in MEMBERS {
            let member = doc.pointer(&format!("{file}/properties/{name}")).cloned();
            members
                .push((name, member.ok_or_else(|| origins.error(&file, format!("`File` has no `{name}` to copy")))?));
        }
        edit::declare(doc, origins, &edit::component("FileWithUploadUrls"), members)
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn copies_the_members_from_file_as_optional() {
        let file = json!({"properties": {
            "type": {"$ref": "#/components/schemas/FileType"}, "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string"}, "parent_id": {"type": "string"}, "project_id": {"type": "string"},
            "view_url": {"type": "string", "format": "uri"}
        }, "required": ["type"]});
        let mut doc = json!({"components": {"schemas": {
            "File": file,
            "FileWithUploadUrls": {"type": "object", "properties": {"file_size": {"type": "integer"}}, "required": ["file_size"]}
        }}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        let upload = &doc["components"]["schemas"]["FileWithUploadUrls"];
        assert_eq!(upload["properties"]["type"], json!({"$ref": "#/components/schemas/FileType"}));
        assert_eq!(upload["properties"]["view_url"]["format"], "uri");
        assert_eq!(upload["required"], json!(["file_size"]));
    }
}
