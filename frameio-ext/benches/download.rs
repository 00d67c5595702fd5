//! Download throughput and memory, beside `curl -o`; and folder trees of many
//! small files, up and down, with files in flight and one at a time.
//!
//! ```text
//! cargo bench -p frameio-ext --bench download
//! ```
//!
//! **One large file.** A child process (this binary with `--serve`) serves a
//! generated file (default 2 GiB, never stored: each 8-byte word is a hash of
//! its offset) on 127.0.0.1 with `Range`, `Content-Range` and an `ETag`. Each
//! round downloads it once with `curl -o` and once per downloader setting, each
//! download in a process of its own (`--download`) so that its peak RSS
//! (VmHWM) owes nothing to the others, into a temp dir; every downloaded file
//! is checked word by word against the generator, then deleted.
//!
//! **A tree of small files.** 1,000 files of 1–64 KiB in 10 folders, written
//! to a temp dir, uploaded into frameio-fake (in this process) with
//! `upload_tree` and downloaded back with `download_tree`, with the default
//! files in flight and with one at a time; every downloaded file is compared
//! with its source. Client-side rate limiting is off (Frame.io documents 5
//! file creations per second, which would make any tree of 1,000 files take
//! 200 s however it is sent). Optionally, every request to the fake is
//! delayed, as a network's round trip would.
//!
//! Settings (environment variables):
//! - `FRAMEIO_BENCH_ONLY`: `file` or `tree` (default both)
//! - `FRAMEIO_BENCH_DOWNLOAD_BYTES`: the large file's size (default 2147483648)
//! - `FRAMEIO_BENCH_PARTS`: comma-separated parts in flight (default: the crate default)
//! - `FRAMEIO_BENCH_BUFFER_KIB`: comma-separated buffer sizes in KiB (default: the crate default)
//! - `FRAMEIO_BENCH_ROUNDS`: rounds per setting, the best is kept (default 2)
//! - `FRAMEIO_BENCH_TREE_FILES`: files in the tree (default 1000)
//! - `FRAMEIO_BENCH_LATENCY_MS`: comma-separated delays added to each request to the fake (default 0,10)
//! - `FRAMEIO_BENCH_DIR`: where files go (default the system temp dir)

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use frameio_ext::download::{DEFAULT_BUFFER_SIZE, DEFAULT_PARTS_IN_FLIGHT, DownloadOptions, Downloader};
use frameio_ext::rate_limit::RateLimiting;
use frameio_ext::transfer::{DEFAULT_FILES_IN_FLIGHT, TreeOptions};
use frameio_ext::{Client, RetryPolicy};
use frameio_fake::{Fake, Fault, Target};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

const MIB: f64 = 1024.0 * 1024.0;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--serve") {
        serve();
    } else if args.iter().any(|a| a == "--download") {
        download_once();
    } else {
        let only = std::env::var("FRAMEIO_BENCH_ONLY").unwrap_or_default();
        if only != "tree" {
            bench_file();
        }
        if only != "file" {
            bench_tree();
        }
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| v.trim().parse().unwrap_or_else(|_| panic!("{name} must be a number")))
}

fn env_list(name: &str, default: &str) -> Vec<u64> {
    let list = std::env::var(name).unwrap_or_else(|_| default.to_string());
    list.split(',').map(|x| x.trim().parse().unwrap_or_else(|_| panic!("{name} must list numbers"))).collect()
}

