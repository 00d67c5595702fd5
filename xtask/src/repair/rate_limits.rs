//! Every V4 operation documents its limit only in prose: "Rate Limits: 5 calls per
//! 1 second(s) per account_user". It is parsed into `x-frameio-rate-limit` so the
//! generated operation table can drive the client's proactive limiter. A
//! description that mentions rate limits in a form this parser does not know is an
//! error rather than a silently missing limit.

use serde_json::{Value, json};

use super::Repair;
use crate::walk;

pub const REPAIR: Repair = Repair {
    name: "extract_rate_limits",
    quirk: "documented per-operation rate limits exist only as prose in descriptions",
    apply: |doc, origins| {
        walk::operations(doc, |o| {
            let description = o.op.get("description").and_then(Value::as_str).unwrap_or_default();
            let Some(at) = description.find("Rate Limits:") else {
                return Ok(());
            };
            let limit = parse(&description[at..]).ok_or_else(|| {
                origins.error(&format!("{}/description", o.pointer), "unrecognised `Rate Limits:` sentence")
            })?;
            o.op.insert("x-frameio-rate-limit".into(), limit);
            Ok(())
        })
    },
};

/// "Rate Limits: 10 calls per 1.00 minute(s) per account_user" → calls, window in ms, scope.
fn parse(text: &str) -> Option<Value> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let ["Rate", "Limits:", calls, "calls", "per", amount, unit, "per", scope, ..] = words.as_slice() else {
        return None;
    };
    let calls: u32 = calls.parse().ok()?;
    let amount: f64 = amount.parse().ok()?;
    let unit_ms = match unit.trim_end_matches("(s)") {
        "second" => 1_000.0,
        "minute" => 60_000.0,
        "hour" => 3_600_000.0,
        _ => return None,
    };
    // The scope is the word before any markup: "per account_user<br/><br/>Currently, ..." (069).
    let scope: String = scope.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    if scope.is_empty() {
        return None;
    }
    Some(json!({"calls": calls, "window_ms": (amount * unit_ms).round() as u64, "scope": scope}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_published_forms() {
        assert_eq!(
            parse("Rate Limits: 5 calls per 1 second(s) per account_user").unwrap(),
            json!({"calls": 5, "window_ms": 1000, "scope": "account_user"})
        );
        assert_eq!(
            parse("Rate Limits: 100 calls per 1.00 minute(s) per account_user\n").unwrap(),
            json!({"calls": 100, "window_ms": 60000, "scope": "account_user"})
        );
        assert!(parse("Rate Limits: lots").is_none());
        assert_eq!(
            parse("Rate Limits: 10 calls per 1.00 minute(s) per account_user<br/><br/>Currently, copying").unwrap()["scope"],
            "account_user"
        );
        assert!(parse("Rate Limits: 10 calls per 1 minute(s) per <br/>").is_none());
    }

    #[test]
    fn annotates_operations_and_rejects_unknown_sentences() {
        let mut doc = json!({"paths": {"/a": {"get": {"description": "Show.<br/>Rate Limits: 3 calls per 1 second(s) per account_user"}}}});
        (REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        assert_eq!(doc["paths"]["/a"]["get"]["x-frameio-rate-limit"]["calls"], 3);
        let mut bad = json!({"paths": {"/a": {"get": {"description": "Rate Limits: a few per day"}}}});
        assert!((REPAIR.apply)(&mut bad, &Default::default()).is_err());
    }
}
