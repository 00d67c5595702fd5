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
    assert!(json["transferred"][0]["path"].as_str().unwrap().ends_with("still.png"), "{json}");
    assert_eq!(json["transferred"][0]["bytes"], 1000);
    assert_eq!(json["failed"], serde_json::json!([]));
    assert_eq!(json["skipped"], serde_json::json!([]));
    let id = json["transferred"][0]["id"].as_str().unwrap();
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
    for name in ["one.txt", "two.txt", "three.txt"] {
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
    let lone = dir.join("three.txt");
    let line = env.fio(&["upload", lone.to_str().unwrap(), &demo.dailies_folder_id]).fails(exit::API, "403 Forbidden");
    assert!(line.starts_with(&format!("fio: {}: ", lone.display())), "a lone file's failure names it: {line}");
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
    assert_eq!(
        lines,
        [
            "fio: stopping; Ctrl-C again to quit at once",
            "fio: interrupted: 0 of 1 file uploaded; run the same command again to resume"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_a_folder_tree_then_again_with_nothing_left_to_do() {
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    let day = env.scratch("tree").join("Day 03");
    std::fs::create_dir_all(day.join("A cam")).unwrap();
    std::fs::create_dir_all(day.join("notes")).unwrap();
    std::fs::write(day.join("A cam").join("C001.mov"), pattern(150 * 1024, 4)).unwrap();
    std::fs::write(day.join("C002.mov"), pattern(10, 5)).unwrap();
    std::fs::write(day.join("notes").join("slate.txt"), b"scene 4").unwrap();
    let day_arg = day.to_str().unwrap();

    let first = env.fio(&["upload", day_arg, &demo.dailies_folder_id]);
    assert!(first.ok().contains("3 of 3 files uploaded into \"Dailies\""), "{first:#?}");
    let tree = env.fio(&["tree", "--json", &demo.dailies_folder_id]).json();
    let paths: Vec<&str> = tree.as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    for want in ["Day 03", "Day 03/A cam/C001.mov", "Day 03/C002.mov", "Day 03/notes/slate.txt"] {
        assert!(paths.contains(&want), "{want} not in {paths:?}");
    }
    let c001 = tree.as_array().unwrap().iter().find(|e| e["path"] == "Day 03/A cam/C001.mov").unwrap();
    assert_eq!(env.fake.file_bytes(c001["item"]["id"].as_str().unwrap()).unwrap(), pattern(150 * 1024, 4));

    let parts = env.fake.requests_to(frameio_fake::STORAGE_UPLOAD).len();
    let again = env.fio(&["upload", day_arg, &demo.dailies_folder_id]);
    assert!(again.ok().contains("0 of 3 files uploaded into \"Dailies\""), "{again:#?}");
    assert!(again.stdout.contains(", 3 already there"), "{again:#?}");
    assert_eq!(env.fake.requests_to(frameio_fake::STORAGE_UPLOAD).len(), parts, "nothing sent again");
    assert_eq!(env.fake.requests_to("folders_create").len(), 3, "Day 03, A cam, notes: created once");
}

/// Waits until `ready`, then sends `fio` a Ctrl-C (SIGINT).
#[cfg(unix)]
fn interrupt_when(child: &std::process::Child, ready: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !ready() {
        assert!(std::time::Instant::now() < deadline, "the transfer never got there");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let killed = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_upload_resumes_into_the_same_file() {
    use std::process::Stdio;

    use frameio_fake::{Fault, STORAGE_UPLOAD, Target};
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    let file = env.scratch("resume").join("long.mov");
    std::fs::write(&file, pattern(4 * 64 * 1024, 6)).unwrap();
    let args = ["upload", file.to_str().unwrap(), &demo.dailies_folder_id];
    env.fake.fault(Target::operation(STORAGE_UPLOAD), Fault::stall_after(10));
    let child = env.command().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    interrupt_when(&child, || env.fake.requests_to(STORAGE_UPLOAD).iter().filter(|r| r.body_complete).count() == 3);
    let stopped = env.judge(child.wait_with_output().unwrap());
    assert_eq!(stopped.code, 130, "{stopped:#?}");
    assert_eq!(std::fs::read_dir(env.config_dir().join("resume")).unwrap().count(), 1, "a manifest is kept");

    let before = env.fake.requests_to(STORAGE_UPLOAD).len();
    let resumed = env.fio(&args);
    assert!(resumed.ok().contains("1 of 1 file uploaded"), "{resumed:#?}");
    assert_eq!(env.fake.requests_to(STORAGE_UPLOAD).len(), before + 1, "only the missing part is sent");
    assert_eq!(env.fake.requests_to("files_create_local_upload").len(), 1, "into the same Frame.io file");
    let listing = env.fio(&["ls", "--json", &demo.dailies_folder_id]).json();
    let id = listing.as_array().unwrap().iter().find(|i| i["name"] == "long.mov").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(env.fake.file_bytes(&id).unwrap(), pattern(4 * 64 * 1024, 6));
    assert_eq!(std::fs::read_dir(env.config_dir().join("resume")).unwrap().count(), 0, "the manifest is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_a_file_by_url_and_a_version_stack() {
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    let dir = env.scratch("down").join("incoming");
    let clip = &demo.clip_file_ids[1];
    let run = env.fio(&["download", &view_url(&demo.project_id, clip), dir.to_str().unwrap()]);
    let out = run.ok();
    assert!(out.contains("A001_C002.mov") && out.contains("downloaded"), "{out}");
    assert!(out.contains(&format!("1 of 1 file downloaded into {}", dir.display())), "{out}");
    assert_eq!(std::fs::read(dir.join("A001_C002.mov")).unwrap(), env.fake.file_bytes(clip).unwrap());

    let again = env.fio(&["download", "--json", clip, dir.to_str().unwrap()]).json();
    assert_eq!(again["skipped"][0]["id"], clip.as_str(), "{again}");
    assert_eq!(again["transferred"], serde_json::json!([]));

    let stack = env.fio(&["download", &demo.version_stack_id, dir.to_str().unwrap()]);
    assert!(stack.ok().contains("Cut v3.mp4"), "{stack:#?}");
    assert_eq!(std::fs::read(dir.join("Cut v3.mp4")).unwrap(), env.fake.file_bytes(&demo.cut_file_ids[2]).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_a_folder_into_a_folder_of_its_name() {
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    let dir = env.scratch("mirror");
    let run = env.fio(&["download", &demo.dailies_folder_id, dir.to_str().unwrap()]);
    assert!(run.ok().contains("3 of 3 files downloaded into"), "{run:#?}");
    let clip = dir.join("Dailies").join("Day 01").join("A001_C001.mov");
    assert_eq!(std::fs::read(&clip).unwrap(), env.fake.file_bytes(&demo.clip_file_ids[0]).unwrap());
    assert!(dir.join("Dailies").join("Day 02").join("B001_C001.mov").is_file());

    let gets = env.fake.requests_to(frameio_fake::STORAGE_DOWNLOAD).len();
    let again = env.fio(&["download", "--json", &demo.dailies_folder_id, dir.to_str().unwrap()]).json();
    assert_eq!(again["skipped"].as_array().unwrap().len(), 3, "{again}");
    assert_eq!(env.fake.requests_to(frameio_fake::STORAGE_DOWNLOAD).len(), gets, "nothing fetched again");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_download_resumes_from_its_part_file() {
    use std::process::Stdio;
    use std::time::Duration;

    use frameio_fake::{Fault, STORAGE_DOWNLOAD, Target};
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    let dir = env.scratch("resume-down");
    let clip = &demo.clip_file_ids[0];
    let args = ["download", clip, dir.to_str().unwrap()];
    env.fake.fault(Target::operation(STORAGE_DOWNLOAD), Fault::truncate(1536 * 1024));
    env.fake.fault(Target::operation(STORAGE_DOWNLOAD), Fault::delay(Duration::from_secs(30)));
    let child = env.command().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    interrupt_when(&child, || env.fake.requests_to(STORAGE_DOWNLOAD).len() >= 2);
    let stopped = env.judge(child.wait_with_output().unwrap());
    assert_eq!(stopped.code, 130, "{stopped:#?}");
    assert!(!dir.join("A001_C001.mov").exists(), "no half file under the real name");

    env.fake.clear_faults();
    let resumed = env.fio(&args);
    assert!(resumed.ok().contains("downloaded (resumed after"), "{resumed:#?}");
    assert_eq!(std::fs::read(dir.join("A001_C001.mov")).unwrap(), env.fake.file_bytes(clip).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_checks_its_folder_and_source() {
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    let file = env.scratch("not-a-dir").join("plain");
    std::fs::write(&file, b"x").unwrap();
    env.fio(&["download", &demo.readme_file_id, file.to_str().unwrap()]).fails(exit::USAGE, "is a file, not a folder");
    let dir = env.scratch("ok");
    env.fio(&["download", "00000000-0000-4000-8000-000000000000", dir.to_str().unwrap()])
        .fails(exit::NOT_FOUND, "no file, folder");
    env.fio(&["download", "https://next.frame.io/reviews/x", dir.to_str().unwrap()]).fails(exit::USAGE, "URL shape");
    assert!(env.fake.requests_to(frameio_fake::STORAGE_DOWNLOAD).is_empty());
}
