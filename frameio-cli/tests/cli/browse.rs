//! `fio ls` and `fio tree`, and how targets (ids, web URLs) are read.

use crate::support::{Env, exit, view_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_without_a_target_lists_the_projects() {
    let env = Env::signed_in().await;
    let table = env.fio(&["ls"]);
    let out = table.ok();
    assert!(out.starts_with("WORKSPACE"), "{out}");
    assert!(out.contains("Launch Film") && out.contains("Archive"), "{out}");
    assert!(out.contains(&env.demo().project_id), "{out}");

    let json = env.fio(&["ls", "--json"]).json();
    let names: Vec<&str> = json.as_array().unwrap().iter().map(|p| p["project"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Launch Film", "Archive"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_a_folder_by_id_project_url_and_view_url() {
    let env = Env::signed_in().await;
    let demo = env.demo().clone();

    let by_id = env.fio(&["ls", &demo.dailies_folder_id]);
    let out = by_id.ok();
    assert!(out.lines().next().unwrap().starts_with("TYPE"), "{out}");
    assert!(out.contains("Day 01") && out.contains("Day 02"), "{out}");

    let project_url = format!("https://next.frame.io/project/{}", demo.project_id);
    let root = env.fio(&["ls", &project_url, "--json"]).json();
    let names: Vec<&str> = root.as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["README.txt", "Dailies", "Edits", "Stills"]);

    let view = env.fio(&["ls", "--json", &view_url(&demo.project_id, &demo.edits_folder_id)]).json();
    assert_eq!(view[0]["type"], "version_stack", "{view}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_a_version_stack_lists_its_versions_and_a_file_itself() {
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    let stack = env.fio(&["ls", "--json", &demo.version_stack_id]).json();
    let names: Vec<&str> = stack.as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Cut v1.mp4", "Cut v2.mp4", "Cut v3.mp4"]);

    let file = env.fio(&["ls", &demo.readme_file_id]);
    let out = file.ok();
    assert!(out.contains("README.txt") && out.contains("43 B"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tree_draws_every_level() {
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    let tree = env.fio(&["tree", &format!("https://next.frame.io/project/{}/", demo.project_id)]);
    let out = tree.ok();
    assert!(out.starts_with("Launch Film/\n"), "{out}");
    assert!(out.contains("├── Dailies/\n│   ├── Day 01/\n│   │   ├── A001_C001.mov  (2.0 MiB)"), "{out}");
    assert!(out.contains("└── Stills/\n    ├── poster.png"), "{out}");
    assert!(out.contains("5 folders, 6 files, 1 version stack"), "{out}");

    let shallow = env.fio(&["tree", "--depth", "1", &demo.dailies_folder_id]);
    assert!(!shallow.ok().contains("A001_C001.mov"), "{}", shallow.stdout);

    let json = env.fio(&["tree", "--json", &demo.dailies_folder_id]).json();
    let paths: Vec<&str> = json.as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"Day 01/A001_C002.mov"), "{paths:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_url_shapes_are_one_line_usage_errors() {
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    for bad in [
        format!("https://app.frame.io/player/{}", demo.readme_file_id),
        format!("https://next.frame.io/share/{}", demo.readme_file_id),
        format!("https://next.frame.io/project/{}/{}", demo.project_id, demo.dailies_folder_id),
        "https://f.io/AbCd".to_string(),
        "not an id".to_string(),
    ] {
        env.fio(&["ls", &bad]).fails(exit::USAGE, "next.frame.io/project/<project-id>");
    }
    assert!(env.fake.requests_to("folders_show").is_empty(), "a refused URL sends nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_of_the_wrong_kind_and_unknown_ids() {
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    let line = env.fio(&["tree", &demo.readme_file_id]).fails(exit::USAGE, "is a file (\"README.txt\"), not a folder");
    assert!(line.contains(&demo.readme_file_id), "{line}");
    env.fio(&["tree", &demo.version_stack_id]).fails(exit::USAGE, "is a version stack");

    env.fio(&["ls", "00000000-0000-4000-8000-000000000000"])
        .fails(exit::NOT_FOUND, "no file, folder, version stack or project");
    let other_project = format!("https://next.frame.io/project/{}/view/{}", demo.account_id, demo.readme_file_id);
    env.fio(&["ls", &other_project]).fails(exit::NOT_FOUND, "is not in project");
    env.fio(&["ls", "--account", "nope", &demo.dailies_folder_id]).fails(exit::NOT_FOUND, "account nope");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_api_is_a_network_error() {
    let env = Env::signed_in().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let run = env.fio(&["ls", "--base-url", &format!("http://{closed}")]);
    run.fails(exit::NETWORK, "could not reach Frame.io");
}
