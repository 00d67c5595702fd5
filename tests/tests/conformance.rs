//! The documentation's JSON examples as a conformance suite: every example in
//! `tests/fixtures/conformance/` (see its README and `SPEC_DEFECTS.md`) must decode
//! into the type the client uses for it and come back out without losing anything.
//! Where the docs have no example (the supplementary operations, a file still
//! uploading), the manifest's `constructed` entries are built from the official
//! SDK's types and checked the same way.
//!
//! **Which type** is derived from the repaired spec the client is generated from
//! (`openapi/generated/{api}.json`), never from a hand-written operation table: a
//! request example → the operation's request body schema; a response example → the
//! schema of its status, or of its `4XX`/`5XX` range; an error example with no
//! operation → the one schema every operation's `4XX` uses. A component `Name` is
//! the Rust type `types::Name` in typify's PascalCase; an inline body is named by
//! progenitor after `{operationId}-body`. Rust has no reflection, so [`TYPES`] names
//! the types; `the_type_table_is_exactly_what_the_examples_need` fails when it lacks
//! one or lists one that no example needs.
//!
//! **Checks**, each reported per example:
//! 1. *decode*: from the JSON text, as the client does (tagged unions read the text).
//! 2. *round trip*: re-encoding loses nothing the example shows. Every member of the
//!    example must be present and equal in the re-encoded value; members the output
//!    adds (defaults such as `"is_realtime_upload": false`) are fine, since the API
//!    treats a default the same as its absence. Numbers compare by value (`5` =
//!    `5.0`). In a response, a `null` member may come back absent (an optional member
//!    decoded as `None`); in a request it may not (a PATCH tells `null`, "clear it",
//!    from absent, "leave it"). Form bodies (the C2C OAuth endpoints) are compared as
//!    the urlencoded form the client sends.
//! 3. *declared*: every member the example shows is declared by the spec, every enum
//!    value and union tag is one the spec lists, and `null` appears only where the
//!    spec allows it. The client decodes responses openly on purpose (README,
//!    "Decoding policy": undeclared members are kept in `extra`, unknown enum values
//!    in `Unknown`), so without this check a spec defect would hide behind a passing
//!    round trip.
//!
//! **Exceptions**, each with its reason in code: [`NEGATIVE`] examples (wrong docs)
//! must keep failing; [`ABRIDGED`] ones must fail whole and pass on the members they
//! are about; [`KEPT_IN_EXTRA`] lists the members the client keeps in an `extra`
//! map on purpose.
//!
//! Webhook and custom-action payloads have no spec: they decode into `frameio_ext`'s
//! types, whose `extra` maps (one per object, at every level) may hold only the
//! members [`KEPT_IN_EXTRA`] lists for the example, and each of those must be found in
//! the `extra` of the object it belongs to; the callbacks an integrator sends
//! are rebuilt through `frameio_ext::custom_action`'s builders and must serialise to
//! exactly the example.
//!
//! `cargo test -p frameio-tests --test conformance -- --nocapture` prints one line
//! per example and the totals.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use frameio_ext::custom_action::{ActionRequest, Form, FormField, Message, SelectOption};
use frameio_ext::webhook::{EventType, WebhookEvent};
use heck::ToPascalCase;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Decodes an example's text as one generated type and re-encodes it, as JSON or
/// (`form`) as the urlencoded form the client sends, read back as an object of strings.
type RoundTrip = fn(text: &str, form: bool) -> Result<Value, String>;

macro_rules! types {
    ($($api:ident: [$($name:ident),* $(,)?]),* $(,)?) => {
        /// Every generated type an example needs, by API and name.
        const TYPES: &[(&str, &str, RoundTrip)] =
            &[$($((stringify!($api), stringify!($name), round_trip::<frameio_gen::$api::types::$name>),)*)*];
    };
}