fn temp_dir() -> tempfile::TempDir {
    match std::env::var_os("FRAMEIO_BENCH_DIR") {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .expect("temp dir")
}

/// Megabytes (10^6 bytes) per second.
fn mb_per_s(bytes: u64, elapsed: Duration) -> f64 {
    bytes as f64 / 1e6 / elapsed.as_secs_f64()
}

/// Word `i` of the served file: splitmix64 of its index, so that a byte
/// written at the wrong offset shows.
fn word(i: u64) -> u64 {
    let mut z = i.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The served file's bytes `start..start + out.len()`.
fn fill(out: &mut [u8], start: u64) {
    let first = start / 8;
    let skip = (start % 8) as usize;
    let mut at = 0;
    let mut w = first;
    while at < out.len() {
        let bytes = word(w).to_le_bytes();
        let from = if w == first { skip } else { 0 };
        let n = (8 - from).min(out.len() - at);
        out[at..at + n].copy_from_slice(&bytes[from..from + n]);
        at += n;
        w += 1;
    }
}

/// Whether the file at `path` is exactly the served file of `size` bytes.
fn verify(path: &Path, size: u64) -> Result<(), String> {
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    if len != size {
        return Err(format!("{len} bytes, not {size}"));
    }
    let (mut got, mut expected) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    let mut at = 0u64;
    while at < size {
        let n = (size - at).min(got.len() as u64) as usize;
        file.read_exact(&mut got[..n]).map_err(|e| e.to_string())?;
        fill(&mut expected[..n], at);
        if got[..n] != expected[..n] {
            let offset = got[..n].iter().zip(&expected[..n]).position(|(a, b)| a != b).unwrap_or(0);
            return Err(format!("byte {} differs", at + offset as u64));
        }
        at += n as u64;
    }
    Ok(())
}

fn free_bytes(dir: &Path) -> Option<u64> {
    let output = Command::new("df").arg("-Pk").arg(dir).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let kib: u64 = text.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()?;
    Some(kib * 1024)
}

fn bench_file() {
    let size = env_u64("FRAMEIO_BENCH_DOWNLOAD_BYTES", 2 << 30);
    let parts = env_list("FRAMEIO_BENCH_PARTS", &DEFAULT_PARTS_IN_FLIGHT.to_string());
    let buffers = env_list("FRAMEIO_BENCH_BUFFER_KIB", &(DEFAULT_BUFFER_SIZE / 1024).to_string());
    let rounds = env_u64("FRAMEIO_BENCH_ROUNDS", 2).max(1);
    let dir = temp_dir();
    if let Some(free) = free_bytes(dir.path()) {
        // One download at a time is on disk; keep room to spare for the machine's other users.
        assert!(
            free > size.saturating_mul(3),
            "{} has {free} bytes free; the bench needs {}",
            dir.path().display(),
            size * 3
        );
    }
    let (mut server, port) = start_server(size);
    let url = format!("http://127.0.0.1:{port}/media/bench.mov?X-Amz-Signature=bench");
    println!(
        "serving {size} bytes ({:.0} MiB) from child process {} on 127.0.0.1:{port}",
        size as f64 / MIB,
        server.id()
    );
    println!("downloads go to {}, each checked word by word and deleted", dir.path().display());

    let mut curl = Vec::new();
    let mut runs: Vec<(u64, u64, Vec<f64>, u64)> =
        parts.iter().flat_map(|&p| buffers.iter().map(move |&b| (p, b, Vec::new(), 0))).collect();
    for _ in 0..rounds {
        // Interleaved, so that a busy moment on the shared machine hits both.
        if let Some(elapsed) = curl_once(&url, &dir.path().join("curl.bin"), size) {
            curl.push(mb_per_s(size, elapsed));
        }
        for (parts, kib, speeds, peak) in &mut runs {
            let (speed, rss) = download_in_child(&url, &dir.path().join("ours.bin"), size, *parts, *kib);
            speeds.push(speed);
            *peak = (*peak).max(rss);
        }
    }
    let _ = server.kill();
    let _ = server.wait();

    let best = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let shown = |v: &[f64]| v.iter().map(|s| format!("{s:.0}")).collect::<Vec<_>>().join(", ");
    println!();
    if curl.is_empty() {
        println!("curl -o: skipped (curl not found or failed)");
    } else {
        println!("curl -o, one GET of the whole file: best {:.0} MB/s ({})", best(&curl), shown(&curl));
    }
    println!("parts  buffer    best MB/s  vs curl  peak RSS   (rounds in MB/s)");
    for (parts, kib, speeds, peak) in &runs {
        let ratio = if curl.is_empty() { f64::NAN } else { best(speeds) / best(&curl) };
        println!(
            "{parts:>5}  {kib:>4} KiB  {:>9.0}  {ratio:>6.2}x  {:>5.1} MiB  ({})",
            best(speeds),
            *peak as f64 / 1024.0,
            shown(speeds)
        );
    }
}

/// One `curl -o` of the whole file, checked and deleted: its time.
fn curl_once(url: &str, dest: &Path, size: u64) -> Option<Duration> {
    let started = Instant::now();
    let output = Command::new("curl").args(["-sS", "-o"]).arg(dest).args(["-w", "%{http_code}", url]).output().ok()?;
    let elapsed = started.elapsed();
    let ok = output.status.success() && String::from_utf8_lossy(&output.stdout).trim() == "200";
    let checked = verify(dest, size);
    let _ = std::fs::remove_file(dest);
    if !ok {
        eprintln!("curl failed: {}", String::from_utf8_lossy(&output.stderr));
        return None;
    }
    checked.unwrap_or_else(|e| panic!("curl's copy is wrong: {e}"));
    Some(elapsed)
}

/// One download in a fresh process; checks and deletes the file. Returns
/// MB/s and the child's peak RSS in KiB.
fn download_in_child(url: &str, dest: &Path, size: u64, parts: u64, kib: u64) -> (f64, u64) {
    let output = Command::new(std::env::current_exe().expect("own path"))
        .arg("--download")
        .env("FRAMEIO_BENCH_URL", url)
        .env("FRAMEIO_BENCH_DEST", dest)
        .env("FRAMEIO_BENCH_PARTS", parts.to_string())
        .env("FRAMEIO_BENCH_BUFFER_KIB", kib.to_string())
        .output()
        .expect("download run");
    assert!(output.status.success(), "download failed: {}", String::from_utf8_lossy(&output.stderr));
    verify(dest, size).unwrap_or_else(|e| panic!("the downloaded file is wrong: {e}"));
    let _ = std::fs::remove_file(dest);
    let text = String::from_utf8_lossy(&output.stdout);
    let mut fields = text.split_whitespace();
    let nanos: u64 = fields.next().and_then(|f| f.parse().ok()).expect("elapsed");
    let peak: u64 = fields.next().and_then(|f| f.parse().ok()).expect("peak RSS");
    (mb_per_s(size, Duration::from_nanos(nanos)), peak)
}

/// The `--download` child: one download; prints `ELAPSED_NS PEAK_KIB`.
fn download_once() {
    let url = std::env::var("FRAMEIO_BENCH_URL").expect("FRAMEIO_BENCH_URL");
    let dest = PathBuf::from(std::env::var_os("FRAMEIO_BENCH_DEST").expect("FRAMEIO_BENCH_DEST"));
    let parts = env_u64("FRAMEIO_BENCH_PARTS", DEFAULT_PARTS_IN_FLIGHT as u64) as usize;
    let kib = env_u64("FRAMEIO_BENCH_BUFFER_KIB", (DEFAULT_BUFFER_SIZE / 1024) as u64) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let downloader = Downloader::builder()
        .parts_in_flight(parts)
        .buffer_size(kib * 1024)
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("downloader");
    let started = Instant::now();
    let report = runtime.block_on(downloader.download(&url, &dest, DownloadOptions::new())).expect("download");
    let elapsed = started.elapsed();
    assert!(report.ranged, "the bench server honours Range");
    println!("{} {}", elapsed.as_nanos(), peak_rss_kib());
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

fn start_server(size: u64) -> (Child, u16) {
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .arg("--serve")
        .env("FRAMEIO_BENCH_DOWNLOAD_BYTES", size.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("server stdout")).read_line(&mut line).expect("server port");
    (child, line.trim().parse().expect("the server printed its port"))
}

/// The `--serve` child: the generated file with `Range` support; exits when
/// the parent closes its stdin.
fn serve() {
    let size = env_u64("FRAMEIO_BENCH_DOWNLOAD_BYTES", 2 << 30);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("server runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        println!("{}", listener.local_addr().expect("addr").port());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(req, size));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        let _ = tokio::task::spawn_blocking(|| std::io::stdin().lines().count()).await;
    });
}

async fn answer(req: Request<Incoming>, size: u64) -> Result<Response<Generated>, Infallible> {
    let range = req.headers().get("range").and_then(|v| v.to_str().ok()).and_then(|v| {
        let (start, end) = v.strip_prefix("bytes=")?.split_once('-')?;
        let start: u64 = start.parse().ok()?;
        let end = if end.is_empty() { size - 1 } else { end.parse::<u64>().ok()?.min(size - 1) };
        (start <= end && start < size).then_some((start, end))
    });
    let (status, start, end) = match range {
        Some((start, end)) => (StatusCode::PARTIAL_CONTENT, start, end + 1),
        None => (StatusCode::OK, 0, size),
    };
    let mut response = Response::new(Generated { at: start, end, buf: vec![0; 256 * 1024] });
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert("etag", "\"bench-v1\"".parse().expect("etag"));
    headers.insert("accept-ranges", "bytes".parse().expect("accept-ranges"));
    headers.insert("content-length", (end - start).into());
    if status == StatusCode::PARTIAL_CONTENT {
        headers.insert("content-range", format!("bytes {start}-{}/{size}", end - 1).parse().expect("content-range"));
    }
    Ok(response)
}

/// A body of the generated file's bytes `at..end`, in 256 KiB chunks.
struct Generated {
    at: u64,
    end: u64,
    buf: Vec<u8>,
}

impl Body for Generated {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.at >= self.end {
            return Poll::Ready(None);
        }
        let n = (self.end - self.at).min(self.buf.len() as u64) as usize;
        let at = self.at;
        fill(&mut self.buf[..n], at);
        self.at += n as u64;
        Poll::Ready(Some(Ok(Frame::data(Bytes::copy_from_slice(&self.buf[..n])))))
    }

    fn is_end_stream(&self) -> bool {
        self.at >= self.end
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.end - self.at)
    }
}

