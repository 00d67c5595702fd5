//! Pagination as the guide describes it: page size (default 50, at most 100),
//! opaque cursors in `links.next` (a relative URL keeping every query
//! parameter), `total_count` on request, over real HTTP.

mod support;

use frameio_fake::Fake;
use frameio_gen::v4::types::{AssetWithIncludes, FileAssetsWithIncludesResponse};
use support::{client, envelope, get};

/// A fake whose one folder holds `n` files, named `f000`...; returns (fake, account, folder).
async fn folder_of(n: usize) -> (Fake, String, String) {
    let fake = Fake::start().await.unwrap();
    let (account, folder) = {
        let account = fake.seed().account("Acme");
        let folder = account.workspace("W").project("P").root().folder("Many");
        for i in 0..n {
            folder.file(&format!("f{i:03}.txt"), vec![b'x'; 1]);
        }
        (account.id, folder.id)
    };
    (fake, account, folder)
}

fn names(page: &FileAssetsWithIncludesResponse) -> Vec<String> {
    page.data
        .iter()
        .map(|item| match item {
            AssetWithIncludes::File(f) => f.name.clone(),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn walking_250_files_at_100_a_page_takes_three_pages_by_links_next() {
    let (fake, account, folder) = folder_of(250).await;
    let mut next =
        Some(format!("/v4/accounts/{account}/folders/{folder}/files?page_size=100&include_total_count=true"));
    let (mut seen, mut pages, mut cursors) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(link) = next {
        assert!(link.starts_with('/'), "links.next is relative: {link}");
        let response = get(&fake, &link).await;
        assert_eq!(response.status(), 200);
        let page: FileAssetsWithIncludesResponse = response.json().await.unwrap();
        assert_eq!(page.total_count, Some(250));
        pages.push(page.data.len());
        seen.extend(names(&page));
        next = page.links.next.clone();
        if let Some(link) = &next {
            assert!(link.contains("page_size=100") && link.contains("include_total_count=true"), "{link}");
            cursors.push(link.split("after=").nth(1).unwrap().to_string());
        }
    }
    assert_eq!(pages, [100, 100, 50]);
    assert_eq!(seen, (0..250).map(|i| format!("f{i:03}.txt")).collect::<Vec<_>>());
    assert_eq!(cursors.len(), 2);
    assert_ne!(cursors[0], cursors[1]);
    assert!(cursors.iter().all(|c| c.contains('%')), "cursors are percent-encoded base64: {cursors:?}");
}

#[tokio::test]
async fn the_default_page_is_50_and_the_total_only_on_request() {
    let (fake, account, folder) = folder_of(60).await;
    let page = client(&fake).files_list().account_id(&account).folder_id(&folder).send().await.unwrap().into_inner();
    assert_eq!(page.data.len(), 50);
    assert_eq!(page.total_count, None);
    let next = page.links.next.unwrap();
    assert!(next.starts_with(&format!("/v4/accounts/{account}/folders/{folder}/files?after=")), "{next}");
    let last: FileAssetsWithIncludesResponse = get(&fake, &next).await.json().await.unwrap();
    assert_eq!((last.data.len(), last.links.next), (10, None));
}

#[tokio::test]
async fn later_pages_keep_every_parameter_and_only_the_cursor_changes() {
    let (fake, account, folder) = folder_of(5).await;
    let first =
        format!("/v4/accounts/{account}/folders/{folder}/children?include=creator%2Cproject&type=file&page_size=2");
    let page: FileAssetsWithIncludesResponse = get(&fake, &first).await.json().await.unwrap();
    let second = page.links.next.unwrap();
    assert!(second.starts_with(&format!("{first}&after=")), "{second}");
    let page: FileAssetsWithIncludesResponse = get(&fake, &second).await.json().await.unwrap();
    let third = page.links.next.unwrap();
    assert_eq!(third.matches("after=").count(), 1, "the cursor is replaced, not added: {third}");
    assert!(matches!(&page.data[0], AssetWithIncludes::File(f) if f.creator.is_some() && f.project.is_some()));
}

#[tokio::test]
async fn a_bad_page_size_or_a_foreign_cursor_is_a_422() {
    let (fake, account, folder) = folder_of(3).await;
    let base = format!("/v4/accounts/{account}/folders/{folder}/files");
    for query in ["page_size=0", "page_size=101", "page_size=ten", "after=bm90LWEtY3Vyc29y", "include_total_count=yes"]
    {
        let response = get(&fake, &format!("{base}?{query}")).await;
        assert_eq!(response.status(), 422, "{query}");
        assert!(!envelope(response).await.errors[0].detail.is_empty());
    }
    // A cursor from another listing.
    let other = format!("/v4/accounts/{account}/folders/{folder}/children?page_size=1");
    let page: FileAssetsWithIncludesResponse = get(&fake, &other).await.json().await.unwrap();
    let cursor = page.links.next.unwrap().split("after=").nth(1).unwrap().to_string();
    assert_eq!(get(&fake, &format!("{base}?after={cursor}")).await.status(), 422);
    assert_eq!(get(&fake, &format!("{base}?page_size=100")).await.status(), 200);
}

#[tokio::test]
async fn an_empty_listing_is_one_page_without_next() {
    let (fake, account, folder) = folder_of(0).await;
    let page = client(&fake)
        .files_list()
        .account_id(&account)
        .folder_id(&folder)
        .include_total_count(true)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(page.data.is_empty());
    assert_eq!((page.links.next, page.total_count), (None, Some(0)));
}
