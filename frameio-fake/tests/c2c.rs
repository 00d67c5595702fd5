//! The C2C device API with the generated `frameio_gen::c2c` client: pairing
//! (pending, slow_down, paired, denied, expired), refresh with rotation,
//! revocation, identify, heartbeat, and an asset uploaded to the fake's storage
//! that shows up as a V4 file of the paired project.

mod support;

use std::time::Duration;

use frameio_fake::{Fake, Pairing};
use frameio_gen::Hooks;
use frameio_gen::c2c::Client;
use frameio_gen::c2c::types::{
    AssetCreateRequest, AssetParts as Size, DeviceCodeRequest, DeviceTokenRequest, DeviceTokenResponse,
    GrantType as Grant, RevokeRequest,
};

const SECRET: &str = "model-5ecre7";

fn anonymous(fake: &Fake) -> Client {
    Client::new(fake.base_url(), Hooks::default())
}

fn device(fake: &Fake, access_token: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {access_token}").parse().unwrap());
    let http = reqwest::Client::builder().default_headers(headers).build().unwrap();
    Client::new_with_client(fake.base_url(), http, Hooks::default())
}

/// The error code of a failed C2C call.
fn error_code<T: std::fmt::Debug>(
    result: Result<T, frameio_gen::Error<frameio_gen::c2c::types::Error>>,
) -> (u16, String) {
    match result.unwrap_err() {
        frameio_gen::Error::ErrorResponse(body) => (body.status().as_u16(), body.error.clone().unwrap_or_default()),
        other => panic!("{other:?}"),
    }
}

async fn request_code(fake: &Fake, client_id: &str) -> (String, String) {
    let body = DeviceCodeRequest {
        client_id: client_id.into(),
        client_secret: SECRET.into(),
        scope: "asset_create offline".into(),
    };
    let code = anonymous(fake).authentication_device_request_code().body(body).send().await.unwrap().into_inner();
    assert_eq!(code.user_code.len(), 6);
    assert_eq!(code.interval, 5.0);
    (code.device_code, code.user_code)
}

fn poll_body(client_id: &str, device_code: &str) -> DeviceTokenRequest {
    DeviceTokenRequest {
        client_id: client_id.into(),
        client_secret: None,
        device_code: Some(device_code.into()),
        grant_type: Grant::UrnIetfParamsOauthGrantTypeDeviceCode,
        refresh_token: None,
    }
}

fn refresh_body(client_id: &str, refresh: &str) -> DeviceTokenRequest {
    DeviceTokenRequest {
        client_id: client_id.into(),
        client_secret: Some(SECRET.into()),
        device_code: None,
        grant_type: Grant::RefreshToken,
        refresh_token: Some(refresh.into()),
    }
}

/// A fake with a project; returns (fake, project id, root folder id, account id).
async fn fake_with_project() -> (Fake, String, String, String) {
    let fake = Fake::builder().c2c_client_secret(SECRET).start().await.unwrap();
    let ids = {
        let account = fake.seed().account("Acme");
        let project = account.workspace("W").project("Set");
        (project.id, project.root_folder_id, account.id)
    };
    (fake, ids.0, ids.1, ids.2)
}

/// Pairs `client_id` with `project`; returns its tokens.
async fn paired(fake: &Fake, client_id: &str, project: &str) -> DeviceTokenResponse {
    let (device_code, user_code) = request_code(fake, client_id).await;
    assert!(fake.pair_device(&user_code, project));
    anonymous(fake)
        .authentication_auth_device_token()
        .body(poll_body(client_id, &device_code))
        .send()
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test(start_paused = true)]
async fn pairing_is_pending_until_the_user_pairs_and_fast_polls_are_slow_down() {
    let (fake, project, _, _) = fake_with_project().await;
    let (device_code, user_code) = request_code(&fake, "SN-1").await;
    assert_eq!(fake.pending_pairings(), std::slice::from_ref(&user_code));
    let c = anonymous(&fake);
    let poll = || c.authentication_auth_device_token().body(poll_body("SN-1", &device_code)).send();
    assert_eq!(error_code(poll().await), (400, "authorization_pending".into()));
    assert_eq!(error_code(poll().await), (400, "slow_down".into()), "polled before the interval");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(error_code(poll().await), (400, "authorization_pending".into()));
    assert!(fake.pair_device(&user_code, &project));
    tokio::time::sleep(Duration::from_secs(5)).await;
    let tokens = poll().await.unwrap().into_inner();
    assert_eq!((tokens.token_type.as_str(), tokens.expires_in), ("bearer", Some(28_800)));
    assert!(tokens.refresh_token.is_some());
    assert_eq!(error_code(poll().await).1, "invalid_grant", "a device code is used once");
    let me = device(&fake, &tokens.access_token).accounts_device_identify().send().await.unwrap().into_inner();
    assert_eq!((me.project_id.as_deref(), me.device_id.as_deref()), (Some(project.as_str()), Some("SN-1")));
}