fn bench_tree() {
    let count = env_u64("FRAMEIO_BENCH_TREE_FILES", 1000).max(1) as usize;
    let latencies = env_list("FRAMEIO_BENCH_LATENCY_MS", "0,10");
    let dir = temp_dir();
    let source = dir.path().join("source");
    let mut files = Vec::with_capacity(count);
    let mut total = 0u64;
    for i in 0..count {
        // 1 to 64 KiB, spread evenly by a hash of the index.
        let len = 1024 + (word(i as u64 + 1_000_000) % (63 * 1024 + 1)) as usize;
        let path = PathBuf::from(format!("folder_{:02}/clip_{i:04}.mov", i % 10));
        let mut bytes = vec![0u8; len];
        fill(&mut bytes, i as u64 * 65_536);
        std::fs::create_dir_all(source.join(path.parent().expect("folder"))).expect("folder");
        std::fs::write(source.join(&path), &bytes).expect("file");
        total += len as u64;
        files.push((path, bytes));
    }
    println!();
    println!(
        "tree: {count} files of 1-64 KiB ({:.1} MiB) in 10 folders, to and from frameio-fake in this process",
        total as f64 / MIB
    );
    println!("latency  direction  files in flight  seconds  files/s  MB/s   speed-up");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let fake = Fake::builder().max_file_size(1 << 20).start().await.expect("fake");
        let client = Client::builder()
            .base_url(fake.base_url())
            .bearer_token(fake.token())
            .rate_limiting(RateLimiting::disabled())
            .build()
            .expect("client");
        let account = fake.seed().account("Bench");
        let workspace = account.workspace("Bench");
        for (round, &latency) in latencies.iter().enumerate() {
            fake.clear_faults();
            if latency > 0 {
                fake.fault(Target::Any, Fault::delay(Duration::from_millis(latency)).times(usize::MAX));
            }
            let mut upload_times = Vec::new();
            let mut download_times = Vec::new();
            for (i, &in_flight) in [DEFAULT_FILES_IN_FLIGHT, 1].iter().enumerate() {
                let project = workspace.project(&format!("Run {round}.{i}"));
                let options = TreeOptions::new().files_in_flight(in_flight);
                let started = Instant::now();
                let report = client
                    .transfers()
                    .upload_tree(&source, &account.id, &project.root_folder_id, options.clone())
                    .await
                    .expect("upload");
                let up = started.elapsed();
                assert!(report.is_complete() && report.transferred.len() == count, "upload: {report:?}");
                let local = dir.path().join(format!("copy_{round}_{i}"));
                let started = Instant::now();
                let report = client
                    .transfers()
                    .download_tree(&account.id, &project.root_folder_id, &local, options)
                    .await
                    .expect("download");
                let down = started.elapsed();
                assert!(report.is_complete() && report.transferred.len() == count, "download: {report:?}");
                for (path, bytes) in &files {
                    assert!(
                        std::fs::read(local.join(path)).expect("downloaded file") == *bytes,
                        "{} differs",
                        path.display()
                    );
                }
                std::fs::remove_dir_all(&local).expect("clean up");
                upload_times.push((in_flight, up));
                download_times.push((in_flight, down));
            }
            for (direction, times) in [("upload", &upload_times), ("download", &download_times)] {
                let single = times.iter().find(|(n, _)| *n == 1).map(|(_, t)| *t).expect("one at a time");
                for (in_flight, elapsed) in times.iter() {
                    println!(
                        "{latency:>4} ms  {direction:<9}  {in_flight:>15}  {:>7.2}  {:>7.0}  {:>5.1}  {:>7.1}x",
                        elapsed.as_secs_f64(),
                        count as f64 / elapsed.as_secs_f64(),
                        mb_per_s(total, *elapsed),
                        single.as_secs_f64() / elapsed.as_secs_f64()
                    );
                }
            }
        }
    });
}
