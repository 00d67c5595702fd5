//! Pagination streams and the tree walk, against a real local server (httpmock):
//! parameters kept, one page ahead, errors that carry their cursor, resuming,
//! the server's quirks followed with a bound, and cycles caught.

mod support;

use std::time::Duration;

use frameio_ext::pagination::{EMPTY_PAGE_RETRIES, PaginationError};
use frameio_ext::tree::{WalkOptions, walk};
use frameio_ext::types::{AssetInclude, AssetWithIncludes};
use frameio_ext::{Client, RateLimiting, RetryPolicy};
use futures::{StreamExt, TryStreamExt};
use httpmock::prelude::*;
use serde_json::{Value, json};

/// A client for `url` that does not retry and does not pace.
fn client(url: &str) -> Client {
    builder(url).build().unwrap()
}

fn builder(url: &str) -> frameio_ext::ClientBuilder {
    Client::builder()
        .base_url(url)
        .bearer_token("t")
        .retry_policy(RetryPolicy::none())
        .rate_limiting(RateLimiting::disabled())
}

const FILES: &str = "/v4/accounts/a/folders/f/files";

fn file(name: &str) -> Value {
    json!({
        "type": "file", "id": format!("id-{name}"), "name": name, "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z", "file_size": 1, "media_type": "image/png", "parent_id": "f",
        "project_id": "p", "status": "uploaded", "view_url": "https://next.frame.io/x"
    })
}

fn folder(id: &str, name: &str) -> Value {
    json!({
        "type": "folder", "id": id, "name": name, "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z", "parent_id": "f", "project_id": "p", "view_url": "https://next.frame.io/x", "cover_file_id": null
    })
}

/// (path, `after` cursor expected, items, `links.next`) of one listed page.
type Listing<'a> = (String, Option<&'a str>, Vec<Value>, Option<String>);

/// A page whose `links.next` carries only the cursor, as the server sends it.
fn page(items: Vec<Value>, next: Option<&str>) -> Value {
    let next = next.map(|cursor| format!("{FILES}?after={cursor}"));
    json!({"data": items, "links": {"next": next}, "total_count": 5})
}

fn names(items: &[AssetWithIncludes]) -> Vec<String> {
    items
        .iter()
        .map(|item| match item {
            AssetWithIncludes::File(f) => f.name.clone(),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn later_pages_repeat_every_parameter_and_only_the_cursor_changes() {
    let server = MockServer::start_async().await;
    let mut mocks = Vec::new();
    for (after, items, next) in [
        (None, vec![file("a"), file("b")], Some("c2")),
        (Some("c2"), vec![file("c")], Some("c3")),
        (Some("c3"), vec![file("d"), file("e")], None),
    ] {
        mocks.push(
            server
                .mock_async(|when, then| {
                    let when = when
                        .method(GET)
                        .path(FILES)
                        .query_param("include", "creator,project")
                        .query_param("sort", "name_asc")
                        .query_param("page_size", "100")
                        .header("x-trace", "kept");
                    match after {
                        Some(cursor) => when.query_param("after", cursor),
                        None => when.query_param_missing("after"),
                    };
                    then.status(200).json_body(page(items, next));
                })
                .await,
        );
    }
    let client = builder(&server.base_url()).http_client(traced_client()).build().unwrap();
    let request = client
        .files_list()
        .account_id("a")
        .folder_id("f")
        .include([AssetInclude::Creator, AssetInclude::Project])
        .sort("name_asc");
    let items: Vec<_> = request.stream().try_collect().await.unwrap();
    assert_eq!(names(&items), ["a", "b", "c", "d", "e"]);
    for mock in &mocks {
        mock.assert_async().await;
    }
}

/// A client that sends a per-request header, to check later pages keep it.
fn traced_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-trace", "kept".parse().unwrap());
    frameio_ext::tls::install_default_provider();
    reqwest::Client::builder().default_headers(headers).build().unwrap()
}

#[tokio::test]
async fn an_error_on_a_later_page_is_a_stream_item() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(FILES).query_param_missing("after");
            then.status(200).json_body(page(vec![file("a")], Some("c2")));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(FILES).query_param("after", "c2");
            then.status(403).json_body(json!({"errors": [{"detail": "no access"}]}));
        })
        .await;
    let client = client(&server.base_url());
    let results: Vec<_> = client.files_list().account_id("a").folder_id("f").stream().collect().await;
    assert_eq!(results.len(), 2, "{results:?}");
    assert!(results[0].is_ok());
    let err = results[1].as_ref().unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403), "{err}");
    assert_eq!(err.resume_cursor(), Some(Some("c2")), "the error names the page that failed");
}

