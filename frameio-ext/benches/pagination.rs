//! Listing throughput: stream N file objects (default 20,000) from a local server at
//! page size 100, decoding every item into its generated type, and print items/s:
//! `cargo bench -p frameio-ext --bench pagination`.
//!
//! Beside it, in the same process and alternating with it, the floor: a plain
//! reqwest + serde loop into a struct of the same members, one page prefetched. It
//! prints both, their ratio, and the peak RSS of each listing 1/10 of N and N items
//! (each in a child process of its own), which shows memory flat in the item count.
//!
//! `FRAMEIO_BENCH_ITEMS` sets N; `FRAMEIO_BENCH_RUNS` how many timed runs each (default
//! 15; the best and the median are reported). The server runs on its own thread and
//! sends one pre-rendered page of items under each page's own cursor, so the
//! process's memory is the client's plus one page.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use frameio_ext::types::AssetWithIncludes;
use futures::TryStreamExt;
use http_body_util::StreamBody;
use hyper::body::Frame;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

const PAGE_SIZE: usize = 100;

/// One file as the API returns it in a listing (no `include`s): ~600 bytes.
fn item(i: usize) -> String {
    format!(
        r#"{{"type":"file","id":"5a89a9fb-0900-4b23-826b-{i:012}","name":"A014_C003_0923XN_{i:06}.mov","created_at":"2024-09-25T19:18:29.614189Z","updated_at":"2024-10-07T16:44:41.986478Z","file_size":1137444{i},"media_type":"video/quicktime","parent_id":"2559e2c4-9bb9-4284-b616-a97700a579a4","project_id":"955c0511-656a-4859-b824-ebdbfdcb615b","status":"transcoded","view_url":"https://next.frame.io/project/d5e6011c-2bc9-4596-be05-77d562627112/view/5a89a9fb-0900-4b23-826b-{i:012}"}}"#
    )
}

