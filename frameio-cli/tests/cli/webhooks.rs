//! `fio webhooks ensure|list|delete`.

use serde_json::Value;

use crate::support::{Env, exit};

const URL: &str = "https://hooks.example/frameio";

fn stored_secrets(env: &Env) -> Value {
    serde_json::from_str(&std::fs::read_to_string(env.config_dir().join("webhook-secrets.json")).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ensure_creates_once_shows_the_secret_once_and_keeps_it() {
    let env = Env::signed_in().await;
    let created =
        env.fio(&["webhooks", "ensure", "--name", "Ingest", "--url", URL, "--events", "file.created,file.ready"]);
    let out = created.ok();
    assert!(out.starts_with("STATUS"), "{out}");
    assert!(out.contains("created  Ingest") && out.contains("file.created,file.ready"), "{out}");
    let secret = out.lines().find_map(|l| l.strip_prefix("secret: ")).expect("the secret is printed").to_string();
    assert!(created.stderr.contains("Frame.io shows this secret only now; fio kept it in"), "{created:#?}");
    let id = env.fake.requests_to("webhooks_create").len();
    assert_eq!(id, 1);
    let secrets = stored_secrets(&env);
    let (webhook_id, kept) = secrets.as_object().unwrap().iter().next().unwrap();
    assert_eq!(kept, &secret);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.config_dir().join("webhook-secrets.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let again =
        env.fio(&["webhooks", "ensure", "--name", "Ingest", "--url", URL, "--events", "file.ready,file.created"]);
    assert!(again.ok().contains("exists"), "{again:#?}");
    assert!(
        !again.stdout.contains(&secret) && !again.stderr.contains(&secret),
        "the secret is shown only when created"
    );
    let json = env
        .fio(&["webhooks", "ensure", "--json", "--name", "Ingest", "--url", URL, "--events", "comment.created"])
        .json();
    assert_eq!(json["status"], "updated");
    assert_eq!(json["events"], serde_json::json!(["comment.created"]));
    assert!(json.get("secret").is_none());
    assert_eq!(env.fake.requests_to("webhooks_create").len(), 1, "created once");

    let list = env.fio(&["webhooks", "list"]);
    assert!(list.ok().contains(webhook_id) && list.stdout.contains("comment.created"), "{list:#?}");
    let listed = env.fio(&["webhooks", "list", "--json"]).json();
    assert_eq!(listed[0]["url"], URL);

    assert_eq!(env.fio(&["webhooks", "delete", webhook_id]).ok(), format!("Deleted webhook {webhook_id}.\n"));
    assert!(stored_secrets(&env).as_object().unwrap().is_empty(), "the secret is forgotten");
    assert_eq!(env.fio(&["webhooks", "list", "--json"]).json(), serde_json::json!([]));
    env.fio(&["webhooks", "delete", webhook_id]).fails(exit::NOT_FOUND, "webhook not found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ensure_asks_which_workspace_and_checks_its_input() {
    let env = Env::signed_in().await;
    let demo = env.demo().clone();
    env.fio(&["webhooks", "ensure", "--name", "x", "--url", "ftp://x", "--events", "file.created"])
        .fails(exit::USAGE, "is not an http(s) URL");
    env.fio(&["webhooks", "ensure", "--name", "x", "--url", URL, "--events", ","])
        .fails(exit::USAGE, "at least one event");
    env.fake.seed().existing_account(&demo.account_id).workspace("Second");
    env.fio(&["webhooks", "list"]).fails(exit::USAGE, "the account has 2 workspaces; choose one with --workspace");
    let made = env.fio(&[
        "webhooks",
        "ensure",
        "--workspace",
        &demo.workspace_id,
        "--name",
        "x",
        "--url",
        URL,
        "--events",
        "file.created",
    ]);
    assert!(made.ok().contains("created"), "{made:#?}");
}
