//! What every test of the `fio` binary needs: a fake Frame.io with the demo
//! tree (in the test's runtime, served by its worker threads while the test
//! thread waits for `fio`), a private config directory, and a runner that
//! checks what every run must hold (no token in the output, errors as one
//! line).

use std::path::PathBuf;
use std::process::{Command, Output};

use frameio_fake::{Demo, Fake};
use serde_json::Value;

/// The fake's token, which must never appear in what `fio` prints.
pub const TOKEN: &str = "fake-frameio-token-5ecret";

/// A running fake and a config directory of the test's own.
pub struct Env {
    pub fake: Fake,
    pub config: tempfile::TempDir,
    /// Tokens that must not be printed, besides [`TOKEN`].
    pub secrets: Vec<String>,
}

/// One run of `fio`.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Env {
    /// A fake with the demo tree; nobody signed in.
    pub async fn start() -> Self {
        let fake =
            Fake::builder().token(TOKEN).demo_data().part_size(64 * 1024).start().await.expect("the fake starts");
        Self { fake, config: tempfile::tempdir().expect("a temp dir"), secrets: Vec::new() }
    }

    /// A fake with the demo tree, signed in with `fio login --token`.
    pub async fn signed_in() -> Self {
        let env = Self::start().await;
        env.fio(&["login", "--token", TOKEN]).ok();
        env
    }

    pub fn demo(&self) -> &Demo {
        self.fake.demo().expect("demo data")
    }

    /// `FIO_CONFIG_DIR`: not there until `fio` makes it.
    pub fn config_dir(&self) -> PathBuf {
        self.config.path().join("fio")
    }

    /// The command, pointed at the fake and the private config dir.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fio"));
        command
            .env("FIO_CONFIG_DIR", self.config_dir())
            .env("FIO_BASE_URL", self.fake.base_url())
            .env("FIO_CREDENTIAL_STORE", "file")
            .env_remove("FRAMEIO_TOKEN")
            .env_remove("FIO_ACCOUNT")
            .env_remove("FIO_CLIENT_ID")
            .env_remove("FIO_IMS_URL")
            .env_remove("RUST_LOG");
        command
    }

    /// Runs `fio args...` to the end.
    pub fn fio(&self, args: &[&str]) -> Run {
        self.run(self.command().args(args))
    }

    /// Runs a prepared command to the end and checks the output for secrets.
    pub fn run(&self, command: &mut Command) -> Run {
        let output = command.output().expect("fio runs");
        self.judge(output)
    }

    /// Checks a finished process's output for secrets.
    pub fn judge(&self, output: Output) -> Run {
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        for secret in std::iter::once(TOKEN).chain(self.secrets.iter().map(String::as_str)) {
            assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret), "a token was printed: {run:#?}");
        }
        assert!(!run.stderr.contains("panicked"), "fio panicked: {run:#?}");
        run
    }

    /// A local scratch folder.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let dir = self.config.path().join("scratch").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}

impl Run {
    /// Asserts success; returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "fio failed: {self:#?}");
        &self.stdout
    }

    /// Asserts success and parses stdout as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.ok()).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }

    /// Asserts a failure with `code` and a single `fio: ...` line on stderr
    /// containing `needle`; returns that line.
    pub fn fails(&self, code: i32, needle: &str) -> String {
        assert_eq!(self.code, code, "wrong exit code: {self:#?}");
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "stderr is not one line: {self:#?}");
        assert!(lines[0].starts_with("fio: "), "{self:#?}");
        assert!(lines[0].contains(needle), "stderr lacks {needle:?}: {self:#?}");
        assert!(!self.stderr.contains("Error {") && !self.stderr.contains("Some("), "Debug output: {self:#?}");
        lines[0].to_string()
    }
}

/// The web URL of an asset of the demo project.
pub fn view_url(project_id: &str, asset_id: &str) -> String {
    format!("https://next.frame.io/project/{project_id}/view/{asset_id}")
}

/// The documented exit codes.
pub mod exit {
    pub const USAGE: i32 = 2;
    pub const AUTH: i32 = 3;
    pub const NOT_FOUND: i32 = 4;
    pub const NETWORK: i32 = 5;
    pub const PARTIAL: i32 = 6;
    pub const API: i32 = 7;
    pub const LOCAL: i32 = 8;
}
