//! `fio search`: the fake Frame.io does not serve search, so these run
//! against an httpmock server answering the documented shapes.

use httpmock::prelude::*;
use serde_json::json;

use crate::support::{Env, TOKEN, exit};

const ACCOUNT: &str = "6f70f1bd-7e89-4a7e-b4d3-7e576585a181";
const AT: &str = "2024-10-02T00:22:44.887775Z";

async fn api() -> MockServer {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v4/accounts").header("authorization", format!("Bearer {TOKEN}"));
            then.status(200).json_body(json!({
                "data": [{ "id": ACCOUNT, "display_name": "Acme", "created_at": AT, "updated_at": AT,
                           "roles": ["owner"], "storage_limit": null, "storage_usage": 0 }],
                "links": { "next": null }
            }));
        })
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_prints_files_folders_and_projects() {
    let env = Env::start().await;
    let server = api().await;
    let search = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("/v4/accounts/{ACCOUNT}/search"))
                .json_body_includes(r#"{"engine": "lexical", "query": "cut", "filters": {"files_and_version_stacks": true, "folders": false, "projects": true}}"#);
            then.status(200).json_body(json!({
                "data": [
                    { "type": "file_result", "matches": [], "result": {
                        "id": "f-1", "name": "Cut v3.mp4", "type": "file", "parent_id": "d-1", "project_id": "p-1",
                        "created_at": AT, "updated_at": AT, "view_url": "https://next.frame.io/project/p-1/view/f-1" } },
                    { "type": "project_result", "matches": [], "result": {
                        "id": "p-1", "name": "Cutting Room", "root_folder_id": "d-0", "status": "active", "storage": 0,
                        "workspace_id": "w-1", "created_at": AT, "updated_at": AT,
                        "view_url": "https://next.frame.io/project/p-1" } }
                ],
                "links": { "next": null }
            }));
        })
        .await;
    let run = |extra: &[&str]| {
        let mut command = env.command();
        command
            .env("FRAMEIO_TOKEN", TOKEN)
            .args(["--base-url", &server.base_url(), "search", "cut", "--kind", "file,project"])
            .args(extra);
        env.run(&mut command)
    };
    let table = run(&[]);
    assert_eq!(
        table.ok(),
        "TYPE     NAME          ID   PROJECT\nfile     Cut v3.mp4    f-1  p-1\nproject  Cutting Room  p-1  p-1\n"
    );
    let json = run(&["--json"]).json();
    assert_eq!(json[0]["result"]["name"], "Cut v3.mp4");
    assert_eq!(json[1]["type"], "project_result");
    search.assert_calls_async(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_refuses_empty_queries_and_reports_the_server() {
    let env = Env::signed_in().await;
    env.fio(&["search", " "]).fails(exit::USAGE, "give something to search for");
    env.fio(&["search", "x", "--limit", "0"]).fails(exit::USAGE, "--limit must be between 1 and");
    env.fio(&["search", "x", "--kind", "planet"]).fails(exit::USAGE, "invalid value 'planet'");
    // The fake answers 501 to search: an API refusal, in one line.
    env.fio(&["search", "cut"]).fails(exit::API, "501 Not Implemented");
}
