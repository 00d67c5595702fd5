//! Listing throughput: stream N file objects (default 20,000) from a local server at
//! page size 100, decoding every item into its generated type, and print items/s and
//! the process's peak RSS. `cargo bench -p frameio-ext --bench pagination`
//!
//! `FRAMEIO_BENCH_ITEMS` sets N; `FRAMEIO_BENCH_RUNS` how many timed runs (best is
//! reported). The server runs on its own thread and sends one pre-rendered page of
//! items under each page's own cursor, so the process's memory is the client's plus
//! one page.

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

/// Best time of `runs` listings of `total` items through `client`.
fn best_of(runtime: &tokio::runtime::Runtime, client: &frameio_ext::Client, total: usize, runs: usize) -> f64 {
    let mut best = f64::MAX;
    for run in 0..runs {
        let (count, elapsed) = runtime.block_on(async {
            let started = Instant::now();
            let mut items = client.files_list().account_id("a").folder_id("f").stream();
            let mut count = 0usize;
            while let Some(item) = items.try_next().await.expect("listing failed") {
                assert!(matches!(item, AssetWithIncludes::File(_)));
                count += 1;
            }
            (count, started.elapsed().as_secs_f64())
        });
        assert_eq!(count, total, "run {run} listed {count} of {total} items");
        best = best.min(elapsed);
    }
    best
}

fn main() {
    let total = env_usize("FRAMEIO_BENCH_ITEMS", 20_000);
    let runs = env_usize("FRAMEIO_BENCH_RUNS", 5);
    let addr = serve(total);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // The client applications use, with the proactive limiter off: the local server
    // does not enforce Frame.io's 5 calls per second on `files_list`.
    let client = frameio_ext::Client::builder()
        .base_url(format!("http://{addr}"))
        .bearer_token("bench")
        .rate_limiting(frameio_ext::rate_limit::RateLimiting::disabled())
        .build()
        .expect("client");
    {
        let best = best_of(&runtime, &client, total, runs);
        println!(
            "pagination (frameio-ext client): {total} items, page size {PAGE_SIZE}: best of {runs} runs {:.1} ms, {:.0} items/s",
            best * 1e3,
            total as f64 / best,
        );
    }
    println!("peak RSS of the whole process: {} KiB", peak_rss_kib().map_or("unknown".to_string(), |k| k.to_string()));
}