#[tokio::test]
async fn an_empty_middle_page_does_not_end_the_stream() {
    let server = MockServer::start_async().await;
    for (after, items, next) in
        [(None, vec![file("a")], Some("c2")), (Some("c2"), vec![], Some("c3")), (Some("c3"), vec![file("z")], None)]
    {
        server
            .mock_async(|when, then| {
                match after {
                    Some(cursor) => when.method(GET).path(FILES).query_param("after", cursor),
                    None => when.method(GET).path(FILES).query_param_missing("after"),
                };
                then.status(200).json_body(page(items, next));
            })
            .await;
    }
    let client = client(&server.base_url());
    let items: Vec<_> = client.files_list().account_id("a").folder_id("f").stream().try_collect().await.unwrap();
    assert_eq!(names(&items), ["a", "z"]);
}

#[tokio::test]
async fn a_repeated_cursor_is_an_error_not_a_loop() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(FILES).query_param_missing("after");
            then.status(200).json_body(page(vec![file("a")], Some("same")));
        })
        .await;
    let again = server
        .mock_async(|when, then| {
            when.method(GET).path(FILES).query_param("after", "same");
            then.status(200).json_body(page(vec![file("b")], Some("same")));
        })
        .await;
    let client = client(&server.base_url());
    let results: Vec<_> = client.files_list().account_id("a").folder_id("f").stream().collect().await;
    assert_eq!(results.len(), 3, "{results:?}");
    assert!(matches!(
        results[2].as_ref().unwrap_err(),
        frameio_ext::Error::Pagination(PaginationError::Cycle { cursor, .. }) if cursor == "same"
    ));
    assert_eq!(again.calls_async().await, 1);
}

#[tokio::test]
async fn a_cycle_of_cursors_is_an_error_not_a_loop() {
    let server = MockServer::start_async().await;
    // c1 -> c2 -> c1: the server alternates, each page with an item.
    for (after, next) in [(None, "c1"), (Some("c1"), "c2"), (Some("c2"), "c1")] {
        server
            .mock_async(|when, then| {
                match after {
                    Some(cursor) => when.method(GET).path(FILES).query_param("after", cursor),
                    None => when.method(GET).path(FILES).query_param_missing("after"),
                };
                then.status(200).json_body(page(vec![file(next)], Some(next)));
            })
            .await;
    }
    let client = client(&server.base_url());
    let results: Vec<_> = client.files_list().account_id("a").folder_id("f").stream().collect().await;
    assert_eq!(results.len(), 4, "three pages, then the cycle: {results:?}");
    let error = results[3].as_ref().unwrap_err();
    assert!(matches!(error, frameio_ext::Error::Pagination(PaginationError::Cycle { cursor, .. }) if cursor == "c1"));
    assert!(error.to_string().contains("cycle"), "{error}");
}

#[tokio::test]
async fn an_empty_page_that_repeats_its_cursor_is_asked_again_a_bounded_number_of_times() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(FILES).query_param_missing("after");
            then.status(200).json_body(page(vec![file("a")], Some("slow")));
        })
        .await;
    let stuck = server
        .mock_async(|when, then| {
            when.method(GET).path(FILES).query_param("after", "slow");
            then.status(200).json_body(page(vec![], Some("slow")));
        })
        .await;
    let client = client(&server.base_url());
    let results: Vec<_> = client.files_list().account_id("a").folder_id("f").stream().collect().await;
    assert_eq!(results.len(), 2, "{results:?}");
    let error = results[1].as_ref().unwrap_err();
    assert!(matches!(error, frameio_ext::Error::Pagination(PaginationError::StuckEmptyPage { .. })), "{error}");
    assert_eq!(stuck.calls_async().await, 1 + EMPTY_PAGE_RETRIES as usize);
}

#[tokio::test]
async fn an_empty_page_that_repeats_its_cursor_then_moves_on_completes() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(FILES).query_param_missing("after");
            then.status(200).json_body(page(vec![file("a")], Some("slow")));
        })
        .await;
    let stuck = server
        .mock_async(|when, then| {
            when.method(GET).path(FILES).query_param("after", "slow");
            then.status(200).json_body(page(vec![], Some("slow")));
        })
        .await;
    let client = client(&server.base_url());
    let mut items = client.files_list().account_id("a").folder_id("f").stream();
    assert_eq!(names(&[items.try_next().await.unwrap().unwrap()]), ["a"]);
    // The server catches up after the first repeat.
    while stuck.calls_async().await < 1 {
        tokio::task::yield_now().await;
    }
    stuck.delete_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(FILES).query_param("after", "slow");
            then.status(200).json_body(page(vec![file("b")], None));
        })
        .await;
    let rest: Vec<_> = items.try_collect().await.unwrap();
    assert_eq!(names(&rest), ["b"]);
}