#[tokio::test(start_paused = true)]
async fn a_denied_or_expired_code_ends_the_pairing() {
    let fake = Fake::builder().c2c_pairing(Pairing::new().code_ttl(Duration::from_secs(30))).start().await.unwrap();
    let c = anonymous(&fake);
    let (denied, user_code) = request_code(&fake, "SN-2").await;
    assert!(fake.deny_device(&user_code));
    let result = c.authentication_auth_device_token().body(poll_body("SN-2", &denied)).send().await;
    assert_eq!(error_code(result), (401, "access_denied".into()), "the guide's error table: 401");
    let (expiring, _) = request_code(&fake, "SN-3").await;
    tokio::time::sleep(Duration::from_secs(31)).await;
    let result = c.authentication_auth_device_token().body(poll_body("SN-3", &expiring)).send().await;
    assert_eq!(error_code(result), (400, "expired_token".into()));
    assert!(!fake.pair_device("000000x", "p"), "no such code");
}

#[tokio::test]
async fn an_unknown_client_secret_is_invalid_client() {
    let (fake, _, _, _) = fake_with_project().await;
    let body = DeviceCodeRequest {
        client_id: "SN-1".into(),
        client_secret: "wrong".into(),
        scope: "asset_create offline".into(),
    };
    let result = anonymous(&fake).authentication_device_request_code().body(body).send().await;
    assert_eq!(error_code(result), (400, "invalid_client".into()));
}

#[tokio::test]
async fn refresh_rotates_the_tokens_and_a_reused_refresh_token_is_invalid_request() {
    let (fake, project, _, _) = fake_with_project().await;
    let first = paired(&fake, "SN-4", &project).await;
    let old_refresh = first.refresh_token.clone().unwrap();
    let c = anonymous(&fake);
    let second = c
        .authentication_auth_device_token()
        .body(refresh_body("SN-4", &old_refresh))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_ne!(second.access_token, first.access_token);
    assert_ne!(second.refresh_token, first.refresh_token);
    let reused = c.authentication_auth_device_token().body(refresh_body("SN-4", &old_refresh)).send().await;
    assert_eq!(error_code(reused), (400, "invalid_request".into()));
    let stale = device(&fake, &first.access_token).devices_device_heartbeat().send().await;
    assert_eq!(error_code(stale).0, 401, "the old access token went with the rotation");
    device(&fake, &second.access_token).devices_device_heartbeat().send().await.unwrap();

    let revoke = RevokeRequest {
        client_id: "SN-4".into(),
        client_secret: SECRET.into(),
        token: second.refresh_token.clone().unwrap(),
    };
    c.authentication_auth_device_revoke_token().body(revoke).send().await.unwrap();
    let revoked = device(&fake, &second.access_token).devices_device_heartbeat().send().await;
    assert_eq!(error_code(revoked).0, 401);
}

#[tokio::test]
async fn an_asset_uploads_to_the_fake_storage_and_lands_in_the_project() {
    let (fake, project, root, account) = {
        let fake = Fake::builder().c2c_client_secret(SECRET).part_size(4000).start().await.unwrap();
        let ids = {
            let account = fake.seed().account("Acme");
            let project = account.workspace("W").project("Set");
            (project.id, project.root_folder_id, account.id)
        };
        (fake, ids.0, ids.1, ids.2)
    };
    let tokens = paired(&fake, "SN-5", &project).await;
    let camera = device(&fake, &tokens.access_token);
    camera.devices_device_heartbeat().send().await.unwrap();
    let body = AssetCreateRequest {
        autoversion_id: None,
        channel: None,
        extension: None,
        filesize: Some(Size::Integer(10_000)),
        filetype: Some("video/quicktime".into()),
        is_realtime_upload: false,
        metadata: Default::default(),
        name: "A001_C001.mov".into(),
        offset: None,
        parts: None,
    };
    let asset = camera.devices_device_asset_create().body(body).send().await.unwrap().into_inner();
    assert_eq!(asset.upload_urls.len(), 3);
    let data = frameio_fake::patterned_bytes(5, 0..10_000);
    let chunk = 10_000usize.div_ceil(asset.upload_urls.len());
    for (i, url) in asset.upload_urls.iter().enumerate() {
        let part = data[i * chunk..((i + 1) * chunk).min(data.len())].to_vec();
        let response = reqwest::Client::new()
            .put(url)
            .header("content-type", "video/quicktime")
            .header("x-amz-acl", "private")
            .body(part)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "part {}", i + 1);
    }
    assert_eq!(fake.file_bytes(&asset.id).unwrap(), data);
    let listed = support::client(&fake).files_list().account_id(&account).folder_id(&root).send().await.unwrap();
    assert!(matches!(&listed.into_inner().data[..],
        [frameio_gen::v4::types::AssetWithIncludes::File(f)] if f.id == asset.id && f.name == "A001_C001.mov"));
    let me = camera.accounts_device_identify().send().await.unwrap().into_inner();
    assert!(me.last_seen_at.is_some(), "the heartbeat was seen");
    let recorded = fake.requests_to("authentication_auth_device_token");
    assert!(!format!("{recorded:?}").contains(SECRET), "form bodies stay out of Debug");
}
