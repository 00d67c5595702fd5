//! Mocks: progenitor's httpmock helpers for one API (a `MockServerExt` trait with one
//! method per operation, whose `when` and `then` take the generated types), for
//! `frameio-gen`'s `mock` feature (the generator formats and stamps it "do not edit").
//!
//! One fix on top: progenitor matches every typed request body as JSON, so a mock of
//! a form-encoded operation (C2C's `/v2/auth/*`) would never match what the client
//! sends. Their `body` matchers compare the form's fields instead.

use quote::format_ident;
use syn::visit_mut::VisitMut;

use crate::error::SpecError;
use crate::name::pascal;

const FORM: &str = "application/x-www-form-urlencoded";

/// The mock module of `api` (`crate::{api}` is where its `types` are), from the
/// document and settings its client is generated with, so both name the same types.
pub fn emit(
    api: &str,
    spec: &openapiv3::OpenAPI,
    settings: &progenitor::GenerationSettings,
) -> Result<syn::File, SpecError> {
    let mut generator = progenitor::Generator::new(settings);
    let tokens = generator.httpmock(spec, &format!("crate::{api}")).map_err(|e| {
        SpecError::new("(merged document)", "", format!("progenitor's httpmock generation failed: {e}"))
    })?;
    let mut file: syn::File = syn::parse2(tokens)
        .map_err(|e| SpecError::new("(generated mocks)", "", format!("progenitor emitted unparsable code: {e}")))?;
    match_forms(&mut file, &form_operations(spec))?;
    Ok(file)
}

/// The operations whose request body is form-encoded.
fn form_operations(spec: &openapiv3::OpenAPI) -> Vec<String> {
    spec.operations()
        .filter(|(_, _, op)| {
            matches!(&op.request_body, Some(openapiv3::ReferenceOr::Item(body)) if body.content.contains_key(FORM))
        })
        .filter_map(|(_, _, op)| op.operation_id.clone())
        .collect()
}

/// Replaces the `body` matcher of each form operation's `When` with one that
/// expects each field the client's form encoding sends (serde's names; `None`
/// fields are left out, as the encoder leaves them out).
fn match_forms(file: &mut syn::File, operations: &[String]) -> Result<(), SpecError> {
    let mut rewrite = FormBodies {
        whens: operations.iter().map(|op| format_ident!("{}When", pascal(op))).collect(),
        rewritten: Vec::new(),
    };
    rewrite.visit_file_mut(file);
    for when in &rewrite.whens {
        if !rewrite.rewritten.contains(when) {
            return Err(SpecError::new(
                "(generated mocks)",
                "",
                format!("no `body` matcher on `{when}` to make match a form (did progenitor rename it?)"),
            ));
        }
    }
    Ok(())
}

struct FormBodies {
    whens: Vec<syn::Ident>,
    rewritten: Vec<syn::Ident>,
}

impl VisitMut for FormBodies {
    fn visit_item_impl_mut(&mut self, item: &mut syn::ItemImpl) {
        let syn::Type::Path(ty) = item.self_ty.as_ref() else { return };
        let Some(name) = ty.path.get_ident().filter(|name| self.whens.contains(name)).cloned() else { return };
        for member in &mut item.items {
            if let syn::ImplItem::Fn(method) = member
                && method.sig.ident == "body"
            {
                method.block = syn::parse_quote!({
                    let mut when = self.0;
                    if let Ok(::serde_json::Value::Object(fields)) = ::serde_json::to_value(value) {
                        for (name, field) in fields {
                            when = match field {
                                ::serde_json::Value::Null => when,
                                ::serde_json::Value::String(text) => when.form_urlencoded_tuple(name, text),
                                other => when.form_urlencoded_tuple(name, other.to_string()),
                            };
                        }
                    }
                    Self(when)
                });
                self.rewritten.push(name.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A document with a JSON-bodied and a form-bodied operation.
    fn spec() -> openapiv3::OpenAPI {
        let body = |content_type: &str| serde_json::json!({"required": true, "content": {content_type: {"schema": {"$ref": "#/components/schemas/Grant"}}}});
        serde_json::from_value(serde_json::json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/v2/auth/token": {"post": {"operationId": "auth_token", "requestBody": body(FORM),
                    "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Grant"}}}}}}},
                "/v2/things/{id}": {"put": {"operationId": "things_update", "requestBody": body("application/json"),
                    "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                    "responses": {"204": {"description": "No Content"}}}}
            },
            "components": {"schemas": {"Grant": {"type": "object", "required": ["grant_type"],
                "properties": {"grant_type": {"type": "string"}, "scope": {"type": "string"}}}}}
        }))
        .unwrap()
    }

    fn settings() -> progenitor::GenerationSettings {
        let mut settings = progenitor::GenerationSettings::new();
        settings.with_interface(progenitor::InterfaceStyle::Builder);
        settings
    }

    fn squash(code: &str) -> String {
        code.split_whitespace().collect()
    }

    #[test]
    fn one_typed_method_per_operation_and_form_bodies_match_their_fields() {
        let code = prettyplease::unparse(&emit("c2c", &spec(), &settings()).unwrap());
        let squashed = squash(&code);
        for expected in [
            "pubtraitMockServerExt{fnauth_token<F>",
            "fnthings_update<F>",
            "usecrate::c2c::*;",
            // The path parameter narrows the path; the typed answers set the status.
            "pubfnid(self,value:&str)->Self",
            "pubfnok(self,value:&types::Grant)->Self",
            "pubfnno_content(self)->Self",
        ] {
            assert!(squashed.contains(expected), "{expected} missing from\n{code}");
        }
        let section = |from: &str, to: &str| &squashed[squashed.find(from).unwrap()..squashed.find(to).unwrap()];
        let form = section("implAuthTokenWhen{", "pubstructAuthTokenThen");
        assert!(form.contains("form_urlencoded_tuple(name,text)") && !form.contains("json_body_obj"), "{code}");
        let json = section("implThingsUpdateWhen{", "pubstructThingsUpdateThen");
        assert!(json.contains("pubfnbody(self,value:&types::Grant)->Self{Self(self.0.json_body_obj(value))}"));
    }

    #[test]
    fn a_form_operation_without_a_body_matcher_is_an_error() {
        let mut file: syn::File = syn::parse_quote! {
            pub mod operations { pub struct AuthTokenWhen(::httpmock::When); impl AuthTokenWhen {} }
        };
        let err = match_forms(&mut file, &["auth_token".to_string()]).unwrap_err();
        assert!(err.to_string().contains("AuthTokenWhen"), "{err}");
    }
}
