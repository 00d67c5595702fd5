//! `fio upload` and `fio download`.

use crate::support::{Env, exit, view_url};

/// Bytes that differ from offset to offset, so a misplaced part shows.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_files_into_a_folder_by_url() {
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    let dir = env.scratch("up");
    let big = pattern(200 * 1024 + 7, 1);
    std::fs::write(dir.join("B002_C001.mov"), &big).unwrap();
    std::fs::write(dir.join("notes.txt"), b"slate notes\n").unwrap();

    let run = env.fio(&[
        "upload",
        dir.join("B002_C001.mov").to_str().unwrap(),
        dir.join("notes.txt").to_str().unwrap(),
        &view_url(&demo.project_id, &demo.dailies_folder_id),
    ]);
    let out = run.ok();
    assert!(out.starts_with("PATH"), "{out}");
    assert_eq!(out.matches("  uploaded  ").count(), 2, "{out}");
    assert!(
        out.ends_with(&format!("\n2 of 2 files uploaded into \"Dailies\" ({})\n", demo.dailies_folder_id)),
        "{out}"
    );
    assert_eq!(env.fake.requests_to(frameio_fake::STORAGE_UPLOAD).len(), 5, "4 parts of 64 KiB and 1");

    let listing = env.fio(&["ls", "--json", &demo.dailies_folder_id]).json();
    let id_of = |name: &str| {
        listing.as_array().unwrap().iter().find(|i| i["name"] == name).map(|i| i["id"].as_str().unwrap().to_string())
    };
    assert_eq!(env.fake.file_bytes(&id_of("B002_C001.mov").unwrap()).unwrap(), big);
    assert_eq!(env.fake.file_bytes(&id_of("notes.txt").unwrap()).unwrap(), &b"slate notes\n"[..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_json_names_every_created_file() {
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    let file = env.scratch("json").join("still.png");
    std::fs::write(&file, pattern(1000, 2)).unwrap();
    let json = env.fio(&["upload", "--json", file.to_str().unwrap(), &demo.project_id]).json();
    assert_eq!(json["folder_id"], demo.root_folder_id.as_str());
    assert_eq!(json["uploaded"][0]["name"], "still.png");
    assert_eq!(json["failed"], serde_json::json!([]));
    let id = json["uploaded"][0]["id"].as_str().unwrap();
    assert_eq!(env.fake.file_bytes(id).unwrap(), pattern(1000, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_checks_every_path_and_the_destination_first() {
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    let file = env.scratch("bad").join("a.mov");
    std::fs::write(&file, b"a").unwrap();
    let file = file.to_str().unwrap();
    let missing = env.scratch("bad").join("missing.mov");
    env.fio(&["upload", file, missing.to_str().unwrap(), &demo.dailies_folder_id])
        .fails(exit::NOT_FOUND, "missing.mov does not exist");
    env.fio(&["upload", file, &demo.readme_file_id]).fails(exit::USAGE, "DEST");
    env.fio(&["upload", file, &demo.version_stack_id]).fails(exit::USAGE, "is a version stack");
    env.fio(&["upload", file, "https://next.frame.io/project/x/view/y/z"]).fails(exit::USAGE, "URL shape");
    env.fio(&["upload", file, "00000000-0000-4000-8000-000000000000"]).fails(exit::NOT_FOUND, "no file, folder");
    assert!(env.fake.requests_to("files_create_local_upload").is_empty(), "nothing was created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_file_among_several_is_a_partial_transfer() {
    use frameio_fake::{Fault, Target};
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    let dir = env.scratch("partial");
    for name in ["one.txt", "two.txt"] {
        std::fs::write(dir.join(name), name).unwrap();
    }
    env.fake.fault(Target::operation(frameio_fake::STORAGE_UPLOAD), Fault::status(403).times(1));
    let run = env.fio(&[
        "upload",
        dir.join("one.txt").to_str().unwrap(),
        dir.join("two.txt").to_str().unwrap(),
        &demo.dailies_folder_id,
    ]);
    run.fails(exit::PARTIAL, "1 of 2 files failed to upload");
    assert_eq!(run.stdout.matches("  uploaded  ").count(), 1, "{run:#?}");
    assert_eq!(run.stdout.matches("failed:").count(), 1, "{run:#?}");

    env.fake.fault(Target::operation(frameio_fake::STORAGE_UPLOAD), Fault::status(403).times(1));
    env.fio(&["upload", dir.join("one.txt").to_str().unwrap(), &demo.dailies_folder_id]).fails(exit::API, "one.txt");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_an_upload_and_exits_130() {
    use std::process::Stdio;
    use std::time::Duration;

    use frameio_fake::{Fault, Target};
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    let file = env.scratch("stall").join("slow.mov");
    std::fs::write(&file, pattern(100, 3)).unwrap();
    env.fake.fault(Target::operation(frameio_fake::STORAGE_UPLOAD), Fault::stall_after(10));
    let child = env
        .command()
        .args(["upload", file.to_str().unwrap(), &demo.dailies_folder_id])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while env.fake.requests_to(frameio_fake::STORAGE_UPLOAD).is_empty() && env.fake.pending_faults() > 0 {
        assert!(std::time::Instant::now() < deadline, "the upload never reached storage");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let killed = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let run = env.judge(child.wait_with_output().unwrap());
    assert_eq!(run.code, 130, "{run:#?}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines, ["fio: stopping; Ctrl-C again to quit at once", "fio: interrupted: 0 of 1 file uploaded"]);
}
