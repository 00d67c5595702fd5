//! Every endpoint the fake serves, called with the generated client (so each
//! answer must decode into `frameio_gen::v4::types` and carry the documented
//! status), plus the error envelopes and the request log.

mod support;

use frameio_fake::Fake;
use frameio_gen::v4::types::{
    self, AssetInclude, AssetWithIncludes, CreateCommentParams, CreateCommentParamsData, CreateShareParams,
    CreateShareParamsDataAsset, CreateShareParamsDataAssetType, FileCreateLocalUploadParams,
    FileCreateLocalUploadParamsData, FileMoveParams, FileMoveParamsData, FileStatus, FolderCreateParams,
    FolderCreateParamsData, ShareAccess, VersionStackCreateParams, VersionStackCreateParamsData, WebhookCreateParams,
    WebhookCreateParamsData, WebhookEvents, WebhookUpdateParams, WebhookUpdateParamsData,
};
use support::{client, client_with_token, envelope, get, http};

#[tokio::test]
async fn every_endpoint_answers_what_the_generated_client_decodes() {
    let fake = Fake::start().await.unwrap();
    let seed = fake.seed();
    seed.user("Ada Lovelace", "ada@example.com");
    let account = seed.account("Acme");
    let workspace = account.workspace("Post");
    let project = workspace.project("Launch");
    let root = project.root();
    let dailies = root.folder("Dailies");
    let clip = dailies.file("A001.mov", vec![7u8; 100]);
    let other = dailies.file("A002.mov", vec![8u8; 50]);
    let comment = clip.comment("nice");
    let share = project.share("Review", &[&dailies.id]);
    let (webhook, _secret) = workspace.webhook("hook", "http://127.0.0.1:9/hook", &["file.ready"]);
    let c = client(&fake);
    let a = account.id.as_str();

    let me = c.users_show().send().await.unwrap().into_inner();
    assert_eq!((me.data.name.as_str(), me.data.email.as_str()), ("Ada Lovelace", "ada@example.com"));

    let accounts = c.accounts_index().send().await.unwrap().into_inner();
    assert_eq!(accounts.data.iter().map(|a| a.display_name.as_str()).collect::<Vec<_>>(), ["Acme"]);
    assert_eq!(accounts.data[0].storage_usage, 150);

    let workspaces = c.workspaces_index().account_id(a).send().await.unwrap().into_inner();
    assert_eq!(workspaces.data[0].id, workspace.id);
    let shown = c.workspaces_show().account_id(a).workspace_id(&workspace.id).send().await.unwrap().into_inner();
    assert_eq!(shown.data.name, "Post");

    let projects = c.projects_index().account_id(a).workspace_id(&workspace.id).send().await.unwrap().into_inner();
    assert_eq!(projects.data[0].root_folder_id, project.root_folder_id);
    let shown = c.projects_show().account_id(a).project_id(&project.id).send().await.unwrap().into_inner();
    assert_eq!((shown.data.name.as_str(), shown.data.storage), ("Launch", 150));

    let folder = c.folders_show().account_id(a).folder_id(&dailies.id).send().await.unwrap().into_inner();
    assert_eq!(folder.data.parent_id.as_deref(), Some(project.root_folder_id.as_str()));
    let children = c.folders_index().account_id(a).folder_id(&root.id).send().await.unwrap().into_inner();
    assert!(matches!(&children.data[..], [AssetWithIncludes::Folder(f)] if f.name == "Dailies"));
    let created = c
        .folders_create()
        .account_id(a)
        .folder_id(&dailies.id)
        .body(FolderCreateParams { data: FolderCreateParamsData { name: Some("Day 2".into()) } })
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let new_folder = created.into_inner().data;
    let subfolders = c.folders_list().account_id(a).folder_id(&dailies.id).send().await.unwrap().into_inner();
    assert_eq!(subfolders.data.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), [new_folder.id.as_str()]);

    let file = c
        .files_show()
        .account_id(a)
        .file_id(&clip.id)
        .include([AssetInclude::Creator, AssetInclude::Project, AssetInclude::MediaLinksOriginal])
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(
        (file.media_type.as_deref(), file.file_size, &file.status),
        (Some("video/quicktime"), 100, &FileStatus::Transcoded)
    );
    assert_eq!(file.creator.map(|u| u.email), Some("ada@example.com".into()));
    assert_eq!(file.project.map(|p| p.id), Some(project.id.clone()));
    assert!(file.media_links.and_then(|m| m.original).and_then(|o| o.download_url).is_some());
    let files = c.files_list().account_id(a).folder_id(&dailies.id).send().await.unwrap().into_inner();
    assert_eq!(files.data.len(), 2, "files only, not the new folder");

    let upload = c
        .files_create_local_upload()
        .account_id(a)
        .folder_id(&dailies.id)
        .body(FileCreateLocalUploadParams {
            data: FileCreateLocalUploadParamsData { file_size: 10, name: "new.mp4".into() },
        })
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 201);
    let upload = upload.into_inner().data;
    assert_eq!(
        (upload.media_type.as_deref(), upload.status, upload.upload_urls.len()),
        (Some("video/mp4"), FileStatus::Created, 1)
    );
    let new_id = upload.id.unwrap();
    let listed = c.files_list().account_id(a).folder_id(&dailies.id).send().await.unwrap().into_inner();
    let uploading = listed.data.iter().find(|f| f.id() == Some(new_id.as_str())).expect("the new file is listed");
    let AssetWithIncludes::File(uploading) = uploading else { panic!("a file: {uploading:?}") };
    assert_eq!(uploading.media_type, None, "null until its upload finished, as the API sends it");
    let status = c.files_show_file_upload_status().account_id(a).file_id(&new_id).send().await.unwrap().into_inner();
    assert!(!status.data.upload_complete);

    let stack = c
        .version_stacks_create()
        .account_id(a)
        .folder_id(&dailies.id)
        .body(VersionStackCreateParams {
            data: VersionStackCreateParamsData { file_ids: vec![other.id.clone(), clip.id.clone()] },
        })
        .send()
        .await
        .unwrap();
    assert_eq!(stack.status(), 201);
    let stack = stack.into_inner().data;
    assert_eq!(stack.head_version.map(|h| h.id), Some(clip.id.clone()), "the last file is the head");
    let shown = c.version_stacks_show().account_id(a).version_stack_id(&stack.id).send().await.unwrap().into_inner();
    assert_eq!(shown.data.name, "A001.mov");
    let versions =
        c.version_stacks_index().account_id(a).version_stack_id(&stack.id).send().await.unwrap().into_inner();
    assert_eq!(versions.data.iter().map(AssetWithIncludes::tag).collect::<Vec<_>>(), ["file", "file"]);
    let stacks = c.version_stacks_list().account_id(a).folder_id(&dailies.id).send().await.unwrap().into_inner();
    assert_eq!(stacks.data[0].id, stack.id);

    let moved = c
        .files_move()
        .account_id(a)
        .file_id(&new_id)
        .body(FileMoveParams { data: FileMoveParamsData { parent_id: Some(new_folder.id.clone()) } })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(moved.data.parent_id, Some(new_folder.id.clone()));

    let comments = c.comments_index().account_id(a).file_id(&clip.id).send().await.unwrap().into_inner();
    assert_eq!(comments.data[0].id, comment);
    let shown = c.comments_show().account_id(a).comment_id(&comment).send().await.unwrap().into_inner();
    assert_eq!(shown.data.text, "nice");
    let posted = c
        .comments_create()
        .account_id(a)
        .file_id(&clip.id)
        .body(CreateCommentParams {
            data: CreateCommentParamsData {
                anchor: None,
                annotation: None,
                attachments: vec![],
                completed: None,
                duration: None,
                links: vec![],
                page: None,
                text: "at 42".into(),
                text_review_annotation: None,
                timestamp: Some(types::TimeStamp::Integer(42)),
            },
        })
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 201);
    assert_eq!(posted.into_inner().data.timestamp, types::TimeStamp::Integer(42));

    let shares = c.shares_index().account_id(a).project_id(&project.id).send().await.unwrap().into_inner();
    assert_eq!(shares.data[0].id, share);
    let shown = c.shares_show().account_id(a).share_id(&share).send().await.unwrap().into_inner();
    assert_eq!(shown.data.name.as_deref(), Some("Review"));
    let created = c
        .shares_create()
        .account_id(a)
        .project_id(&project.id)
        .body(CreateShareParams {
            data: CreateShareParamsDataAsset {
                access: ShareAccess::Secure,
                asset_ids: vec![clip.id.clone()],
                description: None,
                downloading_enabled: Some(false),
                expiration: None,
                name: "Secure".into(),
                passphrase: None,
                type_: CreateShareParamsDataAssetType::Asset,
            }
            .into(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.into_inner().data.access, ShareAccess::Secure);

    let hooks = c.webhooks_index().account_id(a).workspace_id(&workspace.id).send().await.unwrap().into_inner();
    assert_eq!(hooks.data[0].id, webhook);
    let created = c
        .webhooks_create()
        .account_id(a)
        .workspace_id(&workspace.id)
        .body(WebhookCreateParams {
            data: WebhookCreateParamsData {
                events: WebhookEvents(vec!["file.created".into()]),
                name: "new".into(),
                url: "https://example.com/hook".into(),
            },
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created = created.into_inner().data;
    assert_eq!(created.secret.len(), 32);
    let shown = c.webhooks_show().account_id(a).webhook_id(&created.id).send().await.unwrap().into_inner();
    assert!(!serde_json::to_string(&shown).unwrap().contains(&created.secret), "the secret only at creation");
    let updated = c
        .webhooks_update()
        .account_id(a)
        .webhook_id(&created.id)
        .body(WebhookUpdateParams {
            data: WebhookUpdateParamsData {
                active: Some(false),
                events: None,
                name: Some("renamed".into()),
                url: None,
            },
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!((updated.data.name.as_str(), updated.data.active), ("renamed", Some(false)));
    assert_eq!(c.webhooks_delete().account_id(a).webhook_id(&created.id).send().await.unwrap().status(), 204);
    assert_eq!(c.files_delete().account_id(a).file_id(&new_id).send().await.unwrap().status(), 204);
    assert_eq!(c.folders_delete().account_id(a).folder_id(&new_folder.id).send().await.unwrap().status(), 204);
    let gone = c.files_show().account_id(a).file_id(&new_id).send().await.unwrap_err();
    assert_eq!(gone.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn the_demo_tree_is_browsable() {
    let fake = Fake::with_demo_data().await.unwrap();
    let demo = fake.demo().unwrap().clone();
    let c = client(&fake);
    let root = c.folders_index().account_id(&demo.account_id).folder_id(&demo.root_folder_id).send().await.unwrap();
    let names: Vec<String> = root
        .into_inner()
        .data
        .iter()
        .map(|item| match item {
            AssetWithIncludes::File(f) => f.name.clone(),
            AssetWithIncludes::Folder(f) => format!("{}/", f.name),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, ["README.txt", "Dailies/", "Edits/", "Stills/"]);
    let edits = c.folders_index().account_id(&demo.account_id).folder_id(&demo.edits_folder_id).send().await.unwrap();
    assert!(
        matches!(&edits.into_inner().data[..], [AssetWithIncludes::VersionStack(s)] if s.id == demo.version_stack_id)
    );
    let readme = fake.file_bytes(&demo.readme_file_id).unwrap();
    assert!(readme.starts_with(b"Welcome"));
}

#[tokio::test]
async fn a_missing_or_unknown_token_is_a_401_envelope() {
    let fake = Fake::start().await.unwrap();
    let response = http().get(format!("{}/v4/me", fake.base_url())).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let error = envelope(response).await;
    assert_eq!(error.errors[0].title.as_deref(), Some("Unauthorized"));

    let err = client_with_token(&fake, "nope").users_show().send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));

    fake.accept_token("second");
    client_with_token(&fake, "second").users_show().send().await.unwrap();
    fake.revoke_token("second");
    assert!(client_with_token(&fake, "second").users_show().send().await.is_err());
}

#[tokio::test]
async fn unknown_resources_and_routes_are_404_envelopes() {
    let fake = Fake::start().await.unwrap();
    let account = fake.seed().account("Acme");
    let err = client(&fake).files_show().account_id(&account.id).file_id("nope").send().await.unwrap_err();
    let frameio_gen::Error::ErrorResponse(body) = err else { panic!("{err:?}") };
    assert_eq!(body.status(), 404);
    assert_eq!(body.errors[0].detail, "file not found");

    let response = get(&fake, "/v4/nothing/here").await;
    assert_eq!(response.status(), 404);
    assert!(envelope(response).await.errors[0].detail.contains("no route"));
}

#[tokio::test]
async fn a_bad_body_or_parameter_is_a_422_envelope() {
    let fake = Fake::start().await.unwrap();
    let account = fake.seed().account("Acme");
    let project = account.workspace("W").project("P");
    let url =
        format!("{}/v4/accounts/{}/folders/{}/files/local_upload", fake.base_url(), account.id, project.root_folder_id);
    for (body, expected) in [
        ("not json", "body: expected"),
        (r#"{"data": {"name": "a.mov", "file_size": 10, "foo": 1}}"#, "unknown field `foo`"),
        (r#"{"data": {"name": "a.mov"}}"#, "missing field `file_size`"),
        (r#"{"data": {"name": "a.mov", "file_size": -1}}"#, "file_size: must be a positive"),
        ("", "needs a JSON body"),
    ] {
        let response = http().post(&url).bearer_auth(fake.token()).body(body).send().await.unwrap();
        assert_eq!(response.status(), 422, "{body}");
        let error = envelope(response).await;
        assert!(error.errors[0].detail.contains(expected), "{body}: {:?}", error.errors[0].detail);
    }
    let path = format!("/v4/accounts/{}/folders/{}/children?include=bogus", account.id, project.root_folder_id);
    assert_eq!(get(&fake, &path).await.status(), 422);
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused_not_read() {
    let fake = Fake::builder().max_body(1024).start().await.unwrap();
    let account = fake.seed().account("Acme");
    let project = account.workspace("W").project("P");
    let url = format!("{}/v4/accounts/{}/folders/{}/folders", fake.base_url(), account.id, project.root_folder_id);
    let body = format!(r#"{{"data": {{"name": "{}"}}}}"#, "x".repeat(512 * 1024));
    let sent = body.len() as u64;
    let response = http().post(&url).bearer_auth(fake.token()).body(body).send().await.unwrap();
    assert_eq!(response.status(), 413);
    let read = fake.requests()[0].body_len;
    assert!(read > 1024 && read < sent, "stopped reading past the cap: {read} of {sent}");
}

#[tokio::test]
async fn an_operation_the_fake_lacks_is_a_501_envelope() {
    let fake = Fake::start().await.unwrap();
    let response = get(&fake, "/v4/accounts/a/audit_logs").await;
    assert_eq!(response.status(), 501);
    assert!(envelope(response).await.errors[0].detail.contains("accounts_auditlog_index"));
}

#[tokio::test]
async fn every_request_is_recorded_with_secrets_redacted_in_debug() {
    let fake = Fake::builder().token("tok-5ecre7-d0-not-leak").start().await.unwrap();
    let account = fake.seed().account("Acme");
    let c = client(&fake);
    c.users_show().send().await.unwrap();
    c.workspaces_index().account_id(&account.id).page_size(10).send().await.unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].operation, Some("workspaces_index"));
    assert_eq!(requests[1].path, format!("/v4/accounts/{}/workspaces", account.id));
    assert_eq!(requests[1].query_param("page_size").as_deref(), Some("10"));
    assert_eq!(requests[1].header("authorization"), Some("Bearer tok-5ecre7-d0-not-leak"));
    assert_eq!(fake.requests_to("users_show").len(), 1);
    let shown = format!("{requests:?}");
    assert!(!shown.contains("5ecre7"), "{shown}");
    fake.clear_requests();
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn dropping_the_fake_stops_the_server() {
    let fake = Fake::start().await.unwrap();
    let addr = fake.addr();
    assert_eq!(get(&fake, "/v4/me").await.status(), 200);
    drop(fake);
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{addr} still accepts connections");
}
