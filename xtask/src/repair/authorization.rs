//! Every published operation declares a required `Authorization` header parameter.
//! The client injects credentials itself (frameio-ext's token sources), so a
//! parameter would force every caller to pass the token by hand on every call.

use serde_json::Value;

use super::Repair;

pub const REPAIR: Repair = Repair {
    name: "drop_authorization_header",
    quirk: "a required `Authorization` header parameter on every operation",
    apply: |doc, _| {
        super::retain_parameters(doc, |p| !is_authorization(p));
        Ok(())
    },
};

fn is_authorization(p: &Value) -> bool {
    p["in"] == "header" && p["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case("authorization"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn drops_only_the_authorization_header() {
        let mut doc = json!({"paths": {"/a": {"get": {"parameters": [
            {"name": "Authorization", "in": "header"}, {"name": "include", "in": "query"}
        ]}}}});
        (super::REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        assert_eq!(doc["paths"]["/a"]["get"]["parameters"], json!([{"name": "include", "in": "query"}]));
    }
}
