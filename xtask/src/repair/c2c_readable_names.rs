//! The C2C documents name their schemas after paths and operations
//! (`V2DevicesAccountsGetResponsesContentApplicationJsonSchemaItems`,
//! `Authentication_authDeviceToken_Response_200`) and leave request bodies
//! inline, which progenitor names after the operation
//! (`AuthenticationAuthDeviceTokenBody`). Those become the Rust types a device
//! integration names, so each gets a short name saying what it is, as the V4
//! parameter types do (`readable_parameter_type_names`): components are
//! renamed, inline request bodies move to named components.
//!
//! A new path- or operation-derived component (`V2…`, `…_Response_…`) without
//! an entry here, or an inline request body without a name, is an error, so
//! every type gets a name on purpose.

use serde_json::Value;

use super::Repair;
use crate::walk;

/// Published component name → readable name.
const COMPONENTS: &[(&str, &str)] = &[
    ("Authentication_authDeviceToken_Response_200", "DeviceTokenResponse"),
    ("Authentication_deviceRequestCode_Response_200", "DeviceCodeResponse"),
    ("Devices_createCommentC2C_Response_200", "CommentCreateResponse"),
    ("Devices_deviceAssetCreate_Response_200", "AssetCreateResponse"),
    ("Devices_deviceCreateRealtimeUploadParts_Response_200", "RealtimeUploadPartsResponse"),
    ("V2AuthDeviceCodePostParametersXClientPlatypusEnabled", "UrlPairing"),
    ("V2AuthTokenPostRequestBodyContentMultipartFormDataSchemaGrantType", "GrantType"),
    ("V2DevicesAccountsAccountIdProjectsGetResponsesContentApplicationJsonSchemaItems", "DeviceProject"),
    ("V2DevicesAccountsAccountIdProjectsGetResponsesContentApplicationJsonSchemaItemsType", "DeviceProjectType"),
    ("V2DevicesAccountsGetResponsesContentApplicationJsonSchemaItems", "DeviceAccount"),
    ("V2DevicesAccountsGetResponsesContentApplicationJsonSchemaItemsType", "DeviceAccountType"),
    ("V2DevicesAssetsAssetIdRealtimeUploadPartsPostRequestBodyContentApplicationJsonSchemaPartsItems", "RealtimePart"),
    ("V2DevicesAssetsPostRequestBodyContentApplicationJsonSchemaChannel", "AssetChannel"),
    ("V2DevicesAssetsPostRequestBodyContentApplicationJsonSchemaParts", "AssetParts"),
    (
        "V2DevicesChannelsChannelIdInputsInputIndexTriggerPostRequestBodyContentApplicationJsonSchemaActionType",
        "TriggerActionType",
    ),
];

/// Operation (after naming) → the component its inline request body becomes.
const BODIES: &[(&str, &str)] = &[
    ("authentication_auth_device_revoke_token", "RevokeRequest"),
    ("authentication_auth_device_token", "DeviceTokenRequest"),
    ("authentication_device_request_code", "DeviceCodeRequest"),
    ("devices_connect_device_channel", "ChannelConnectRequest"),
    ("devices_create_comment_c_2_c", "CommentCreateRequest"),
    ("devices_device_asset_create", "AssetCreateRequest"),
    ("devices_device_create_realtime_upload_parts", "RealtimeUploadPartsRequest"),
    ("devices_trigger_realtime_logging_event", "TriggerRequest"),
];