#[tokio::test]
async fn a_listing_resumes_from_the_cursor_of_the_page_that_failed() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(FILES).query_param_missing("after");
            then.status(200).json_body(page(vec![file("a"), file("b")], Some("c2")));
        })
        .await;
    let broken = server
        .mock_async(|when, then| {
            when.method(GET).path(FILES).query_param("after", "c2");
            then.status(503).json_body(json!({"errors": [{"detail": "busy"}]}));
        })
        .await;
    let client = client(&server.base_url());
    let listing = client.files_list().account_id("a").folder_id("f");
    let mut seen = Vec::new();
    let mut items = listing.clone().stream();
    let error = loop {
        match items.try_next().await {
            Ok(Some(item)) => seen.push(item),
            Ok(None) => panic!("the listing should have stopped at page 2"),
            Err(error) => break error,
        }
    };
    let Some(Some(after)) = error.resume_cursor() else { panic!("a cursor to resume from: {error}") };
    assert_eq!(after, "c2");
    broken.delete_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(FILES).query_param("after", "c2");
            then.status(200).json_body(page(vec![file("c")], None));
        })
        .await;
    let mut pages = listing.after(after).pages();
    let resumed = pages.try_next().await.unwrap().unwrap();
    assert_eq!(resumed.after.as_deref(), Some("c2"), "a page tells its own cursor");
    seen.extend(resumed.items);
    assert!(pages.try_next().await.unwrap().is_none());
    assert_eq!(names(&seen), ["a", "b", "c"], "nothing listed twice, nothing lost");
}

#[tokio::test]
async fn the_next_page_is_requested_before_this_one_is_consumed() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(FILES).query_param_missing("after");
            then.status(200).json_body(page((0..5).map(|i| file(&i.to_string())).collect(), Some("c2")));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method(GET).path(FILES).query_param("after", "c2");
            then.status(200).json_body(page(vec![file("last")], None));
        })
        .await;
    let client = client(&server.base_url());
    let mut items = client.files_list().account_id("a").folder_id("f").stream();
    for _ in 0..3 {
        items.try_next().await.unwrap().unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(second.calls_async().await, 1, "page 2 was not requested while page 1 was being consumed");
    let rest: Vec<_> = items.try_collect().await.unwrap();
    assert_eq!(rest.len(), 3);
    assert_eq!(second.calls_async().await, 1, "page 2 was requested twice");
}

#[tokio::test]
async fn pages_carry_the_total_and_the_caller_page_size_wins() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path(FILES).query_param("page_size", "20").query_param("include_total_count", "true");
            then.status(200).json_body(page(vec![file("a")], None));
        })
        .await;
    let client = client(&server.base_url());
    let request = client.files_list().account_id("a").folder_id("f").page_size(20).include_total_count(true);
    let pages: Vec<_> = request.pages().try_collect().await.unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].total_count, Some(5));
    assert_eq!((pages[0].after.as_deref(), pages[0].next.as_deref()), (None, None));
    mock.assert_async().await;
}

/// root: a.txt, B/, V (version stack); B: c.txt | (page 2) D/; D: e.txt
#[tokio::test]
async fn the_tree_walk_returns_every_item_once_with_its_path() {
    let server = MockServer::start_async().await;
    let children = |id: &str| format!("/v4/accounts/a/folders/{id}/children");
    let stack = json!({"type": "version_stack", "id": "v", "name": "V", "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z", "parent_id": "root", "project_id": "p", "view_url": "https://x", "head_version": null});
    let listings: Vec<Listing> = vec![
        (children("root"), None, vec![file("a.txt"), folder("b", "B"), stack], None),
        (children("b"), None, vec![file("c.txt")], Some(format!("{}?after=b2", children("b")))),
        (children("b"), Some("b2"), vec![folder("d", "D")], None),
        (children("d"), None, vec![file("e.txt")], None),
    ];
    let mut mocks = Vec::new();
    for (path, after, items, next) in listings {
        mocks.push(
            server
                .mock_async(|when, then| {
                    let when = when.method(GET).path(path).query_param("page_size", "100");
                    match after {
                        Some(cursor) => when.query_param("after", cursor),
                        None => when.query_param_missing("after"),
                    };
                    then.status(200).json_body(json!({"data": items, "links": {"next": next}}));
                })
                .await,
        );
    }
    let client = client(&server.base_url());
    let mut found: Vec<(String, usize, String)> = walk(&client, "a", "root", WalkOptions::new().concurrency(2))
        .map_ok(|e| (e.path, e.depth, e.item.tag().to_string()))
        .try_collect()
        .await
        .unwrap();
    found.sort();
    let expected = [
        ("B", 1, "folder"),
        ("B/D", 2, "folder"),
        ("B/D/e.txt", 3, "file"),
        ("B/c.txt", 2, "file"),
        ("V", 1, "version_stack"),
        ("a.txt", 1, "file"),
    ];
    assert_eq!(found, expected.map(|(p, d, t)| (p.to_string(), d, t.to_string())));
    for mock in &mocks {
        assert_eq!(mock.calls_async().await, 1, "a folder page was listed more or less than once");
    }

    let files: Vec<_> = walk(&client, "a", "root", WalkOptions::new().files_only().max_depth(2))
        .map_ok(|e| e.path)
        .try_collect()
        .await
        .unwrap();
    let mut files = files;
    files.sort();
    assert_eq!(files, ["B/c.txt", "a.txt"]);
}

