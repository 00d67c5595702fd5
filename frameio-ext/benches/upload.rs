//! Upload throughput and memory, against a local sink and a `curl -T` yardstick.
//!
//! ```text
//! cargo bench -p frameio-ext --bench upload
//! ```
//!
//! Writes a file (default 2 GiB) to a temp dir, starts a storage sink on
//! 127.0.0.1 in a child process (this same binary with `--sink`, so its
//! memory is not counted), uploads the file with each uploader setting asked
//! for and with `curl -T`, and prints MB/s and peak RSS (VmHWM) per setting.
//! Each setting runs in a process of its own (`--upload`), so that its peak
//! RSS owes nothing to the settings tried before it.
//! The sink checks every request's headers (`Content-Type`,
//! `x-amz-acl: private`, no `Authorization`, a `Content-Length` and no chunked
//! encoding) and answers with the xxh3 of the bytes it received as `ETag`,
//! which is compared with the file's own part hashes.
//!
//! Settings (environment variables):
//! - `FRAMEIO_BENCH_UPLOAD_BYTES`: file size (default 2147483648)
//! - `FRAMEIO_BENCH_PART_BYTES`: part size before the even split (default 26214400, ~25 MB as Frame.io's guides suggest)
//! - `FRAMEIO_BENCH_CONCURRENCY`: comma-separated parts in flight (default: the crate default)
//! - `FRAMEIO_BENCH_BUFFER_KIB`: comma-separated read buffer sizes in KiB (default: the crate default)
//! - `FRAMEIO_BENCH_ROUNDS`: runs per setting, the best is kept (default 2)
//! - `FRAMEIO_BENCH_DIR`: where the file goes (default the system temp dir)

use std::convert::Infallible;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use frameio_ext::RetryPolicy;
use frameio_ext::upload::{
    DEFAULT_BUFFER_SIZE, DEFAULT_CONCURRENCY, PartPlan, UploadOptions, UploadSource, UploadUrl, Uploader,
};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use xxhash_rust::xxh3::Xxh3;

const MEDIA_TYPE: &str = "video/mp4";
const MIB: f64 = 1024.0 * 1024.0;
const GIB: f64 = 1024.0 * MIB;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--sink") {
        run_sink();
    } else if args.iter().any(|a| a == "--upload") {
        run_upload();
    } else {
        run_bench();
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| v.trim().parse().unwrap_or_else(|_| panic!("{name} must be a number")))
}

fn env_list(name: &str, default: u64) -> Vec<u64> {
    std::env::var(name).map_or(vec![default], |v| {
        v.split(',').map(|x| x.trim().parse().unwrap_or_else(|_| panic!("{name} must list numbers"))).collect()
    })
}

/// Megabytes (10^6 bytes) per second.
fn mb_per_s(bytes: u64, elapsed: Duration) -> f64 {
    bytes as f64 / 1e6 / elapsed.as_secs_f64()
}

