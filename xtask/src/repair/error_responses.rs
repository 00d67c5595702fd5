//! Every operation lists seven 4xx responses (`BadRequest`, `Unauthorized`,
//! `Forbidden`, `NotFound`, `Conflict`, `UnprocessableContent`, `TooManyRequests`),
//! each a differently named copy of the same envelope
//! `{"errors":[{"detail","title"?,"source"?:{"pointer"?}}]}`; one 422 uses a stricter
//! `JsonErrorResponse` that also requires `title` and `source`. progenitor accepts
//! one error type per operation, and the API's undocumented statuses (402, 5xx)
//! carry the same envelope. So every non-2xx response becomes one `4XX` and one
//! `5XX` response typed `Error` (not `default`, which progenitor also counts as a
//! possible success type), built from the least strict published envelope
//! (`BadRequest`: only `detail` guaranteed, as the getting-started guide says).
//! A response that is not such an envelope is an error, not silently merged.

use serde_json::{Value, json};

use super::Repair;
use crate::error::SpecError;
use crate::merge::Origins;
use crate::walk;

/// The published V4 envelope the canonical `Error` types are copied from, and their new names.
const V4_CANONICAL: &[(&str, &str)] = &[
    ("BadRequest", "Error"),
    ("BadRequestErrorsItems", "ErrorDetail"),
    ("BadRequestErrorsItemsSource", "ErrorSource"),
];

pub const REPAIR: Repair = Repair {
    name: "one_error_envelope",
    quirk: "seven identical 4xx envelopes per operation (plus a stricter `JsonErrorResponse`); progenitor takes one error type",
    apply: |doc, origins| unify(doc, origins, V4_CANONICAL, is_envelope),
};

/// The C2C device API answers errors in two shapes (the C2C guide's "Error
/// Handling"): the simple `{"error": "invalid_client"}` of its OAuth endpoints and
/// the detailed `{"code", "errors": [{code, detail, status, title}], "message"}`
/// (`HTTPError`; the 409 of asset creation is the same shape). Its canonical
/// `Error` is `HTTPError` plus the simple shape's `error` field; the 404 of the
/// account list is published as "Any type", so no shape check is made.
const C2C_CANONICAL: &[(&str, &str)] = &[("HTTPError", "Error"), ("HttpErrorErrorsItems", "ErrorDetail")];

pub const C2C_REPAIR: Repair = Repair {
    name: "one_c2c_error_envelope",
    quirk: "C2C errors published as three different schemas (`HTTPError`, a 409 conflict error, \"Any type\") and none with the simple `{\"error\"}` shape",
    apply: |doc, origins| {
        unify(doc, origins, C2C_CANONICAL, |_, _| true)?;
        doc["components"]["schemas"]["Error"]["properties"]["error"] =
            json!({"type": "string", "description": "The simple error shape's code, e.g. `invalid_client`."});
        Ok(())
    },
};

fn unify(
    doc: &mut Value,
    origins: &Origins,
    canonical_names: &[(&str, &str)],
    accept: fn(&Value, &Value) -> bool,
) -> Result<(), SpecError> {
    let schemas = doc.pointer("/components/schemas").cloned().unwrap_or_default();
    let mut canonical = Vec::new();
    for &(published, name) in canonical_names {
        let mut schema = schemas
            .get(published)
            .cloned()
            .ok_or_else(|| origins.error("/components/schemas", format!("the error envelope `{published}` is gone")))?;
        schema["title"] = json!(name);
        canonical.push((name, schema));
    }
    let renames =
        |s: &str| canonical_names.iter().find(|(p, _)| walk::ref_name(s) == Some(p)).map(|(_, n)| walk::ref_to(n));
    for (name, mut schema) in canonical {
        walk::refs(&mut schema, &mut |r| renames(r));
        doc["components"]["schemas"][name] = schema;
    }
    doc["components"]["schemas"]["Error"]["description"] =
        json!("The error envelope of every Frame.io error response; only `detail` is guaranteed.");

    walk::operations(doc, |o| {
        let Some(responses) = o.op.get_mut("responses").and_then(Value::as_object_mut) else {
            return Ok(());
        };
        let errors: Vec<String> = responses.keys().filter(|c| !c.starts_with('2')).cloned().collect();
        for code in &errors {
            let at = format!("{}/responses/{code}", o.pointer);
            let schema = &responses[code]["content"]["application/json"]["schema"];
            if !accept(schema, &schemas) {
                return Err(origins.error(&at, "error response is not the `{errors: [{detail}]}` envelope"));
            }
            responses.remove(code);
        }
        if !errors.is_empty() {
            for range in ["4XX", "5XX"] {
                responses.insert(
                    range.into(),
                    json!({"description": "Error", "content": {"application/json": {"schema": {"$ref": walk::ref_to("Error")}}}}),
                );
            }
        }
        Ok(())
    })
}

fn is_envelope(schema: &Value, schemas: &Value) -> bool {
    let resolve =
        |s: &Value| s["$ref"].as_str().and_then(walk::ref_name).map(|n| schemas[n].clone()).unwrap_or(s.clone());
    let envelope = resolve(schema);
    let item = resolve(&envelope["properties"]["errors"]["items"]);
    envelope["properties"]["errors"]["type"] == "array" && item["properties"]["detail"]["type"] == "string"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(error_schema: Value) -> Value {
        json!({
            "paths": {"/a": {"get": {"responses": {
                "200": {"description": "OK"},
                "404": {"description": "Not found", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NotFound"}}}},
                "422": {"description": "Bad", "content": {"application/json": {"schema": error_schema}}}
            }}}},
            "components": {"schemas": {
                "BadRequest": {"type": "object", "properties": {"errors": {"type": "array", "items": {"$ref": "#/components/schemas/BadRequestErrorsItems"}}}},
                "BadRequestErrorsItems": {"type": "object", "properties": {"detail": {"type": "string"}, "source": {"$ref": "#/components/schemas/BadRequestErrorsItemsSource"}}},
                "BadRequestErrorsItemsSource": {"type": "object", "properties": {"pointer": {"type": "string"}}},
                "NotFound": {"type": "object", "properties": {"errors": {"type": "array", "items": {"$ref": "#/components/schemas/BadRequestErrorsItems"}}}}
            }}
        })
    }

    #[test]
    fn all_error_responses_become_one_error_type() {
        let mut d = doc(json!({"$ref": "#/components/schemas/NotFound"}));
        (REPAIR.apply)(&mut d, &Origins::default()).unwrap();
        let responses = d["paths"]["/a"]["get"]["responses"].as_object().unwrap();
        assert_eq!(responses.keys().collect::<Vec<_>>(), ["200", "4XX", "5XX"]);
        assert_eq!(responses["5XX"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Error");
        let s = &d["components"]["schemas"];
        assert_eq!(s["Error"]["properties"]["errors"]["items"]["$ref"], "#/components/schemas/ErrorDetail");
        assert_eq!(s["ErrorDetail"]["properties"]["source"]["$ref"], "#/components/schemas/ErrorSource");
    }

    #[test]
    fn a_response_that_is_not_an_envelope_is_an_error() {
        let mut d = doc(json!({"type": "object", "properties": {"message": {"type": "string"}}}));
        let err = (REPAIR.apply)(&mut d, &Origins::default()).unwrap_err();
        assert_eq!(err.pointer, "/paths/~1a/get/responses/422");
    }
}
