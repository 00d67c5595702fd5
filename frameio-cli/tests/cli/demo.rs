//! `fio demo`: no token, no network, no sign-in, exit 0.

use crate::support::Env;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_lists_uploads_downloads_and_verifies() {
    let env = Env::start().await;
    let run = env.run(
        env.command()
            .arg("demo")
            // Neither a sign-in nor a base URL is used: this one leads nowhere.
            .env("FIO_BASE_URL", "http://127.0.0.1:9")
            .env("FIO_CREDENTIAL_STORE", "keychain"),
    );
    let out = run.ok();
    for step in [
        "\n$ fio ls\n",
        "\n$ fio tree https://next.frame.io/project/",
        "\n$ fio upload A002_C001_demo.mov",
        "\n$ fio download ",
    ] {
        assert!(out.contains(step), "{step:?} missing: {out}");
    }
    assert!(out.contains("Launch Film/\n├── README.txt"), "{out}");
    assert!(out.contains("uploaded A002_C001_demo.mov (3.0 MiB) in 4 parts as file"), "{out}");
    assert!(out.contains("verified: the 3150049 bytes downloaded are the bytes uploaded"), "{out}");
    assert!(!env.config_dir().exists(), "the demo writes no configuration");
    assert!(env.fake.requests().is_empty(), "the demo talks to its own fake only");
}
