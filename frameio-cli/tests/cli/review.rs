//! `fio share create` and `fio comments export`.

use crate::support::{Env, exit, view_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_create_of_a_folder_and_a_file() {
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    let table = env.fio(&[
        "share",
        "create",
        &demo.edits_folder_id,
        &view_url(&demo.project_id, &demo.readme_file_id),
        "--name",
        "Client cut",
    ]);
    let out = table.ok();
    assert!(out.starts_with("SHARE"), "{out}");
    assert!(out.contains("Client cut") && out.contains("public") && out.contains("https://f.io/"), "{out}");
    let sent = env.fake.requests_to("shares_create");
    let body: serde_json::Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(body["data"]["asset_ids"], serde_json::json!([demo.edits_folder_id, demo.readme_file_id]));
    assert!(sent[0].path.contains(&demo.project_id), "{}", sent[0].path);

    let json = env
        .fio(&["share", "create", "--json", "--secure", "--no-download", &demo.edits_folder_id, "--name", "Locked"])
        .json();
    assert_eq!(json["share"]["name"], "Locked");
    assert_eq!(json["share"]["access"], "secure");
    assert_eq!(json["project_id"], demo.project_id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_create_refuses_bad_input_before_sending() {
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    env.fio(&["share", "create", &demo.edits_folder_id, "--name", " "])
        .fails(exit::USAGE, "--name needs a non-blank name");
    env.fio(&["share", "create", &demo.edits_folder_id, "--name", "x", "--expires", "tomorrow"])
        .fails(exit::USAGE, "RFC 3339");
    env.fio(&["share", "create", "https://next.frame.io/reviews/abc", "--name", "x"]).fails(exit::USAGE, "URL shape");
    let other = env.fake.seed().existing_account(&demo.account_id).workspace("Other").project("Elsewhere");
    let elsewhere = other.root().file("other.txt", b"x".to_vec());
    env.fio(&["share", "create", &demo.edits_folder_id, &elsewhere.id, "--name", "x"])
        .fails(exit::USAGE, "a share is of one project");
    assert!(env.fake.requests_to("shares_create").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_export_as_csv_and_json() {
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    let cut = &demo.cut_file_ids[2];
    let csv = env.fio(&["comments", "export", &view_url(&demo.project_id, cut)]);
    let lines: Vec<&str> = csv.ok().lines().collect();
    assert_eq!(lines[0], "id,reply_to,created_at,author,email,timestamp,duration,page,completed_at,text");
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[1].ends_with(",Fake User,user@fake.frame.io,0,,,,Love the opening shot."), "{}", lines[1]);
    assert!(lines[2].ends_with(",Can we trim two seconds at the end?"), "{}", lines[2]);

    let json = env.fio(&["comments", "export", "--format", "json", cut]).json();
    assert_eq!(json[1]["text"], "Can we trim two seconds at the end?");
    assert_eq!(json[0]["owner"]["email"], "user@fake.frame.io");
    assert_eq!(env.fio(&["--json", "comments", "export", cut]).json(), json, "--json means --format json");

    let file = env.scratch("export").join("comments.csv");
    let written = env.fio(&["comments", "export", cut, "-o", file.to_str().unwrap()]);
    assert_eq!(written.ok(), "");
    assert!(written.stderr.contains("2 comments of \"Cut v3.mp4\" written to"), "{written:#?}");
    assert!(std::fs::read_to_string(&file).unwrap().starts_with("id,reply_to,"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_export_quotes_csv_and_wants_a_file() {
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    let project = env.fake.seed().existing_account(&demo.account_id).workspace("Notes").project("Quoting");
    let noted = project.root().file("note.txt", b"x".to_vec());
    noted.comment("cut here, \"tight\"\nthen fade");
    let quoted = env.fio(&["comments", "export", &noted.id]);
    assert!(quoted.ok().ends_with(",\"cut here, \"\"tight\"\"\nthen fade\"\n"), "{}", quoted.stdout);

    let clip = &demo.clip_file_ids[0];
    let rows = env.fio(&["comments", "export", clip]);
    assert_eq!(rows.ok().lines().count(), 1, "no comments: the header only");

    env.fio(&["comments", "export", &demo.dailies_folder_id])
        .fails(exit::USAGE, "is a folder (\"Dailies\"), not a file");
    env.fio(&["comments", "export", &demo.version_stack_id]).fails(exit::USAGE, "is a version stack");
    let dir = env.scratch("out");
    env.fio(&["comments", "export", clip, "-o", dir.to_str().unwrap()])
        .fails(exit::USAGE, "is a folder; give a file name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_that_cannot_be_written_is_a_local_error() {
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    let file = env.scratch("local").join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let inside_a_file = file.join("comments.csv");
    env.fio(&["comments", "export", &demo.cut_file_ids[2], "-o", inside_a_file.to_str().unwrap()])
        .fails(exit::LOCAL, "comments.csv");
}
