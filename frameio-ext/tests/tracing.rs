//! The request span, in a test binary of its own: `tracing` caches which
//! subscribers care about a callsite, and tests running in parallel threads
//! without a subscriber could race with this one.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use frameio_ext::{Backoff, Credentials, RateLimiting, RetryPolicy};
use frameio_fake::{Fault, Target};
use support::{TOKEN, World};

/// Collects everything a `tracing` subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `calls` of `files_show` against the fake, its first answers being
/// `faults`, and returns the lines this crate logged (hyper logs connections
/// inside the span too), with the world (whose ids must not be logged) and file.
async fn logged(faults: Vec<Fault>, calls: usize) -> (String, World, String) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let world = World::start().await;
    let file = world.file("sample.pdf", 100);
    for fault in faults {
        world.fake.fault(Target::operation("files_show"), fault);
    }
    let retry = RetryPolicy::new()
        .backoff(Backoff::new().initial(Duration::from_millis(1)))
        .server_error_floor(Duration::from_millis(1));
    let client = world
        .client()
        .credentials(Credentials::bearer(TOKEN))
        .retry_policy(retry)
        .rate_limiting(RateLimiting::disabled())
        .build()
        .unwrap();
    for _ in 0..calls {
        client
            .files_show()
            .account_id(&world.account)
            .file_id(&file)
            .include(frameio_gen::v4::types::AssetInclude::Project)
            .send()
            .await
            .unwrap();
    }
    let everything = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let ours = everything.lines().filter(|l| l.contains(" frameio_ext::")).map(|l| format!("{l}\n")).collect();
    (ours, world, file)
}

fn closed_spans(output: &str) -> Vec<&str> {
    output.lines().filter(|l| l.contains(" close ")).collect()
}

#[tokio::test]
async fn one_span_per_call_with_its_fields_and_no_secrets() {
    let (output, world, file) = logged(Vec::new(), 2).await;
    let closed = closed_spans(&output);
    assert_eq!(closed.len(), 2, "one span per call: {output}");
    for field in [
        "frameio.request{",
        "operation=\"files_show\"",
        "method=GET",
        "path=\"/v4/accounts/{account_id}/files/{file_id}\"",
        "attempt=1",
        "status=200",
        "latency_ms=",
    ] {
        assert!(closed[0].contains(field), "{field} in {}", closed[0]);
    }
    assert!(output.contains("answered"), "a per-attempt event: {output}");
    assert_eq!(world.fake.requests()[0].query.as_deref(), Some("include=project"));
    for secret in [TOKEN, world.account.as_str(), file.as_str(), "include", "127.0.0.1"] {
        assert!(!output.contains(secret), "{secret} in {output}");
    }
}

#[tokio::test]
async fn a_retried_call_is_still_one_span_with_its_last_attempt() {
    let (output, ..) = logged(vec![Fault::json(503, r#"{"errors": [{"detail": "busy"}]}"#)], 1).await;
    let [closed] = closed_spans(&output)[..] else { panic!("one span: {output}") };
    assert!(closed.contains("attempt=2") && closed.contains("status=200"), "{closed}");
    assert!(!closed.contains("status=503"), "{closed}");
    let retrying = output.lines().find(|l| l.contains("retrying")).unwrap_or_else(|| panic!("{output}"));
    assert!(retrying.contains("reason=\"server error\"") && retrying.contains("wait_ms="), "{retrying}");
    assert!(!output.contains(TOKEN));
}
