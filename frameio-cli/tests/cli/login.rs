//! `fio login` (a token, or Adobe IMS with PKCE against a fake IMS),
//! `whoami`, `logout`, and what a missing or expired sign-in does.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use httpmock::prelude::*;
use serde_json::{Value, json};

use crate::support::{Env, TOKEN, exit};

fn read(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_login_is_checked_stored_privately_and_forgotten_on_logout() {
    let env = Env::start().await;
    let login = env.fio(&["login", "--token", TOKEN]);
    assert_eq!(
        login.ok(),
        format!(
            "Signed in as Fake User <user@fake.frame.io>; the sign-in is kept in {} (mode 0600).\n",
            env.config_dir().join("credentials.json").display()
        )
    );
    let credentials = env.config_dir().join("credentials.json");
    assert_eq!(read(&credentials)["access_token"], TOKEN);
    assert_eq!(read(&env.config_dir().join("session.json"))["kind"], "token");
    #[cfg(unix)]
    {
        assert_eq!(mode(&credentials), 0o600);
        assert_eq!(mode(&env.config_dir().join("session.json")), 0o600);
        assert_eq!(mode(&env.config_dir()), 0o700, "the config dir is the user's only");
    }

    let whoami = env.fio(&["whoami"]);
    let out = whoami.ok();
    assert!(out.starts_with("Fake User <user@fake.frame.io>"), "{out}");
    assert!(out.contains("signed in with: access token, kept in"), "{out}");
    assert!(out.contains("Demo Studio") && out.contains(&env.demo().account_id), "{out}");
    let json = env.fio(&["whoami", "--json"]).json();
    assert_eq!(json["user"]["email"], "user@fake.frame.io");
    assert_eq!(json["accounts"][0]["display_name"], "Demo Studio");

    assert_eq!(env.fio(&["logout"]).ok(), "Signed out.\n");
    assert!(!credentials.exists() && !env.config_dir().join("session.json").exists());
    assert_eq!(env.fio(&["logout"]).ok(), "Not signed in.\n");
    env.fio(&["whoami"]).fails(exit::AUTH, "not signed in: run `fio login`");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_can_come_from_stdin_or_the_environment() {
    let env = Env::start().await;
    let mut child = env
        .command()
        .args(["login", "--token", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{TOKEN}").unwrap();
    let login = env.judge(child.wait_with_output().unwrap());
    assert!(login.ok().starts_with("Signed in as Fake User"), "{login:#?}");

    let other = Env::start().await;
    let run = other.run(other.command().args(["whoami", "--json"]).env("FRAMEIO_TOKEN", TOKEN));
    assert_eq!(run.json()["credentials"], "the FRAMEIO_TOKEN environment variable");
    assert!(!other.config_dir().join("session.json").exists(), "an environment token is not stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_is_not_stored() {
    let env = Env::start().await;
    env.fio(&["login", "--token", "not-the-token"]).fails(exit::AUTH, "Frame.io rejected this sign-in (401)");
    assert!(!env.config_dir().join("session.json").exists());
    env.fio(&["login", "--token", "two words"]).fails(exit::USAGE, "the token is empty or has spaces");
    env.fio(&["login"]).fails(exit::USAGE, "--client-id or set FIO_CLIENT_ID");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_expired_login_says_to_sign_in_again() {
    let env = Env::start().await;
    env.fio(&["ls"]).fails(exit::AUTH, "not signed in: run `fio login` (or set FRAMEIO_TOKEN)");
    env.fio(&["login", "--token", TOKEN]).ok();
    env.fake.revoke_token(TOKEN);
    for args in [&["ls"][..], &["tree", &env.demo().root_folder_id], &["whoami"]] {
        env.fio(args).fails(exit::AUTH, "run `fio login` to sign in again");
    }
}

/// A fake IMS: the code exchange and refreshes answer with these tokens.
struct Ims {
    server: MockServer,
}

impl Ims {
    async fn start() -> Self {
        Self { server: MockServer::start_async().await }
    }

    async fn issues(&self, grant: &str, access: &str, refresh: &str) -> httpmock::Mock<'_> {
        self.server
            .mock_async(|when, then| {
                when.method(POST).path("/ims/token/v3").body_includes(format!("grant_type={grant}"));
                then.status(200).json_body(json!({
                    "access_token": access, "refresh_token": refresh, "token_type": "bearer", "expires_in": 3600
                }));
            })
            .await
    }

    /// Writes a stored IMS sign-in whose access token expired an hour ago.
    fn store_expired(&self, env: &Env, refresh: &str) {
        let session = json!({
            "kind": "ims", "store": "file", "client_id": "cli-client", "ims_url": self.server.base_url(),
            "redirect_uri": "http://127.0.0.1:8765/callback"
        });
        std::fs::create_dir_all(env.config_dir()).unwrap();
        std::fs::write(env.config_dir().join("session.json"), session.to_string()).unwrap();
        let past = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64() - 3600.0;
        let tokens = json!({ "access_token": "ims-expired", "refresh_token": refresh, "expires_at": past });
        std::fs::write(env.config_dir().join("credentials.json"), tokens.to_string()).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ims_sign_in_in_the_browser_with_pkce_and_a_loopback_redirect() {
    let mut env = Env::start().await;
    env.secrets.extend(["ims-access-1".to_string(), "ims-refresh-1".to_string()]);
    env.fake.accept_token("ims-access-1");
    let ims = Ims::start().await;
    let exchange = ims.issues("authorization_code", "ims-access-1", "ims-refresh-1").await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();

    let mut child = env
        .command()
        .args(["login", "--client-id", "cli-client", "--port", &port.to_string(), "--timeout", "20"])
        .env("FIO_IMS_URL", ims.server.base_url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Play the browser: read the sign-in URL, come back to the redirect with a code.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let url = loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no sign-in URL: {seen}");
        seen.push_str(&line);
        if let Some(url) = line.trim().strip_prefix(&format!("{}/ims/authorize/v2?", ims.server.base_url())) {
            break url.to_string();
        }
    };
    let query: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(url.as_bytes()).into_owned().collect();
    assert_eq!(query["client_id"], "cli-client");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["redirect_uri"], format!("http://127.0.0.1:{port}/callback"));
    let redirect = format!("{}?code=the-code&state={}", query["redirect_uri"], query["state"]);
    let page = reqwest::get(&redirect).await.unwrap();
    assert_eq!(page.status(), 200);
    let mut output = child.wait_with_output().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    output.stderr = format!("{seen}{rest}").into_bytes();
    let login = env.judge(output);
    assert!(login.ok().starts_with("Signed in as Fake User"), "{login:#?}");
    exchange.assert_async().await;
    assert_eq!(read(&env.config_dir().join("credentials.json"))["refresh_token"], "ims-refresh-1");
    assert_eq!(read(&env.config_dir().join("session.json"))["kind"], "ims");

    let whoami = env.fio(&["whoami"]);
    assert!(whoami.ok().contains("signed in with: Adobe IMS sign-in"), "{whoami:#?}");

    let revoke = ims
        .server
        .mock_async(|when, then| {
            when.method(POST).path("/ims/revoke");
            then.status(200);
        })
        .await;
    assert_eq!(env.fio(&["logout"]).ok(), "Signed out; IMS revoked the tokens.\n");
    revoke.assert_calls_async(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_ims_token_is_renewed_and_the_rotated_tokens_are_kept() {
    let mut env = Env::start().await;
    env.secrets.extend(["ims-expired", "ims-refresh-1", "ims-access-2", "ims-refresh-2"].map(String::from));
    env.fake.accept_token("ims-access-2");
    let ims = Ims::start().await;
    let refresh = ims.issues("refresh_token", "ims-access-2", "ims-refresh-2").await;
    ims.store_expired(&env, "ims-refresh-1");

    let ls = env.fio(&["ls"]);
    assert!(ls.ok().contains("Launch Film"), "{ls:#?}");
    refresh.assert_async().await;
    let stored = read(&env.config_dir().join("credentials.json"));
    assert_eq!(stored["access_token"], "ims-access-2");
    assert_eq!(stored["refresh_token"], "ims-refresh-2");
    let expires = stored["expires_at"].as_f64().unwrap();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(3500);
    assert!(expires > now.as_secs_f64(), "the new token's expiry is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_ims_refresh_says_to_sign_in_again() {
    let mut env = Env::start().await;
    env.secrets.extend(["ims-expired", "ims-refresh-old"].map(String::from));
    let ims = Ims::start().await;
    ims.server
        .mock_async(|when, then| {
            when.method(POST).path("/ims/token/v3");
            then.status(400)
                .json_body(json!({ "error": "invalid_grant", "error_description": "refresh token expired" }));
        })
        .await;
    ims.store_expired(&env, "ims-refresh-old");
    env.fio(&["ls"]).fails(exit::AUTH, "run `fio login` to sign in again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_logging_shows_no_token() {
    let mut env = Env::start().await;
    env.secrets.push("Bearer".to_string());
    env.fio(&["login", "--token", TOKEN]).ok();
    let traced = env.run(env.command().args(["ls", "-vvv"]));
    traced.ok();
    assert!(traced.stderr.contains("frameio.request"), "trace logs were written: {}", traced.stderr.len());
    let everything = env.run(env.command().args(["tree", &env.demo().root_folder_id]).env("RUST_LOG", "trace"));
    everything.ok();
    assert!(everything.stderr.lines().count() > 50, "everything was logged");
}