types! {
    v4: [
        AccountsResponse, ActionCreateParams, ActionUpdateParams, AddAssetParams, AddReviewersToShareParams,
        BulkFileCopyMoveParams, BulkFileCopyResponse, BulkFileMoveResponse, BulkFolderCopyMoveParams,
        BulkFolderCopyResponse, BulkFolderMoveResponse, BulkUpdateMetadataParams, CreateAttachmentParams, CreateCommentParams, CreateFieldDefinitionParams,
        CreateGroupParams, CreateShareParams, Error, FileAssetsWithIncludesResponse, FileCopyParams,
        FileCreateLocalUploadParams, FileCreateParams, FileCreateRemoteUploadParams, FileImportParams,
        FileMoveParams, FileRemoteUploadResponse, FileUpdateParams, FileWithIncludesResponse,
        FileWithUploadUrlsResponse, FolderCopyParams, FolderCreateParams, FolderMoveParams, MediaLinksCollection,
        ProfileResponse, ProjectParams, ProjectResponse, ProjectUpdateParams, ProjectsWithIncludesResponse,
        RecentlyDeletedResponse, RemoveReviewerParams, SearchParams, ShareActivityResponse, ShareAssetsResponse,
        UpdateAccountRolesParams, UpdateCommentParams, UpdateFieldDefinitionParams, UpdateGroupParams,
        UpdateShareParams, UpdateUserRolesParams, UpdateWorkspaceRoleParams, VersionStackCopyParams,
        VersionStackCreateParams, WebhookCreateParams, WebhookUpdateParams, WorkspaceParams, WorkspaceResponse,
        WorkspacesWithIncludesResponse,
    ],
    c2c: [
        RevokeRequest, DeviceTokenRequest,
        DeviceTokenResponse, DeviceCodeRequest,
        DeviceCodeResponse, ChannelConnectRequest, CommentCreateRequest,
        AssetCreateRequest, AssetCreateResponse, RealtimeUploadPartsRequest,
        RealtimeUploadPartsResponse, TriggerRequest, Error, Project,
        ProjectDevice, ProjectDeviceAuthorizationCreator, ProjectDeviceChannel,
    ],
}

/// Examples the docs get wrong: a client must neither send nor expect them, so they
/// must keep failing (a pass means the fixture or the client changed). Recognised by
/// the file-name conventions of the fixtures' README.
const NEGATIVE: &[(&str, &str)] = &[
    (
        "_body_wrapped.json",
        "D17: the generated go/ruby/java/php/csharp/swift snippets wrap the body in {\"body\": ...}; the guides \
         and the TypeScript/Python snippets send it at the root",
    ),
    (
        "_migration_sketch.json",
        "D15: a one-line body sketch from the migration guide, not the real body (no `data` wrapper, a share \
         `type` that does not exist, a webhook without its required `name`)",
    ),
];

/// Examples the docs shortened on purpose (file-name prefix): the whole example lacks
/// required members the real response has and must fail, so the members it is about
/// are checked instead, each as the type the spec gives it.
const ABRIDGED: &[(&str, &[&str], &str)] = &[
    (
        "v4/files_show_200_media_links_",
        &["/data/media_links"],
        "D15: the media-links guide trims the file to `id`, `name`, `type` and the `media_links` it explains",
    ),
    (
        "c2c/assets_create_200_four_upload_urls_abridged.json",
        &[],
        "D05: the advanced uploads guide shows only the `upload_urls` of the answer (\"The response will include \
         four upload URLs\"); the required `id` is elided",
    ),
    (
        "c2c/devices_me_200_abridged.json",
        &["/project", "/authorization/creator"],
        "D14: \"with some data abbreviated\": `authorization` lacks `creator_id`, `inserted_at` and 33 of the 36 \
         required `scopes` flags",
    ),
];