/// Two accounts; the first has two workspaces (one with two projects on two
/// pages) and invitations to a project it already sees and one it does not;
/// the second one workspace with no projects and no invited-projects listing.
#[tokio::test]
async fn projects_are_listed_across_accounts_workspaces_and_invitations() {
    let server = MockServer::start_async().await;
    let at = "2024-01-01T00:00:00Z";
    let account = |id: &str| json!({"id": id, "created_at": at, "updated_at": at, "display_name": id, "roles": [], "storage_limit": null, "storage_usage": 0});
    let workspace = |account: &str, id: &str| json!({"id": id, "account_id": account, "name": id, "created_at": at, "updated_at": at});
    let project = |workspace: &str, id: &str| {
        json!({"id": id, "workspace_id": workspace, "name": id, "root_folder_id": "r", "status": "active",
        "storage": 0, "created_at": at, "updated_at": at, "view_url": "https://x", "description": null})
    };
    let listings: Vec<Listing> = vec![
        ("/v4/accounts".into(), None, vec![account("acc1"), account("acc2")], None),
        ("/v4/accounts/acc1/workspaces".into(), None, vec![workspace("acc1", "w1"), workspace("acc1", "w2")], None),
        ("/v4/accounts/acc2/workspaces".into(), None, vec![workspace("acc2", "w3")], None),
        (
            "/v4/accounts/acc1/workspaces/w1/projects".into(),
            None,
            vec![project("w1", "p1")],
            Some("/v4/accounts/acc1/workspaces/w1/projects?after=n".into()),
        ),
        ("/v4/accounts/acc1/workspaces/w1/projects".into(), Some("n"), vec![project("w1", "p2")], None),
        ("/v4/accounts/acc1/workspaces/w2/projects".into(), None, vec![project("w2", "p3")], None),
        ("/v4/accounts/acc2/workspaces/w3/projects".into(), None, vec![], None),
        ("/v4/accounts/acc1/invited_projects".into(), None, vec![project("w1", "p2"), project("w9", "p9")], None),
    ];
    for (path, after, items, next) in listings {
        server
            .mock_async(|when, then| {
                let when = when.method(GET).path(path);
                match after {
                    Some(cursor) => when.query_param("after", cursor),
                    None => when.query_param_missing("after"),
                };
                then.status(200).json_body(json!({"data": items, "links": {"next": next}}));
            })
            .await;
    }
    let unserved = server
        .mock_async(|when, then| {
            when.method(GET).path("/v4/accounts/acc2/invited_projects");
            then.status(404).json_body(json!({"errors": [{"detail": "Not found"}]}));
        })
        .await;
    let client = client(&server.base_url());
    let found: Vec<_> = frameio_ext::tree::projects(&client)
        .map_ok(|p| {
            format!("{}/{}/{}{}", p.account_id, p.workspace_id, p.project.id, if p.invited { " (invited)" } else { "" })
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(found, ["acc1/w1/p1", "acc1/w1/p2", "acc1/w2/p3", "acc1/w9/p9 (invited)"]);
    assert_eq!(unserved.calls_async().await, 1);
}

/// The same walk on the fake, which serves the invited-projects listing
/// (empty: its projects are all reached through their workspaces).
#[tokio::test]
async fn projects_of_the_fake_are_found_through_their_workspace() {
    let world = support::World::start().await;
    let client = world.client().build().unwrap();
    let found: Vec<_> = frameio_ext::tree::projects(&client).try_collect().await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].project.id.as_str(), found[0].invited), (world.project.as_str(), false));
    assert_eq!(found[0].account_id, world.account);
}