pub const REPAIR: Repair =
    Repair {
        name: "c2c_readable_names",
        quirk: "C2C schemas named after paths and operations, request bodies inline",
        apply: |doc, origins| {
            let names: Vec<String> =
                doc["components"]["schemas"].as_object().map(|s| s.keys().cloned().collect()).unwrap_or_default();
            let mut renames = Vec::new();
            for name in &names {
                match COMPONENTS.iter().find(|(published, _)| published == name) {
                    Some((_, readable)) => renames.push((name.clone(), readable.to_string())),
                    None if is_derived(name) => {
                        let at = crate::error::pointer(["components", "schemas", name]);
                        return Err(origins
                            .error(&at, "a path-derived C2C type name: add it to c2c_readable_names::COMPONENTS"));
                    }
                    None => {}
                }
            }
            let mut bodies = Vec::new();
            walk::operations(doc, |o| {
                let op_name = o.op["operationId"].as_str().unwrap_or_default().to_string();
                let Some(content) =
                    o.op.get_mut("requestBody").and_then(|b| b.get_mut("content")).and_then(Value::as_object_mut)
                else {
                    return Ok(());
                };
                for media in content.values_mut() {
                    let Some(schema) = media.get_mut("schema").filter(|s| s.get("$ref").is_none()) else { continue };
                    let Some((_, name)) = BODIES.iter().find(|(op, _)| *op == op_name) else {
                        return Err(origins
                            .error(&o.pointer, "an inline C2C request body: name it in c2c_readable_names::BODIES"));
                    };
                    bodies.push((name.to_string(), schema.take()));
                    *schema = serde_json::json!({"$ref": walk::ref_to(name)});
                }
                Ok(())
            })?;
            let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") else { return Ok(()) };
            for (name, mut schema) in bodies {
                schema["title"] = Value::String(name.clone());
                schemas.insert(name, schema);
            }
            for (old, new) in &renames {
                if let Some(mut schema) = schemas.remove(old) {
                    schema["title"] = Value::String(new.clone());
                    schemas.insert(new.clone(), schema);
                }
            }
            walk::refs(doc, &mut |r| {
                let name = walk::ref_name(r)?;
                renames.iter().find(|(old, _)| old == name).map(|(_, new)| walk::ref_to(new))
            });
            Ok(())
        },
    };

/// A name made from a path (`V2…`) or an operation (`…_Response_200`).
fn is_derived(name: &str) -> bool {
    name.starts_with("V2") || name.contains("_Response_")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn components_are_renamed_and_inline_bodies_named() {
        let mut doc = json!({
            "paths": {"/v2/auth/token": {"post": {
                "operationId": "authentication_auth_device_token",
                "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
                    "grant_type": {"$ref": "#/components/schemas/V2AuthTokenPostRequestBodyContentMultipartFormDataSchemaGrantType"}}}}}},
                "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Authentication_authDeviceToken_Response_200"}}}}}
            }}},
            "components": {"schemas": {
                "V2AuthTokenPostRequestBodyContentMultipartFormDataSchemaGrantType": {"type": "string", "enum": ["refresh_token"]},
                "Authentication_authDeviceToken_Response_200": {"type": "object"}
            }}
        });
        (REPAIR.apply)(&mut doc, &Default::default()).unwrap();
        let op = &doc["paths"]["/v2/auth/token"]["post"];
        assert_eq!(
            op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["$ref"],
            "#/components/schemas/DeviceTokenRequest"
        );
        assert_eq!(
            op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/DeviceTokenResponse"
        );
        let schemas = &doc["components"]["schemas"];
        assert_eq!(schemas["DeviceTokenRequest"]["properties"]["grant_type"]["$ref"], "#/components/schemas/GrantType");
        assert_eq!(schemas["GrantType"]["enum"], json!(["refresh_token"]));
    }

    #[test]
    fn an_unnamed_derived_type_or_body_is_an_error() {
        let mut doc = json!({"components": {"schemas": {"V2NewThingGetResponses": {"type": "object"}}}});
        assert!((REPAIR.apply)(&mut doc, &Default::default()).unwrap_err().message.contains("COMPONENTS"));
        let mut doc = json!({"paths": {"/v2/x": {"post": {"operationId": "new_op",
            "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}}}}});
        assert!((REPAIR.apply)(&mut doc, &Default::default()).unwrap_err().message.contains("BODIES"));
    }
}
