//! Webhook deliveries: the events an upload and a comment cause, the
//! documented payload and signature (checked here with hmac/sha2), retries, and
//! which subscriptions an event reaches.

mod support;

use std::time::{Duration, SystemTime};

use frameio_fake::{DeliveryPolicy, Fake};
use frameio_gen::v4::types::{
    CreateCommentParams, CreateCommentParamsData, FileCreateLocalUploadParams, FileCreateLocalUploadParamsData,
    WebhookCreateParams, WebhookCreateParamsData, WebhookEvents,
};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use support::{Hook, Receiver, client};

/// Checks `hook` as the guide's Python example does; returns its payload.
fn verified(hook: &Hook, secret: &str) -> Value {
    assert_eq!(hook.headers["user-agent"], "Frame.io V4 API");
    assert_eq!(hook.headers["content-type"], "application/json");
    let timestamp = hook.headers["x-frameio-request-timestamp"].to_str().unwrap();
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    assert!(now.abs_diff(timestamp.parse().unwrap()) < 300, "within 5 minutes of local time");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(&hook.body);
    let expected = format!("v0={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(hook.headers["x-frameio-signature"], expected.as_str());
    serde_json::from_slice(&hook.body).unwrap()
}

#[tokio::test]
async fn an_upload_and_a_comment_are_delivered_signed_with_the_secret_from_creation() {
    let receiver = Receiver::start(vec![]).await;
    let fake = Fake::start().await.unwrap();
    let (account, workspace, project, root) = {
        let account = fake.seed().account("Acme");
        let workspace = account.workspace("W");
        let project = workspace.project("P");
        (account.id.clone(), workspace.id.clone(), project.id.clone(), project.root_folder_id)
    };
    let c = client(&fake);
    let events = ["file.created", "file.upload.completed", "file.ready", "comment.created"];
    let created = c
        .webhooks_create()
        .account_id(&account)
        .workspace_id(&workspace)
        .body(WebhookCreateParams {
            data: WebhookCreateParamsData {
                events: WebhookEvents(events.iter().map(|e| e.to_string()).collect()),
                name: "all".into(),
                url: receiver.url.clone(),
            },
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;

    let body =
        FileCreateLocalUploadParams { data: FileCreateLocalUploadParamsData { file_size: 3, name: "a.txt".into() } };
    let file = c.files_create_local_upload().account_id(&account).folder_id(&root).body(body).send().await.unwrap();
    let file = file.into_inner().data;
    let put = reqwest::Client::new()
        .put(&file.upload_urls[0].url)
        .header("content-type", "text/plain")
        .header("x-amz-acl", "private")
        .body("abc")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let file_id = file.id.unwrap();
    let comment = CreateCommentParamsData {
        anchor: None,
        annotation: None,
        attachments: vec![],
        completed: None,
        duration: None,
        links: vec![],
        page: None,
        text: "hi".into(),
        text_review_annotation: None,
        timestamp: None,
    };
    let comment = c
        .comments_create()
        .account_id(&account)
        .file_id(&file_id)
        .body(CreateCommentParams { data: comment })
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    fake.webhooks_settled().await;

    let mut received: Vec<(String, String, String)> = receiver
        .hooks()
        .iter()
        .map(|hook| {
            let payload = verified(hook, &created.secret);
            assert_eq!(payload["account"]["id"], account.as_str());
            assert_eq!(payload["workspace"]["id"], workspace.as_str());
            assert_eq!(payload["project"]["id"], project.as_str());
            assert!(payload["user"]["id"].is_string());
            let kind = payload["type"].as_str().unwrap().to_string();
            let resource = payload["resource"]["type"].as_str().unwrap().to_string();
            (kind, resource, payload["resource"]["id"].as_str().unwrap().to_string())
        })
        .collect();
    received.sort();
    let mut expected: Vec<(String, String, String)> = vec![
        ("comment.created".into(), "comment".into(), comment.id.clone()),
        ("file.created".into(), "file".into(), file_id.clone()),
        ("file.ready".into(), "file".into(), file_id.clone()),
        ("file.upload.completed".into(), "file".into(), file_id.clone()),
    ];
    expected.sort();
    assert_eq!(received, expected);
    assert!(fake.deliveries().iter().all(|d| d.succeeded() && d.attempt == 1));

    let wrong = verified_with_wrong_secret(&receiver.hooks()[0]);
    assert!(wrong, "a different secret does not verify");
}

fn verified_with_wrong_secret(hook: &Hook) -> bool {
    let timestamp = hook.headers["x-frameio-request-timestamp"].to_str().unwrap();
    frameio_fake::webhooks::signature("not-the-secret", timestamp.parse().unwrap(), &hook.body)
        != hook.headers["x-frameio-signature"].to_str().unwrap()
}

#[tokio::test]
async fn a_failing_subscriber_is_retried_with_doubling_waits() {
    let receiver = Receiver::start(vec![500, 503]).await;
    let policy = DeliveryPolicy::new().first_retry(Duration::from_millis(50));
    let fake = Fake::builder().webhook_delivery(policy).start().await.unwrap();
    let (account, root, secret) = {
        let account = fake.seed().account("Acme");
        let workspace = account.workspace("W");
        let (_, secret) = workspace.webhook("h", &receiver.url, &["folder.created"]);
        (account.id.clone(), workspace.project("P").root_folder_id, secret)
    };
    let started = std::time::Instant::now();
    let body = frameio_gen::v4::types::FolderCreateParams {
        data: frameio_gen::v4::types::FolderCreateParamsData { name: Some("New".into()) },
    };
    client(&fake).folders_create().account_id(&account).folder_id(&root).body(body).send().await.unwrap();
    fake.webhooks_settled().await;
    let deliveries = fake.deliveries();
    let attempts: Vec<(u32, Option<u16>)> = deliveries.iter().map(|d| (d.attempt, d.status)).collect();
    assert_eq!(attempts, [(1, Some(500)), (2, Some(503)), (3, Some(200))]);
    assert!(started.elapsed() >= Duration::from_millis(150), "waited 50 ms, then 100 ms: {:?}", started.elapsed());
    let hooks = receiver.hooks();
    assert_eq!(hooks.len(), 3);
    for hook in &hooks {
        assert_eq!(verified(hook, &secret)["type"], "folder.created");
    }
}

#[tokio::test]
async fn an_unreachable_subscriber_is_given_up_after_the_attempts() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}/hook", listener.local_addr().unwrap());
    drop(listener);
    let policy = DeliveryPolicy::new().attempts(2).first_retry(Duration::from_millis(1));
    let fake = Fake::builder().webhook_delivery(policy).start().await.unwrap();
    let (account, root) = {
        let account = fake.seed().account("Acme");
        let workspace = account.workspace("W");
        workspace.webhook("h", &dead, &["folder.created"]);
        (account.id.clone(), workspace.project("P").root_folder_id)
    };
    let body = frameio_gen::v4::types::FolderCreateParams {
        data: frameio_gen::v4::types::FolderCreateParamsData { name: None },
    };
    client(&fake).folders_create().account_id(&account).folder_id(&root).body(body).send().await.unwrap();
    fake.webhooks_settled().await;
    let deliveries = fake.deliveries();
    assert_eq!(deliveries.len(), 2);
    assert!(deliveries.iter().all(|d| d.status.is_none() && d.error.is_some()), "{deliveries:?}");
}

#[tokio::test]
async fn events_reach_only_active_subscriptions_of_their_workspace_and_type() {
    let receiver = Receiver::start(vec![]).await;
    let fake = Fake::start().await.unwrap();
    let (account, root, inactive) = {
        let account = fake.seed().account("Acme");
        let workspace = account.workspace("W");
        workspace.webhook("other type", &receiver.url, &["comment.created"]);
        account.workspace("Elsewhere").webhook("other workspace", &receiver.url, &["folder.created"]);
        let (inactive, _) = workspace.webhook("inactive", &receiver.url, &["folder.created"]);
        (account.id.clone(), workspace.project("P").root_folder_id, inactive)
    };
    let c = client(&fake);
    let off = frameio_gen::v4::types::WebhookUpdateParams {
        data: frameio_gen::v4::types::WebhookUpdateParamsData {
            active: Some(false),
            events: None,
            name: None,
            url: None,
        },
    };
    c.webhooks_update().account_id(&account).webhook_id(&inactive).body(off).send().await.unwrap();
    let body = frameio_gen::v4::types::FolderCreateParams {
        data: frameio_gen::v4::types::FolderCreateParamsData { name: Some("x".into()) },
    };
    c.folders_create().account_id(&account).folder_id(&root).body(body).send().await.unwrap();
    fake.webhooks_settled().await;
    assert!(receiver.hooks().is_empty(), "{:?}", receiver.hooks());
}

#[tokio::test]
async fn an_unknown_event_name_is_a_422() {
    let fake = Fake::start().await.unwrap();
    let (account, workspace) = {
        let account = fake.seed().account("Acme");
        let workspace = account.workspace("W");
        (account.id.clone(), workspace.id)
    };
    let err = client(&fake)
        .webhooks_create()
        .account_id(&account)
        .workspace_id(&workspace)
        .body(WebhookCreateParams {
            data: WebhookCreateParamsData {
                events: WebhookEvents(vec!["asset.created".into()]),
                name: "legacy".into(),
                url: "https://example.com/hook".into(),
            },
        })
        .send()
        .await
        .unwrap_err();
    let frameio_gen::Error::ErrorResponse(body) = err else { panic!("{err:?}") };
    assert_eq!(body.status(), 422);
    assert!(body.errors[0].detail.contains("asset.created"), "{:?}", body.errors);
}
