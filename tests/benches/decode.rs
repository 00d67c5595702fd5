//! Typed decoding throughput of a 100-item page of file objects, the cost the
//! decoding policy (README, "Decoding policy") must keep low: responses keep
//! undeclared members in a flattened `extra` map. Prints items/s, best of several
//! runs, for three pages built from the file of `v4/folders_children_200_postman.json`:
//! the file as a plain listing returns it (its `include`d members removed), the file
//! with its includes, and the plain file with three members the spec does not
//! declare (the only case where serde's flatten buffers anything).
//!
//! `cargo bench -p frameio-tests --bench decode`

use std::hint::black_box;
use std::time::Instant;

use frameio_gen::v4::types::FileAssetsWithIncludesResponse;
use serde_json::{Value, json};

const PAGE_SIZE: usize = 100;
const DECODES_PER_RUN: usize = 200;
const RUNS: usize = 15;

/// A page of `PAGE_SIZE` copies of `item`, each with its own id.
fn page(item: &Value) -> String {
    let items: Vec<Value> = (0..PAGE_SIZE)
        .map(|i| {
            let mut item = item.clone();
            item["id"] = json!(format!("cba3b1c5-c644-4592-91c5-{i:012}"));
            item
        })
        .collect();
    json!({"data": items, "links": {"next": "/v4/accounts/a/folders/f/children?after=c"}, "total_count": 1000})
        .to_string()
}

/// Items per second, best of `RUNS` after one unmeasured run.
fn items_per_second(text: &str) -> f64 {
    let mut best = f64::MAX;
    for run in 0..=RUNS {
        let started = Instant::now();
        for _ in 0..DECODES_PER_RUN {
            let page: FileAssetsWithIncludesResponse = serde_json::from_str(black_box(text)).expect("the page decodes");
            assert_eq!(page.data.len(), PAGE_SIZE);
            black_box(page);
        }
        if run > 0 {
            best = best.min(started.elapsed().as_secs_f64());
        }
    }
    (DECODES_PER_RUN * PAGE_SIZE) as f64 / best
}

fn main() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/conformance/v4/folders_children_200_postman.json");
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    let with_includes = fixture["data"][0].clone();
    let mut plain = with_includes.clone();
    for include in ["creator", "media_links", "metadata", "project"] {
        plain.as_object_mut().unwrap().remove(include);
    }
    let mut undeclared = plain.clone();
    for (key, value) in [("creator_id", json!("8ea72912")), ("label", json!("approved")), ("rating", json!(4))] {
        undeclared[key] = value;
    }
    for (name, item) in
        [("plain file", &plain), ("file with includes", &with_includes), ("plain + 3 undeclared", &undeclared)]
    {
        let text = page(item);
        println!(
            "decode {name:<22} {:>5} bytes/item: {:>9.0} items/s",
            text.len() / PAGE_SIZE,
            items_per_second(&text)
        );
    }
}