fn run_bench() {
    let size = env_u64("FRAMEIO_BENCH_UPLOAD_BYTES", 2 << 30);
    let part_bytes = env_u64("FRAMEIO_BENCH_PART_BYTES", 25 << 20).max(1);
    let concurrencies = env_list("FRAMEIO_BENCH_CONCURRENCY", DEFAULT_CONCURRENCY as u64);
    let buffers_kib = env_list("FRAMEIO_BENCH_BUFFER_KIB", (DEFAULT_BUFFER_SIZE / 1024) as u64);
    let rounds = env_u64("FRAMEIO_BENCH_ROUNDS", 2).max(1);
    let dir = match std::env::var_os("FRAMEIO_BENCH_DIR") {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .expect("temp dir");
    let path = dir.path().join("bench.mp4");

    // The even split Frame.io's guides describe, given as explicit sizes
    // like the API's `upload_urls`.
    let count = size.div_ceil(part_bytes).max(1) as usize;
    let placeholder: Vec<_> = (0..count).map(|i| UploadUrl::without_size(format!("http://127.0.0.1/{i}"))).collect();
    let plan = PartPlan::new(size, &placeholder).expect("plan");
    let sizes: Vec<u64> = plan.parts().iter().map(|p| p.len()).collect();

    println!("writing {size} bytes ({:.0} MiB) to {}", size as f64 / MIB, path.display());
    let started = Instant::now();
    let (part_hashes, file_hash) = write_file(&path, &sizes);
    println!("  written and synced in {:.1?}; {count} parts of ~{:.1} MiB", started.elapsed(), sizes[0] as f64 / MIB);

    let (mut sink, port) = start_sink();
    println!("sink (child process {}) on 127.0.0.1:{port}", sink.id());

    let mut curl: Vec<_> = (0..rounds).map_while(|_| curl_once(&path, port, file_hash)).collect();
    if curl.is_empty() {
        println!("curl -T: skipped (curl not found or failed)");
    }

    println!();
    println!("concurrency  buffer   best MB/s  peak RSS  CPU s/GiB  (rounds in MB/s)");
    let mut rows = Vec::new();
    for &concurrency in &concurrencies {
        for &kib in &buffers_kib {
            let (speeds, peak_kib, cpu) = upload_in_child(&path, port, &sizes, &part_hashes, concurrency, kib, rounds);
            let best = speeds.iter().copied().fold(0.0, f64::max);
            let all: Vec<_> = speeds.iter().map(|s| format!("{s:.0}")).collect();
            println!(
                "{concurrency:>11}  {kib:>4} KiB  {best:>9.0}  {:>5.1} MiB  {cpu:>9.2}  ({})",
                peak_kib as f64 / 1024.0,
                all.join(", ")
            );
            rows.push((concurrency, kib, best, peak_kib));
        }
    }
    // Once more at the end, so that a busy machine early on does not flatter
    // the uploader.
    if !curl.is_empty() {
        curl.extend((0..rounds).map_while(|_| curl_once(&path, port, file_hash)));
    }
    if let Some(best) = curl.iter().map(|(elapsed, _)| *elapsed).min() {
        let curl_mbs = mb_per_s(size, best);
        let cpu = curl.iter().map(|(_, cpu)| cpu).sum::<f64>() / (curl.len() as u64 * size) as f64 * GIB;
        let all: Vec<_> = curl.iter().map(|(elapsed, _)| format!("{:.0}", mb_per_s(size, *elapsed))).collect();
        println!();
        println!(
            "curl -T, one PUT of the whole file: best {curl_mbs:.0} MB/s, {cpu:.2} CPU s/GiB ({})",
            all.join(", ")
        );
        for (concurrency, kib, best, peak_kib) in rows {
            println!(
                "  concurrency {concurrency}, {kib} KiB: {:.2}x curl, peak RSS {:.1} MiB",
                best / curl_mbs,
                peak_kib as f64 / 1024.0
            );
        }
    }
    let _ = sink.kill();
    let _ = sink.wait();
}

/// Runs one setting in a fresh process (this binary with `--upload`), so
/// that its peak RSS owes nothing to the settings tried before it. Returns
/// the MB/s of each round, the peak RSS in KiB and the CPU seconds per GiB.
fn upload_in_child(
    path: &Path,
    port: u16,
    sizes: &[u64],
    hashes: &[u64],
    concurrency: u64,
    kib: u64,
    rounds: u64,
) -> (Vec<f64>, u64, f64) {
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .arg("--upload")
        .env("FRAMEIO_BENCH_FILE", path)
        .env("FRAMEIO_BENCH_PORT", port.to_string())
        .env("FRAMEIO_BENCH_CONCURRENCY", concurrency.to_string())
        .env("FRAMEIO_BENCH_BUFFER_KIB", kib.to_string())
        .env("FRAMEIO_BENCH_ROUNDS", rounds.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start upload");
    let plan: String = sizes.iter().zip(hashes).map(|(size, hash)| format!("{size} {hash}\n")).collect();
    child.stdin.take().expect("stdin").write_all(plan.as_bytes()).expect("send plan");
    let output = child.wait_with_output().expect("upload run");
    assert!(output.status.success(), "upload run failed");
    let text = String::from_utf8_lossy(&output.stdout);
    let mut fields = text.split_whitespace();
    let speeds = fields.next().expect("speeds").split(',').map(|s| s.parse().expect("MB/s")).collect();
    let peak_kib = fields.next().expect("peak").parse().expect("peak RSS");
    let cpu_per_gib = fields.next().expect("cpu").parse().expect("CPU s/GiB");
    (speeds, peak_kib, cpu_per_gib)
}

/// One setting's rounds (see [`upload_in_child`]); prints
/// `MBPS,MBPS,... PEAK_KIB CPU_S_PER_GIB`.
fn run_upload() {
    let path = std::env::var("FRAMEIO_BENCH_FILE").expect("FRAMEIO_BENCH_FILE");
    let port = env_u64("FRAMEIO_BENCH_PORT", 0);
    let concurrency = env_u64("FRAMEIO_BENCH_CONCURRENCY", DEFAULT_CONCURRENCY as u64);
    let kib = env_u64("FRAMEIO_BENCH_BUFFER_KIB", (DEFAULT_BUFFER_SIZE / 1024) as u64);
    let rounds = env_u64("FRAMEIO_BENCH_ROUNDS", 1);
    let (sizes, hashes): (Vec<u64>, Vec<u64>) = std::io::stdin()
        .lines()
        .map(|line| {
            let line = line.expect("plan line");
            let (size, hash) = line.split_once(' ').expect("size and hash");
            (size.parse::<u64>().expect("size"), hash.parse::<u64>().expect("hash"))
        })
        .unzip();
    let total: u64 = sizes.iter().sum();
    let urls: Vec<UploadUrl> = sizes
        .iter()
        .enumerate()
        .map(|(i, size)| UploadUrl::new(*size, format!("http://127.0.0.1:{port}/parts/{i}?X-Amz-Signature=bench")))
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let uploader = Uploader::builder()
        .concurrency(concurrency as usize)
        .buffer_size((kib * 1024) as usize)
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("uploader");
    let mut speeds = Vec::new();
    let cpu_before = cpu_seconds(Of::Me);
    for _ in 0..rounds {
        let elapsed = runtime.block_on(async {
            let source = UploadSource::open(&path).await.expect("open");
            let started = Instant::now();
            let report = uploader
                .upload_parts(&source, MEDIA_TYPE, &urls, UploadOptions::new())
                .await
                .unwrap_or_else(|e| panic!("upload failed: {e}"));
            let elapsed = started.elapsed();
            assert_eq!(report.parts.len(), hashes.len());
            for (part, expected) in report.parts.iter().zip(&hashes) {
                assert_eq!(
                    part.etag.as_deref(),
                    Some(etag(*expected).as_str()),
                    "part {} arrived corrupted",
                    part.number
                );
            }
            elapsed
        });
        speeds.push(format!("{:.1}", mb_per_s(total, elapsed)));
    }
    let cpu_per_gib = (cpu_seconds(Of::Me) - cpu_before) / (rounds * total) as f64 * GIB;
    println!("{} {} {cpu_per_gib:.3}", speeds.join(","), peak_rss_kib());
}

/// Writes `sizes.iter().sum()` pseudo-random bytes; returns each part's
/// xxh3 and the whole file's.
fn write_file(path: &Path, sizes: &[u64]) -> (Vec<u64>, u64) {
    const BLOCK: usize = 8 << 20;
    let mut file = File::create(path).expect("create file");
    let mut block = vec![0u8; BLOCK];
    let mut state: u64 = 0x243F_6A88_85A3_08D3;
    let mut whole = Xxh3::new();
    let mut hashes = Vec::with_capacity(sizes.len());
    for &size in sizes {
        let mut part = Xxh3::new();
        let mut left = size;
        while left > 0 {
            let n = left.min(BLOCK as u64) as usize;
            for word in block[..n].chunks_mut(8) {
                // splitmix64: fast, and no two blocks alike.
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^= z >> 31;
                word.copy_from_slice(&z.to_le_bytes()[..word.len()]);
            }
            file.write_all(&block[..n]).expect("write file");
            part.update(&block[..n]);
            whole.update(&block[..n]);
            left -= n as u64;
        }
        hashes.push(part.digest());
    }
    // Written back now, so that writeback does not compete with the runs.
    file.sync_all().expect("sync file");
    (hashes, whole.digest())
}

fn etag(hash: u64) -> String {
    format!("\"{hash:016x}\"")
}

/// One `curl -T` of the whole file: its time and CPU seconds; `None` if
/// curl is missing or failed.
fn curl_once(path: &Path, port: u16, expected: u64) -> Option<(Duration, f64)> {
    let cpu_before = cpu_seconds(Of::Children);
    let started = Instant::now();
    let output = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code} %header{etag}", "-T"])
        .arg(path)
        .args(["-H", &format!("Content-Type: {MEDIA_TYPE}")])
        .args(["-H", "x-amz-acl: private"])
        // No 100-continue round trip: the yardstick gets its best case.
        .args(["-H", "Expect:"])
        .arg(format!("http://127.0.0.1:{port}/curl/whole"))
        .output()
        .ok()?;
    let elapsed = started.elapsed();
    let answer = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || answer.trim() != format!("200 {}", etag(expected)) {
        eprintln!("curl failed: {answer} {}", String::from_utf8_lossy(&output.stderr));
        return None;
    }
    Some((elapsed, cpu_seconds(Of::Children) - cpu_before))
}

/// CPU time (user + system) in seconds that this process has used, or with
/// `Of::Children` that its finished children have; 0 where /proc is not
/// available.
fn cpu_seconds(of: Of) -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime, stime, cutime and
    // cstime are the 14th to 17th of the line, in ticks (100 a second on Linux).
    let fields: Vec<&str> = stat.rsplit_once(')').map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    let first = match of {
        Of::Me => 11,
        Of::Children => 13,
    };
    (ticks(first) + ticks(first + 1)) / 100.0
}