/// Members the client keeps in the enclosing type's `extra` map on purpose: in a spec
/// example, members the spec leaves undeclared, where the evidence is too thin for a
/// field; in a webhook or custom-action payload, members `frameio_ext` does not model.
const KEPT_IN_EXTRA: &[(&str, &str, &str)] = &[
    (
        "v4/folders_children_200_pagination_example.json",
        "/data/0/creator_id",
        "D16: only this example shows it; no published file schema has it",
    ),
    (
        "v4/folders_children_200_pagination_example.json",
        "/data/0/project/owner_id",
        "D16: only this example shows it; no published V4 project schema has it",
    ),
    (
        "v4/files_show_200_media_links_scrub_sheet.json",
        "/data/media_links/scrub_sheet/metadata",
        "D16: the media-links guide says only the experimental API version returns it",
    ),
    (
        "webhook/file_ready_event_unknown_nested_members.json",
        "/user/adobe_auth_id",
        "sent only for users signed in with an Adobe ID, and absent from the current guide: an app reads it from \
         `user.extra`",
    ),
    (
        "webhook/file_ready_event_unknown_nested_members.json",
        "/resource/member_added_later",
        "constructed: stands for a member Frame.io adds to `resource` after this client was built",
    ),
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn fixtures() -> PathBuf {
    workspace().join("tests/fixtures/conformance")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn manifest() -> Vec<Value> {
    let Value::Array(entries) = read_json(&fixtures().join("manifest.json")) else { panic!("manifest is not a list") };
    entries
}

fn spec(api: &str) -> Value {
    read_json(&workspace().join(format!("openapi/generated/{api}.json")))
}

fn round_trip<T: DeserializeOwned + Serialize>(text: &str, form: bool) -> Result<Value, String> {
    let typed: T = serde_json::from_str(text).map_err(|e| format!("does not decode: {e}"))?;
    if !form {
        return serde_json::to_value(&typed).map_err(|e| format!("does not re-encode: {e}"));
    }
    let encoded = serde_urlencoded::to_string(&typed).map_err(|e| format!("does not form-encode: {e}"))?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_str(&encoded).map_err(|e| e.to_string())?;
    Ok(Value::Object(fields.into_iter().map(|(k, v)| (k, Value::String(v))).collect()))
}

/// typify's name for a component (`Devices_deviceAssetCreate_Response_200` →
/// `AssetCreateResponse`).
fn rust_name(schema_name: &str) -> String {
    schema_name.replace(|c: char| !c.is_alphanumeric() && c != '_', "-").to_pascal_case()
}

fn ref_name(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.strip_prefix("#/components/schemas/")
}

/// The body schema the spec gives an example, and the Rust type it generates.
fn body_schema<'a>(doc: &'a Value, entry: &Value) -> Result<(&'a Value, String), String> {
    let request = entry["direction"] == "request";
    let Some(method) = entry["method"].as_str() else {
        // A generic error envelope: the schema every operation's `4XX` uses.
        let mut found = BTreeSet::new();
        for item in doc["paths"].as_object().into_iter().flat_map(|p| p.values()) {
            for op in item.as_object().into_iter().flat_map(|i| i.values()) {
                if let Some(s) = op.pointer("/responses/4XX/content/application~1json/schema") {
                    found.insert(ref_name(s).ok_or("an inline 4XX schema")?.to_string());
                }
            }
        }
        let [name] = Vec::from_iter(found).try_into().map_err(|all| format!("no single 4XX schema: {all:?}"))?;
        return Ok((&doc["components"]["schemas"][&name], rust_name(&name)));
    };
    let path = entry["path"].as_str().ok_or("no path")?;
    let op = doc["paths"]
        .get(path)
        .and_then(|item| item.get(method.to_lowercase()))
        .ok_or_else(|| format!("{method} {path} is not in the spec"))?;
    let op_id = op["operationId"].as_str().unwrap_or_default();
    let (content, inline) = if request {
        (&op["requestBody"]["content"], format!("{op_id}-body"))
    } else {
        let status = entry["status"].as_u64().ok_or("a response without a status")?;
        let responses = &op["responses"];
        let response = responses
            .get(status.to_string())
            .or_else(|| responses.get(format!("{}XX", status / 100)))
            .ok_or_else(|| format!("the operation declares no response for {status}"))?;
        (&response["content"], format!("{op_id}-response"))
    };
    let media = content.as_object().filter(|c| c.len() == 1).ok_or("not exactly one body media type")?;
    let schema = &media.values().next().unwrap()["schema"];
    // progenitor names an inline body, and typify names that name again (`…_c_2_c-body` → `…C2CBody` → `…C2cBody`).
    Ok((schema, ref_name(schema).map_or_else(|| rust_name(&rust_name(&inline)), rust_name)))
}

/// The schema `schema` gives the member at `pointer` of its value.
fn schema_at<'a>(doc: &'a Value, mut schema: &'a Value, pointer: &str) -> Result<&'a Value, String> {
    for token in pointer.split('/').skip(1) {
        let s = resolve(doc, schema);
        schema = match token.parse::<usize>() {
            Ok(_) => s.get("items"),
            Err(_) => s.get("properties").and_then(|p| p.get(token)),
        }
        .ok_or_else(|| format!("the spec declares nothing at {pointer}"))?;
    }
    Ok(schema)
}

/// One step through a `$ref` or a single-member `allOf` (a `$ref` with siblings).
fn step<'a>(doc: &'a Value, schema: &'a Value) -> Option<&'a Value> {
    match (ref_name(schema), schema.get("allOf").and_then(Value::as_array).map(Vec::as_slice)) {
        (Some(name), _) => Some(&doc["components"]["schemas"][name]),
        (None, Some([only])) => Some(only),
        _ => None,
    }
}

fn resolve<'a>(doc: &'a Value, mut schema: &'a Value) -> &'a Value {
    while let Some(next) = step(doc, schema) {
        schema = next;
    }
    schema
}

/// `nullable` anywhere on the way to the schema (the downgrade puts it on the `allOf` wrapper).
fn nullable<'a>(doc: &'a Value, mut schema: &'a Value) -> bool {
    loop {
        if schema["nullable"] == true {
            return true;
        }
        match step(doc, schema) {
            Some(next) => schema = next,
            None => return false,
        }
    }
}

