//! Custom actions: the payload Frame.io posts when a user runs one, and the
//! responses that show a message or a form in the Frame.io UI.
//!
//! This module owns the custom-action types: [`ActionRequest`] (in), and
//! [`Message`], [`Form`] and [`FormField`] (out, wrapped in [`ActionResponse`]).
//! Frame.io signs custom-action requests exactly like webhooks, so check them
//! with a [`signature::Verifier`](crate::signature::Verifier) built from the
//! action's own signing secret before parsing them.
//!
//! A request is answered with `200` and optionally one of the two documented
//! callbacks. When the user submits a form, Frame.io posts a new request to the
//! same URL with the same [`interaction_id`](ActionRequest::interaction_id) and
//! the entered values in [`data`](ActionRequest::data); answer it with a message
//! or chain another form.
//!
//! ```
//! use frameio_ext::custom_action::{ActionRequest, ActionResponse, Form, FormField, Message, SelectOption};
//!
//! fn respond(request: &ActionRequest) -> ActionResponse {
//!     match request.form_value("captions") {
//!         // Second step: the user submitted the form below.
//!         Some(captions) => Message::new("Success!", format!("Captions: {captions}.")).into(),
//!         // First step: ask for details.
//!         None => Form::new("Need some more info!", "Getting ready to submit this file!")
//!             .field(FormField::text("title", "Title").with_value("MyVideo.mp4"))
//!             .field(FormField::select(
//!                 "captions",
//!                 "Captions",
//!                 [SelectOption::new("Off", "off"), SelectOption::new("On", "on")],
//!             ))
//!             .into(),
//!     }
//! }
//!
//! let submitted: ActionRequest = serde_json::from_str(
//!     r#"{"type": "my.event", "interaction_id": "i-1", "action_id": "a-1",
//!         "data": {"title": "MyVideo.mp4", "captions": "off"}}"#,
//! )?;
//! let reply = serde_json::to_value(respond(&submitted))?;
//! assert_eq!(reply, serde_json::json!({"title": "Success!", "description": "Captions: off."}));
//! # Ok::<(), serde_json::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::webhook::{IdRef, Resource};

/// The payload Frame.io posts when a user runs a custom action or submits one
/// of its forms, as in the custom actions guide's examples.
///
/// Only `type`, `action_id` and `interaction_id` appear in every documented
/// example (a form submission carries just those and `data`); everything else
/// is optional. Fields this crate does not know yet are kept in
/// [`extra`](Self::extra), and those of the nested [`Resource`]s and
/// [`IdRef`]s in theirs, so re-serialising a request loses nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRequest {
    /// The event name configured on the action (its `event` field).
    pub r#type: String,
    /// The action that was run.
    pub action_id: String,
    /// Identifies one run of the action across its chained forms and messages.
    pub interaction_id: String,
    /// The account the action belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The one resource the action was run on, for actions without multi-asset
    /// support (the legacy payload). See [`targets`](Self::targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Resource>,
    /// The resources (up to 100) the action was run on, for actions with
    /// multi-asset support. See [`targets`](Self::targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<Resource>>,
    /// The user who ran the action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<IdRef>,
    /// The workspace the action is enabled in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<IdRef>,
    /// The project containing the resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<IdRef>,
    /// The submitted form's values, keyed by field [`name`](FormField::text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Map<String, serde_json::Value>>,
    /// Payload fields not modelled above.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ActionRequest {
    /// The resources the action was run on, whichever payload format the
    /// action uses (`resources`, or the legacy single `resource`).
    pub fn targets(&self) -> &[Resource] {
        match (&self.resources, &self.resource) {
            (Some(resources), _) => resources,
            (None, Some(resource)) => std::slice::from_ref(resource),
            (None, None) => &[],
        }
    }

    /// The submitted value of the form field `name`, if there is one and it is
    /// a string (as every documented field type's value is).
    pub fn form_value(&self, name: &str) -> Option<&str> {
        self.data.as_ref()?.get(name)?.as_str()
    }
}

/// What to answer a custom-action request with: a [`Message`] or a [`Form`].
///
/// Serialises as the inner callback alone, as Frame.io expects. Answering with
/// an empty `200` instead is also fine when there is nothing to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ActionResponse {
    /// Show a message.
    Message(Message),
    /// Ask for more input.
    Form(Form),
}

impl From<Message> for ActionResponse {
    fn from(message: Message) -> Self {
        Self::Message(message)
    }
}

impl From<Form> for ActionResponse {
    fn from(form: Form) -> Self {
        Self::Form(form)
    }
}

/// A message callback: `{"title": ..., "description": ...}` shown to the user
/// who ran the action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    title: String,
    description: String,
}

impl Message {
    /// A message with a title and a body.
    pub fn new(title: impl Into<String>, description: impl Into<String>) -> Self {
        Self { title: title.into(), description: description.into() }
    }
}

/// A form callback: a title and description rendered above `fields`. Frame.io
/// posts the user's answers back as a new [`ActionRequest`] with the same
/// `interaction_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Form {
    title: String,
    description: String,
    fields: Vec<FormField>,
}

impl Form {
    /// An empty form; add fields with [`field`](Self::field).
    pub fn new(title: impl Into<String>, description: impl Into<String>) -> Self {
        Self { title: title.into(), description: description.into(), fields: Vec::new() }
    }

    /// The same form with `field` appended.
    pub fn field(mut self, field: FormField) -> Self {
        self.fields.push(field);
        self
    }
}

/// One form field. Every field has a `type`, a `label` shown above it, a
/// `name` (its key in the submitted [`data`](ActionRequest::data)) and
/// optionally a `value` to pre-fill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormField {
    r#type: FieldType,
    label: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    options: Option<Vec<SelectOption>>,
}

/// The documented field types, as their wire names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum FieldType {
    Text,
    Textarea,
    Select,
    Boolean,
    Link,
}

impl FormField {
    fn new(r#type: FieldType, name: impl Into<String>, label: impl Into<String>) -> Self {
        Self { r#type, label: label.into(), name: name.into(), value: None, options: None }
    }

    /// A one-line text field (`text`).
    pub fn text(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(FieldType::Text, name, label)
    }

    /// A larger, multi-line text box (`textarea`).
    pub fn textarea(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(FieldType::Textarea, name, label)
    }

    /// A pick-list (`select`); the submitted value is the chosen option's
    /// [`value`](SelectOption::new).
    pub fn select(
        name: impl Into<String>,
        label: impl Into<String>,
        options: impl IntoIterator<Item = SelectOption>,
    ) -> Self {
        Self { options: Some(options.into_iter().collect()), ..Self::new(FieldType::Select, name, label) }
    }

    /// A checkbox (`boolean`), pre-set to `checked`. Frame.io carries its value
    /// as the string `"true"` or `"false"`.
    pub fn boolean(name: impl Into<String>, label: impl Into<String>, checked: bool) -> Self {
        Self::new(FieldType::Boolean, name, label).with_value(checked.to_string())
    }

    /// A link the user can copy in one click (`link`).
    pub fn link(name: impl Into<String>, label: impl Into<String>, url: impl Into<String>) -> Self {
        Self::new(FieldType::Link, name, label).with_value(url)
    }

    /// The same field pre-filled with `value` (for a `select`, an option's
    /// value).
    pub fn with_value(mut self, value: impl Into<String>) -> Self {
        self.value = Some(value.into());
        self
    }
}

/// One choice of a [`select`](FormField::select) field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SelectOption {
    name: String,
    value: String,
}

impl SelectOption {
    /// A choice shown as `name` and submitted as `value`.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self { name: name.into(), value: value.into() }
    }
}