#[derive(Clone, Copy)]
enum Of {
    Me,
    Children,
}

/// This process's peak RSS (VmHWM) in KiB; 0 where /proc is not available.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
            line.trim().trim_end_matches("kB").trim().parse().ok()
        })
        .unwrap_or(0)
}

fn start_sink() -> (Child, u16) {
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .arg("--sink")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start sink");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("sink stdout")).read_line(&mut line).expect("sink port");
    let port = line.trim().parse().expect("sink printed its port");
    (child, port)
}

/// The sink: streams each body through xxh3 and discards it; exits when
/// the parent closes its stdin.
fn run_sink() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("sink runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        println!("{}", listener.local_addr().expect("addr").port());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let _ =
                        http1::Builder::new().serve_connection(TokioIo::new(stream), service_fn(sink_request)).await;
                });
            }
        });
        // Parent gone (or done): stdin reaches EOF.
        let _ = tokio::task::spawn_blocking(|| std::io::stdin().lines().count()).await;
    });
}

async fn sink_request(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let headers = req.headers();
    let declared: Option<u64> = headers.get("content-length").and_then(|v| v.to_str().ok()?.parse().ok());
    let problem = if req.method() != hyper::Method::PUT {
        Some("method must be PUT".to_owned())
    } else if headers.get("content-type").is_none_or(|v| v != MEDIA_TYPE) {
        Some(format!("Content-Type must be {MEDIA_TYPE}"))
    } else if headers.get("x-amz-acl").is_none_or(|v| v != "private") {
        Some("x-amz-acl must be private".to_owned())
    } else if headers.contains_key("authorization") {
        Some("no Authorization header may reach storage".to_owned())
    } else if headers.contains_key("transfer-encoding") || declared.is_none() {
        Some("a Content-Length is required".to_owned())
    } else {
        None
    };
    let mut body = req.into_body();
    let mut hasher = Xxh3::new();
    let mut received = 0u64;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Ok(answer(StatusCode::BAD_REQUEST, "body broke off".to_owned()));
        };
        if let Ok(data) = frame.into_data() {
            hasher.update(&data);
            received += data.len() as u64;
        }
    }
    if let Some(problem) = problem {
        return Ok(answer(StatusCode::BAD_REQUEST, problem));
    }
    if declared != Some(received) {
        return Ok(answer(StatusCode::BAD_REQUEST, format!("received {received} bytes, declared {declared:?}")));
    }
    let mut ok = answer(StatusCode::OK, String::new());
    ok.headers_mut().insert("etag", etag(hasher.digest()).parse().expect("etag header"));
    Ok(ok)
}

/// An answer; failures carry an S3-style error document that the uploader
/// shows in its error.
fn answer(status: StatusCode, problem: String) -> Response<Full<Bytes>> {
    let body = if status.is_success() {
        String::new()
    } else {
        format!("<Error><Code>BenchCheckFailed</Code><Message>{problem}</Message></Error>")
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}