/// Check 3: what in `value` the spec does not declare (member, enum value, union tag, null).
fn undeclared(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    if value.is_null() {
        if !nullable(doc, schema) {
            out.push(format!("{at}: null, which the spec does not allow"));
        }
        return;
    }
    let s = resolve(doc, schema);
    if let Some(members) = s.get("oneOf").and_then(Value::as_array) {
        match (s.get("x-frameio-tags").and_then(Value::as_array), s.pointer("/discriminator/propertyName")) {
            (Some(tags), Some(Value::String(property))) => match tags.iter().position(|t| *t == value[property]) {
                Some(i) => undeclared(doc, &members[i], value, at, out),
                None => {
                    out.push(format!("{at}: union tag {} is not one of {}", value[property], Value::from(tags.clone())))
                }
            },
            _ => {
                let fits = members.iter().map(|m| {
                    let mut problems = Vec::new();
                    undeclared(doc, m, value, at, &mut problems);
                    problems
                });
                out.extend(fits.min_by_key(Vec::len).unwrap_or_default());
            }
        }
        return;
    }
    if let Some(values) = s.get("enum").and_then(Value::as_array)
        && !values.contains(value)
    {
        out.push(format!("{at}: {value} is not one of the spec's values {}", Value::from(values.clone())));
    }
    match value {
        Value::Object(members) => {
            let declared = s.get("properties").and_then(Value::as_object);
            let any_type = s.get("type").is_none() && declared.is_none();
            for (key, member) in members {
                let at = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                match (declared.and_then(|d| d.get(key)), s.get("additionalProperties")) {
                    (Some(p), _) => undeclared(doc, p, member, &at, out),
                    (None, Some(map @ Value::Object(_))) => undeclared(doc, map, member, &at, out),
                    (None, Some(Value::Bool(true))) => {}
                    _ if any_type => {}
                    _ => out.push(format!("{at}: not declared by the spec")),
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = s.get("items") {
                for (i, v) in items.iter().enumerate() {
                    undeclared(doc, item, v, &format!("{at}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

/// Check 2: where `output` lost or changed something `example` shows.
fn losses(example: &Value, output: &Value, at: &str, null_is_absent: bool, out: &mut Vec<String>) {
    match (example, output) {
        (Value::Object(e), Value::Object(o)) => {
            for (key, ev) in e {
                let at = format!("{at}/{key}");
                match o.get(key) {
                    Some(ov) => losses(ev, ov, &at, null_is_absent, out),
                    None if ev.is_null() && null_is_absent => {}
                    None => out.push(format!("{at}: lost")),
                }
            }
        }
        (Value::Array(e), Value::Array(o)) if e.len() == o.len() => {
            for (i, (ev, ov)) in e.iter().zip(o).enumerate() {
                losses(ev, ov, &format!("{at}/{i}"), null_is_absent, out);
            }
        }
        (Value::Number(e), Value::Number(o)) if e.as_f64() == o.as_f64() => {}
        (e, o) if e == o => {}
        (e, o) => out.push(format!("{}: {e} came back as {o}", if at.is_empty() { "(root)" } else { at })),
    }
}

/// Checks 1 and 2 for `value`, the example or a member of it, as the type `name`:
/// whether it decodes, and what went wrong.
fn decode(api: &str, name: &str, value: &Value, form: bool, request: bool) -> (bool, Vec<String>) {
    let Some((_, _, check)) = TYPES.iter().find(|(a, n, _)| *a == api && *n == name) else {
        return (false, vec![format!("no `{api}::types::{name}` in TYPES")]);
    };
    match check(&serde_json::to_string(value).unwrap(), form) {
        Ok(output) => {
            let mut out = Vec::new();
            losses(value, &output, "", !request, &mut out);
            (true, out)
        }
        Err(e) => (false, vec![e]),
    }
}

/// The outcome of one example.
struct Report {
    file: String,
    /// What went wrong with the whole example (empty: it conforms).
    problems: Vec<String>,
    /// Whether the whole example decodes (check 1).
    decodes: bool,
    /// Whether it also re-encodes losslessly (check 2).
    round_trips: bool,
    /// Why a failure is expected, for negative and abridged examples.
    expected_failure: Option<&'static str>,
    /// Problems in the members checked instead (abridged examples).
    member_problems: Vec<String>,
}

fn check_spec_example(doc: &Value, entry: &Value) -> Report {
    let file = entry["file"].as_str().unwrap().to_string();
    let api = entry["api"].as_str().unwrap();
    let example = read_json(&fixtures().join(&file));
    let request = entry["direction"] == "request";
    let form = entry["content_type"].as_str().is_some_and(|c| c.contains("form"));
    let negative = NEGATIVE.iter().find(|(suffix, _)| file.ends_with(suffix)).map(|(_, why)| *why);
    let abridged = ABRIDGED.iter().find(|(prefix, _, _)| file.starts_with(prefix));
    let mut report = Report {
        file: file.clone(),
        problems: Vec::new(),
        decodes: false,
        round_trips: false,
        expected_failure: negative.or(abridged.map(|a| a.2)),
        member_problems: Vec::new(),
    };
    let (schema, name) = match body_schema(doc, entry) {
        Ok(found) => found,
        Err(e) => {
            report.problems.push(e);
            return report;
        }
    };
    (report.decodes, report.problems) = decode(api, &name, &example, form, request);
    report.round_trips = report.problems.is_empty();
    let mut declared = Vec::new();
    undeclared(doc, schema, &example, "", &mut declared);
    let kept = |p: &String| {
        KEPT_IN_EXTRA.iter().any(|(f, at, _)| *f == file && p == &format!("{at}: not declared by the spec"))
    };
    report.problems.extend(declared.iter().filter(|p| !kept(p)).cloned());
    for pointer in abridged.map(|a| a.1).unwrap_or_default() {
        let member = example.pointer(pointer).unwrap_or(&Value::Null);
        let found = schema_at(doc, schema, pointer)
            .and_then(|s| ref_name(s).map(|n| (s, rust_name(n))).ok_or_else(|| format!("{pointer}: an inline schema")));
        let problems = match found {
            Ok((s, name)) => {
                let (_, mut problems) = decode(api, &name, member, form, request);
                undeclared(doc, s, member, pointer, &mut problems);
                problems.retain(|p| !kept(p));
                problems
            }
            Err(e) => vec![e],
        };
        report.member_problems.extend(problems.into_iter().map(|p| format!("{pointer}: {p}")));
    }
    report
}

/// Webhook and custom-action payloads (Frame.io → integrator): `frameio_ext`'s types
/// must decode them, keep in their `extra` maps exactly what [`KEPT_IN_EXTRA`] lists,
/// and re-encode them losslessly.
fn check_payload<T: DeserializeOwned + Serialize>(
    text: &str,
    unmodelled: impl Fn(&T) -> Vec<String>,
) -> Result<Value, Vec<String>> {
    let typed: T = serde_json::from_str(text).map_err(|e| vec![format!("does not decode: {e}")])?;
    let problems = unmodelled(&typed);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(serde_json::to_value(&typed).unwrap())
}

/// The pointers of the members in one object's `extra` map, the object being at `at`.
fn extra_members(at: &str, extra: &Map<String, Value>) -> Vec<String> {
    extra.keys().map(|k| format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"))).collect()
}

/// The members in every `extra` map of a webhook event, by pointer.
fn webhook_extras(event: &WebhookEvent) -> Vec<String> {
    let mut found = extra_members("", &event.extra);
    found.extend(extra_members("/resource", &event.resource.extra));
    let refs = [
        ("/account", &event.account),
        ("/workspace", &event.workspace),
        ("/project", &event.project),
        ("/user", &event.user),
    ];
    for (at, object) in refs {
        found.extend(object.iter().flat_map(|o| extra_members(at, &o.extra)));
    }
    found
}

/// The members in every `extra` map of a custom-action request, by pointer.
fn action_extras(action: &ActionRequest) -> Vec<String> {
    let mut found = extra_members("", &action.extra);
    found.extend(action.resource.iter().flat_map(|r| extra_members("/resource", &r.extra)));
    for (i, r) in action.resources.iter().flatten().enumerate() {
        found.extend(extra_members(&format!("/resources/{i}"), &r.extra));
    }
    for (at, object) in [("/workspace", &action.workspace), ("/project", &action.project), ("/user", &action.user)] {
        found.extend(object.iter().flat_map(|o| extra_members(at, &o.extra)));
    }
    found
}

/// What in `found` (members in `extra` maps) [`KEPT_IN_EXTRA`] does not list for
/// `file`, and what it lists that is not there.
fn unexpected_extras(file: &str, found: &[String]) -> Vec<String> {
    let listed: Vec<&str> = KEPT_IN_EXTRA.iter().filter(|(f, _, _)| *f == file).map(|(_, at, _)| *at).collect();
    let unlisted = found.iter().filter(|p| !listed.contains(&p.as_str()));
    let missing = listed.iter().filter(|p| !found.iter().any(|f| f == *p));
    unlisted
        .map(|p| format!("{p}: not modelled (kept in `extra`)"))
        .chain(missing.map(|p| format!("{p}: listed in KEPT_IN_EXTRA but not in the `extra` map of its object")))
        .collect()
}

/// Rebuilds a custom-action form field through the builders.
fn rebuild_field(field: &Value) -> Result<FormField, String> {
    let text = |key: &str| field[key].as_str().ok_or_else(|| format!("field without a string `{key}`"));
    let (name, label) = (text("name")?, text("label")?);
    let built = match text("type")? {
        "text" => FormField::text(name, label),
        "textarea" => FormField::textarea(name, label),
        "boolean" => return Ok(FormField::boolean(name, label, text("value")? == "true")),
        "link" => return Ok(FormField::link(name, label, text("value")?)),
        "select" => {
            let options = field["options"].as_array().ok_or("select without options")?;
            let options = options.iter().map(|o| match (o["name"].as_str(), o["value"].as_str()) {
                (Some(n), Some(v)) => Ok(SelectOption::new(n, v)),
                _ => Err(format!("option {o} is not a name and a value")),
            });
            FormField::select(name, label, options.collect::<Result<Vec<_>, _>>()?)
        }
        other => return Err(format!("no builder for field type `{other}`")),
    };
    Ok(match field["value"].as_str() {
        Some(value) => built.with_value(value),
        None => built,
    })
}

/// Rebuilds a custom-action callback (integrator → Frame.io) through the builders.
fn rebuild_callback(example: &Value, fragment: bool) -> Result<Value, String> {
    if fragment {
        return Ok(serde_json::to_value(rebuild_field(example)?).unwrap());
    }
    let (title, description) = match (example["title"].as_str(), example["description"].as_str()) {
        (Some(t), Some(d)) => (t, d),
        _ => return Err("a callback without a string `title` and `description`".into()),
    };
    let value = match example.get("fields").and_then(Value::as_array) {
        Some(fields) => {
            let form = fields
                .iter()
                .try_fold(Form::new(title, description), |form, f| Ok::<_, String>(form.field(rebuild_field(f)?)))?;
            serde_json::to_value(form)
        }
        None => serde_json::to_value(Message::new(title, description)),
    };
    Ok(value.unwrap())
}

fn check_ext_example(entry: &Value) -> Report {
    let file = entry["file"].as_str().unwrap().to_string();
    let text = std::fs::read_to_string(fixtures().join(&file)).unwrap();
    let example: Value = serde_json::from_str(&text).unwrap();
    let result = match (entry["api"].as_str(), entry["direction"].as_str()) {
        (Some("webhook"), Some("request")) => check_payload::<WebhookEvent>(&text, |e| {
            let mut problems = unexpected_extras(&file, &webhook_extras(e));
            if let EventType::Unknown(t) = &e.r#type {
                problems.push(format!("/type: event type `{t}` is not one frameio-ext knows"));
            }
            problems
        }),
        (Some("custom_action"), Some("request")) => {
            check_payload::<ActionRequest>(&text, |a| unexpected_extras(&file, &action_extras(a)))
        }
        (Some("custom_action"), Some("response")) => {
            match rebuild_callback(&example, entry.get("fragment").is_some()) {
                // The builders emit only what was asked for: the output must be exactly the example.
                Ok(rebuilt) if rebuilt != example => Err(vec![format!("the builders produce {rebuilt}")]),
                Ok(rebuilt) => Ok(rebuilt),
                Err(e) => Err(vec![e]),
            }
        }
        (api, direction) => Err(vec![format!("no check for {api:?} {direction:?} examples")]),
    };
    let (decodes, problems) = match result {
        Ok(output) => {
            let mut out = Vec::new();
            losses(&example, &output, "", false, &mut out);
            (true, out)
        }
        Err(problems) => (false, problems),
    };
    let round_trips = problems.is_empty();
    Report { file, decodes, round_trips, problems, expected_failure: None, member_problems: vec![] }
}

fn run_all() -> Vec<Report> {
    let specs = [("v4", spec("v4")), ("c2c", spec("c2c"))];
    manifest()
        .iter()
        .map(|entry| match specs.iter().find(|(api, _)| entry["api"] == *api) {
            Some((_, doc)) => check_spec_example(doc, entry),
            None => check_ext_example(entry),
        })
        .collect()
}

#[test]
fn every_documented_example_conforms() {
    let reports = run_all();
    let mut listing = String::new();
    let mut unexpected = String::new();
    for r in &reports {
        let line = match (r.problems.is_empty(), r.expected_failure) {
            (true, None) => "ok".to_string(),
            (false, None) => format!("FAIL: {}", r.problems.join("; ")),
            (true, Some(why)) => format!("UNEXPECTED PASS (expected to fail: {why})"),
            (false, Some(why)) => format!("fails as expected ({why}): {}", r.problems.join("; ")),
        };
        let members = if r.member_problems.is_empty() {
            String::new()
        } else {
            format!(" | FAIL in the members checked instead: {}", r.member_problems.join("; "))
        };
        writeln!(listing, "{:<64} {line}{members}", r.file).unwrap();
        let wrong = r.problems.is_empty() == r.expected_failure.is_some() || !r.member_problems.is_empty();
        if wrong {
            writeln!(unexpected, "{} {line}{members}", r.file).unwrap();
        }
    }
    let count = |f: fn(&Report) -> bool| reports.iter().filter(|r| f(r)).count();
    println!("{listing}");
    println!(
        "{} examples: {} decode, {} decode and round-trip, {} conform (decode, round trip, declared)",
        reports.len(),
        count(|r| r.decodes),
        count(|r| r.round_trips),
        count(|r| r.problems.is_empty()),
    );
    assert!(reports.len() >= 134, "only {} examples in the manifest", reports.len());
    assert!(unexpected.is_empty(), "examples with an unexpected result:\n{unexpected}");
}

/// The types the spec assigns to the examples (and the members checked in abridged
/// ones) are exactly those in [`TYPES`].
#[test]
fn the_type_table_is_exactly_what_the_examples_need() {
    let specs = [("v4", spec("v4")), ("c2c", spec("c2c"))];
    let mut needed = BTreeSet::new();
    for entry in manifest() {
        let Some((api, doc)) = specs.iter().find(|(api, _)| entry["api"] == *api) else { continue };
        let Ok((schema, name)) = body_schema(doc, &entry) else { continue };
        needed.insert((api.to_string(), name));
        let file = entry["file"].as_str().unwrap();
        for (_, pointers, _) in ABRIDGED.iter().filter(|(prefix, _, _)| file.starts_with(prefix)) {
            for pointer in *pointers {
                if let Some(name) = schema_at(doc, schema, pointer).ok().and_then(ref_name) {
                    needed.insert((api.to_string(), rust_name(name)));
                }
            }
        }
    }
    let listed: BTreeSet<_> = TYPES.iter().map(|(a, n, _)| (a.to_string(), n.to_string())).collect();
    assert_eq!(listed.len(), TYPES.len(), "TYPES lists a type twice");
    let missing: Vec<_> = needed.difference(&listed).collect();
    let unused: Vec<_> = listed.difference(&needed).collect();
    assert!(missing.is_empty() && unused.is_empty(), "add to TYPES: {missing:?}; remove from TYPES: {unused:?}");
}

/// The exceptions name real fixtures, so a renamed fixture cannot silently escape.
#[test]
fn every_exception_names_a_fixture() {
    let files: Vec<String> = manifest().iter().map(|e| e["file"].as_str().unwrap().to_string()).collect();
    for (suffix, _) in NEGATIVE {
        assert!(files.iter().any(|f| f.ends_with(suffix)), "no fixture ends with {suffix}");
    }
    for (prefix, _, _) in ABRIDGED {
        assert!(files.iter().any(|f| f.starts_with(prefix)), "no fixture starts with {prefix}");
    }
    for (file, pointer, _) in KEPT_IN_EXTRA {
        assert!(files.contains(&file.to_string()), "no fixture {file}");
        assert!(read_json(&fixtures().join(file)).pointer(pointer).is_some(), "{file} has nothing at {pointer}");
    }
}

#[test]
fn losses_are_found() {
    let example = serde_json::json!({"a": 1, "b": [{"c": "x"}], "n": null});
    let mut out = Vec::new();
    losses(&example, &serde_json::json!({"a": 1.0, "b": [{"c": "x"}], "d": true}), "", true, &mut out);
    assert!(out.is_empty(), "{out:?}");
    losses(&example, &serde_json::json!({"a": 2, "b": [{}]}), "", false, &mut out);
    assert_eq!(out, ["/a: 1 came back as 2", "/b/0/c: lost", "/n: lost"]);
}

#[test]
fn undeclared_members_values_and_nulls_are_found() {
    let doc = serde_json::json!({"components": {"schemas": {
        "Kind": {"type": "string", "enum": ["a"]},
        "T": {"type": "object", "properties": {
            "k": {"$ref": "#/components/schemas/Kind"},
            "n": {"allOf": [{"$ref": "#/components/schemas/Kind"}], "nullable": true},
            "s": {"type": "string"}
        }}
    }}});
    let schema = serde_json::json!({"$ref": "#/components/schemas/T"});
    let mut out = Vec::new();
    undeclared(&doc, &schema, &serde_json::json!({"k": "a", "n": null}), "", &mut out);
    assert!(out.is_empty(), "{out:?}");
    undeclared(&doc, &schema, &serde_json::json!({"k": "b", "s": null, "x": 1}), "", &mut out);
    assert_eq!(
        out,
        [
            "/k: \"b\" is not one of the spec's values [\"a\"]",
            "/s: null, which the spec does not allow",
            "/x: not declared by the spec"
        ]
    );
}

/// `NULLABLE_AUDIT.md` has one row per required, non-nullable member of every schema a
/// `2XX` response reaches (verdict `required`), and the required members it made
/// nullable are nullable in the spec: a spec change that adds one gets audited.
#[test]
fn the_nullable_audit_covers_every_required_response_member() {
    let audit = std::fs::read_to_string(fixtures().join("NULLABLE_AUDIT.md")).unwrap();
    // The per-API tables; the optional media links are audited in prose above them.
    let tables = &audit[audit.find("\n## V4\n").expect("a V4 table")..];
    let rows: Vec<(String, String, bool)> = tables
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let code = |c: &str| c.strip_prefix('`')?.strip_suffix('`').map(str::to_string);
            match cells.as_slice() {
                ["", schema, member, verdict, ..] => Some((code(schema)?, code(member)?, verdict.contains("nullable"))),
                _ => None,
            }
        })
        .collect();
    let mut required = BTreeSet::new();
    let mut nullable = BTreeSet::new();
    for api in ["v4", "c2c"] {
        let doc = spec(api);
        let schemas = &doc["components"]["schemas"];
        let mut pending = Vec::new();
        for op in doc["paths"].as_object().unwrap().values().flat_map(|item| item.as_object().unwrap().values()) {
            for (code, response) in op["responses"].as_object().into_iter().flatten() {
                if code.starts_with('2') {
                    refs(response, &mut pending);
                }
            }
        }
        let mut seen = BTreeSet::new();
        while let Some(name) = pending.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            let schema = &schemas[&name];
            refs(schema, &mut pending);
            for member in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                let target =
                    if schema["properties"][member]["nullable"] == true { &mut nullable } else { &mut required };
                target.insert((name.clone(), member.to_string()));
            }
        }
    }
    let listed = |verdict: bool| -> BTreeSet<_> {
        rows.iter().filter(|r| r.2 == verdict).map(|(s, m, _)| (s.clone(), m.clone())).collect()
    };
    let kept = listed(false);
    let unlisted: Vec<_> = required.difference(&kept).collect();
    let gone: Vec<_> = kept.difference(&required).collect();
    assert!(unlisted.is_empty() && gone.is_empty(), "audit these: {unlisted:?}; no longer required: {gone:?}");
    let made_nullable: Vec<_> = listed(true).into_iter().filter(|m| !nullable.contains(m)).collect();
    assert!(made_nullable.is_empty(), "the audit says nullable, the spec does not: {made_nullable:?}");
    assert!(kept.len() >= 600, "only {} rows read from the audit", kept.len());
}

/// The component names `value` references.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            out.extend(ref_name(value).map(str::to_string));
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}