/// Page `number`'s body in three pieces: its envelope around the same rendered
/// items on every full page, shared, not copied (so the server costs next to
/// nothing and the client is what is measured), with its own cursor.
fn page(items: &Bytes, number: usize, total: usize) -> [Bytes; 3] {
    let pages = total.div_ceil(PAGE_SIZE);
    let next = if number + 1 < pages {
        format!(r#""/v4/accounts/a/folders/f/files?after=cursor-{}""#, number + 1)
    } else {
        "null".to_string()
    };
    let count = PAGE_SIZE.min(total - number * PAGE_SIZE);
    let items = if count == PAGE_SIZE {
        items.clone()
    } else {
        Bytes::from((0..count).map(item).collect::<Vec<_>>().join(","))
    };
    let tail = format!(r#"],"links":{{"next":{next}}},"total_count":{total}}}"#);
    [Bytes::from_static(br#"{"data":["#), items, Bytes::from(tail)]
}

fn serve(total: usize) -> SocketAddr {
    let items = Bytes::from((0..PAGE_SIZE).map(item).collect::<Vec<_>>().join(","));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let items = items.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                        let items = items.clone();
                        async move {
                            let number = request
                                .uri()
                                .query()
                                .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("after=cursor-")))
                                .and_then(|n| n.parse().ok())
                                .unwrap_or(0);
                            let pieces = page(&items, number, total);
                            let length: usize = pieces.iter().map(Bytes::len).sum();
                            let frames = pieces.map(|piece| Ok::<_, Infallible>(Frame::data(piece)));
                            let body = StreamBody::new(futures::stream::iter(frames));
                            Ok::<_, Infallible>(
                                Response::builder()
                                    .header("content-type", "application/json")
                                    .header("content-length", length)
                                    .body(body)
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    addr
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The floor: what a minimal hand-written client does (reqwest, serde, the next
/// page fetched while this one is consumed), into a struct of the same members.
mod floor {
    use serde::Deserialize;

    // Decoded whole, as a real client's would be; the loop reads only the tag.
    #[allow(dead_code)]
    #[derive(Deserialize)]
    pub struct Item {
        #[serde(rename = "type")]
        pub kind: String,
        pub id: String,
        pub name: String,
        pub created_at: String,
        pub updated_at: String,
        pub file_size: i64,
        pub media_type: Option<String>,
        pub parent_id: Option<String>,
        pub project_id: String,
        pub status: String,
        pub view_url: String,
    }

    #[derive(Deserialize)]
    struct Links {
        next: Option<String>,
    }

    #[derive(Deserialize)]
    struct Page {
        data: Vec<Item>,
        links: Links,
    }

    async fn fetch(client: reqwest::Client, url: String) -> Page {
        let body = client.get(url).bearer_auth("bench").send().await.unwrap().error_for_status().unwrap();
        serde_json::from_slice(&body.bytes().await.unwrap()).unwrap()
    }

    /// Lists every item and returns how many there were.
    pub async fn list(client: &reqwest::Client, base: &str) -> usize {
        let mut page = fetch(client.clone(), format!("{base}/v4/accounts/a/folders/f/files")).await;
        let mut count = 0;
        loop {
            let next = page.links.next.take().map(|path| tokio::spawn(fetch(client.clone(), format!("{base}{path}"))));
            for item in page.data {
                assert_eq!(item.kind, "file");
                count += 1;
            }
            match next {
                Some(next) => page = next.await.unwrap(),
                None => return count,
            }
        }
    }
}

/// One timed listing of every item through the frameio-ext client.
async fn list_frameio(client: &frameio_ext::Client) -> usize {
    let mut items = client.files_list().account_id("a").folder_id("f").stream();
    let mut count = 0usize;
    while let Some(item) = items.try_next().await.expect("listing failed") {
        assert!(matches!(item, AssetWithIncludes::File(_)));
        count += 1;
    }
    count
}

fn frameio_client(addr: SocketAddr) -> frameio_ext::Client {
    // The client applications use, with the proactive limiter off: the local server
    // does not enforce Frame.io's 5 calls per second on `files_list`.
    frameio_ext::Client::builder()
        .base_url(format!("http://{addr}"))
        .bearer_token("bench")
        .rate_limiting(frameio_ext::rate_limit::RateLimiting::disabled())
        .build()
        .expect("client")
}

#[derive(Clone, Copy, PartialEq)]
enum Contender {
    Frameio,
    Floor,
}

/// Times one listing of `total` items by `who`, in seconds.
fn time_one(runtime: &tokio::runtime::Runtime, addr: SocketAddr, who: Contender, total: usize) -> f64 {
    let frameio = frameio_client(addr);
    let plain = reqwest::Client::new();
    let base = format!("http://{addr}");
    runtime.block_on(async {
        let started = Instant::now();
        let count = match who {
            Contender::Frameio => list_frameio(&frameio).await,
            Contender::Floor => floor::list(&plain, &base).await,
        };
        let elapsed = started.elapsed().as_secs_f64();
        assert_eq!(count, total, "listed {count} of {total} items");
        elapsed
    })
}

/// The best and the median of a contender's runs, in seconds.
struct Timings {
    best: f64,
    median: f64,
}

impl Timings {
    fn of(mut runs: Vec<f64>) -> Self {
        runs.sort_by(f64::total_cmp);
        Self { best: runs[0], median: runs[runs.len() / 2] }
    }

    fn line(&self, total: usize) -> String {
        format!(
            "best {:6.1} ms ({:7.0} items/s), median {:6.1} ms",
            self.best * 1e3,
            total as f64 / self.best,
            self.median * 1e3
        )
    }
}

/// A child process that lists once and prints its own peak RSS in KiB, so each
/// contender's memory is its own.
fn child_peak_rss(who: &str, total: usize) -> String {
    let output = std::process::Command::new(std::env::current_exe().expect("own path"))
        .env("FRAMEIO_BENCH_CHILD", who)
        .env("FRAMEIO_BENCH_ITEMS", total.to_string())
        .output()
        .expect("child bench process");
    assert!(output.status.success(), "child failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn main() {
    frameio_ext::tls::install_default_provider();
    let total = env_usize("FRAMEIO_BENCH_ITEMS", 20_000);
    let runs = env_usize("FRAMEIO_BENCH_RUNS", 15).max(1);
    let addr = serve(total);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    if let Ok(who) = std::env::var("FRAMEIO_BENCH_CHILD") {
        let who = if who == "floor" { Contender::Floor } else { Contender::Frameio };
        time_one(&runtime, addr, who, total);
        println!("{}", peak_rss_kib().unwrap_or(0));
        return;
    }
    // Alternate the two in one process so both see the same machine state.
    let (mut frameio, mut floor) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    time_one(&runtime, addr, Contender::Frameio, total);
    time_one(&runtime, addr, Contender::Floor, total);
    for _ in 0..runs {
        frameio.push(time_one(&runtime, addr, Contender::Frameio, total));
        floor.push(time_one(&runtime, addr, Contender::Floor, total));
    }
    let (frameio, floor) = (Timings::of(frameio), Timings::of(floor));
    println!("pagination: {total} items, page size {PAGE_SIZE}, {runs} runs each, alternating");
    println!("  frameio-ext .stream():   {}", frameio.line(total));
    println!("  floor (reqwest + serde): {}", floor.line(total));
    println!(
        "  ratio (frameio-ext / floor): {:.2}x the time (best), {:.2}x (median)",
        frameio.best / floor.best,
        frameio.median / floor.median
    );
    for items in [total / 10, total] {
        println!(
            "  peak RSS listing {items:>6} items: frameio-ext {} KiB, floor {} KiB",
            child_peak_rss("frameio", items),
            child_peak_rss("floor", items),
        );
    }
}
