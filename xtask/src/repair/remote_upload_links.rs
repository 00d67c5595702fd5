//! `POST …/folders/{folder_id}/files/remote_upload` answers 202 with
//! `links: FileRemoteUploadResponseLinks`, published (020) as `{type: object,
//! properties: {}}` ("Link to asset operation status"), so the one link it exists for
//! has no field. Evidence: both examples of the response, the uploads guide's "Remote
//! Upload > Response Example" (`002_ca67f33d460f59c7.txt:386`, char 52221) and the
//! Postman guide's "Creating a File - Remote Upload" (`002_ca67f33d460f59c7.txt:426`,
//! char 1224), carry `"links": {"status": "/v4/accounts/…/files/…/status"}`, the path
//! of `GET …/files/{file_id}/status` (fixtures `v4/files_remote_upload_202_*.json`,
//! defect D03). Declared optional, like every member declared from examples alone.

use serde_json::json;

use super::Repair;
use super::edit;

pub const REPAIR: Repair = Repair {
    name: "remote_upload_status_link",
    quirk: "the remote-upload 202 `links` is declared as an object without properties; the docs show `links.status`",
    apply: |doc, origins| {
        let status = json!({
            "type": "string",
            "description": "Path of the file's upload status (`GET /v4/accounts/{account_id}/files/{file_id}/status`)."
        });
        edit::declare(doc, origins, &edit::component("FileRemoteUploadResponseLinks"), vec![("status", status)])
    },
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn declares_the_status_link() {
        let mut doc =
            json!({"components": {"schemas": {"FileRemoteUploadResponseLinks": {"type": "object", "properties": {}}}}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        let links = &doc["components"]["schemas"]["FileRemoteUploadResponseLinks"];
        assert_eq!(links["properties"]["status"]["type"], "string");
        assert!(links.get("required").is_none());
    }
}
