//! C2C devices seeded as paired, and real-time uploads: parts registered as the file grows,
//! each checked against its registered size, assembled in number order once the final
//! part (with the total size) has arrived; a default name replaced by `asset_name`.

mod support;

use frameio_fake::Fake;
use frameio_gen::Hooks;
use frameio_gen::c2c::Client;
use frameio_gen::c2c::types::{AssetCreateRequest, RealtimePart, RealtimeUploadPartsRequest};

const MIB: u64 = 1024 * 1024;

fn device(fake: &Fake, access_token: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {access_token}").parse().unwrap());
    let http = reqwest::Client::builder().default_headers(headers).build().unwrap();
    Client::new_with_client(fake.base_url(), http, Hooks::default())
}

fn realtime(name: &str, extension: Option<&str>) -> AssetCreateRequest {
    AssetCreateRequest {
        autoversion_id: None,
        channel: None,
        extension: extension.map(str::to_string),
        filesize: None,
        filetype: Some("video/mp4".into()),
        is_realtime_upload: true,
        metadata: Default::default(),
        name: name.into(),
        offset: None,
        parts: None,
    }
}

fn part(number: i64, size: u64, is_final: bool) -> RealtimePart {
    RealtimePart { number, size: size as i64, is_final }
}

async fn put(url: &str, body: &[u8]) -> u16 {
    let response = reqwest::Client::new()
        .put(url)
        .header("content-type", "video/mp4")
        .header("x-amz-acl", "private")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

#[tokio::test]
async fn a_seeded_device_is_paired_with_its_project_and_its_tokens_rotate() {
    let fake = Fake::start().await.unwrap();
    let project = fake.seed().account("Acme").workspace("W").project("Testbed");
    let seeded = fake.seed().device("SN-0042", &project.id);
    let me = device(&fake, &seeded.tokens.access_token).accounts_device_identify().send().await.unwrap().into_inner();
    assert_eq!(me.id.as_deref(), Some(seeded.id.as_str()));
    assert_eq!(me.project_id.as_deref(), Some(project.id.as_str()));
    assert_eq!(me.project.as_ref().and_then(|p| p.name.as_deref()), Some("Testbed"), "as the guide's example");
    assert_eq!(fake.device_tokens(&seeded.id).as_ref(), Some(&seeded.tokens));
    assert!(!format!("{:?}", seeded.tokens).contains(&seeded.tokens.access_token), "tokens stay out of Debug");

    let again = fake.seed().device("SN-0042", &project.id);
    assert_eq!(again.id, seeded.id, "the same device, paired again");
    assert_ne!(again.tokens, seeded.tokens);
    let stale = device(&fake, &seeded.tokens.access_token).devices_device_heartbeat().send().await;
    assert!(stale.is_err(), "the old tokens went with the new pairing");
}

#[tokio::test]
async fn a_real_time_upload_is_assembled_in_part_order_once_the_final_part_arrives() {
    let fake = Fake::builder().max_file_size(64 * MIB).start().await.unwrap();
    let project = fake.seed().account("Acme").workspace("W").project("Set");
    let camera = device(&fake, &fake.seed().device("SN-1", &project.id).tokens.access_token);
    let asset = camera.devices_device_asset_create().body(realtime("", Some("mp4"))).send().await.unwrap();
    let asset = asset.into_inner();
    assert_eq!(asset.name.as_deref(), Some("[new file].mp4"));
    assert!(asset.upload_urls.is_empty(), "a real-time asset gets its URLs part by part");
    let data = frameio_fake::patterned_bytes(9, 0..11 * MIB);
    let (first, rest) = data.split_at(5 * MIB as usize);
    let (second, last) = rest.split_at(5 * MIB as usize);

    let register = |parts: Vec<RealtimePart>, total: Option<u64>, name: Option<&str>| {
        let body = RealtimeUploadPartsRequest {
            asset_filesize: total.map(|t| t as i64),
            asset_name: name.map(str::to_string),
            parts,
        };
        camera.devices_device_create_realtime_upload_parts().asset_id(&asset.id).body(body).send()
    };
    // Part 2 first: parts may come in any order.
    let urls = register(vec![part(2, 5 * MIB, false)], None, None).await.unwrap().into_inner().upload_urls;
    assert_eq!(put(&urls[0], second).await, 200);
    let urls = register(vec![part(1, 5 * MIB, false), part(3, MIB, true)], Some(11 * MIB), Some("A001.mp4"))
        .await
        .unwrap()
        .into_inner()
        .upload_urls;
    assert_eq!(urls.len(), 2, "one URL per part, in request order");
    assert_eq!(put(&urls[1], last).await, 200);
    assert_eq!(fake.file_status(&asset.id), Some("created"), "part 1 is still missing");
    assert_eq!(put(&urls[0], &first[1..]).await, 403, "a part of another size than registered");
    assert_eq!(put(&urls[0], first).await, 200);
    assert_eq!(fake.file_bytes(&asset.id).unwrap(), data);
    assert_ne!(fake.file_status(&asset.id), Some("created"));

    let root = project.root_folder_id.clone();
    let files = support::client(&fake).files_list().account_id(&project.account_id).folder_id(&root).send().await;
    let names: Vec<String> = files
        .unwrap()
        .into_inner()
        .data
        .iter()
        .filter_map(|a| match a {
            frameio_gen::v4::types::AssetWithIncludes::File(f) => Some(f.name.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["A001.mp4"], "`asset_name` replaced the default name");
    let late = register(vec![part(4, MIB, false)], None, None).await;
    assert!(late.is_err(), "no parts after the upload completed");
}

#[tokio::test]
async fn real_time_parts_keep_to_s3s_limits() {
    let fake = Fake::start().await.unwrap();
    let project = fake.seed().account("Acme").workspace("W").project("Set");
    let camera = device(&fake, &fake.seed().device("SN-1", &project.id).tokens.access_token);
    let asset = camera.devices_device_asset_create().body(realtime("A.mp4", None)).send().await.unwrap().into_inner();
    assert_eq!(asset.name.as_deref(), Some("A.mp4"));
    for (parts, total) in [
        (vec![part(1, 5 * MIB - 1, false)], None),
        (vec![part(1, 10, true)], None),
        (vec![part(10_001, 5 * MIB, false)], None),
    ] {
        let body = RealtimeUploadPartsRequest { asset_filesize: total, asset_name: None, parts };
        let refused = camera.devices_device_create_realtime_upload_parts().asset_id(&asset.id).body(body).send().await;
        let Err(frameio_gen::Error::ErrorResponse(error)) = refused else { panic!("{refused:?}") };
        assert_eq!(error.status().as_u16(), 422);
    }
    let body =
        RealtimeUploadPartsRequest { asset_filesize: None, asset_name: None, parts: vec![part(1, 5 * MIB, false)] };
    let unknown = camera.devices_device_create_realtime_upload_parts().asset_id("nope").body(body).send().await;
    assert!(matches!(unknown, Err(frameio_gen::Error::ErrorResponse(e)) if e.status().as_u16() == 404));
}
