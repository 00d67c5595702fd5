//! The glue between progenitor's generated clients and the policy that runs around
//! every request (credentials, retries, pacing, tracing: all in `frameio-ext`).
//!
//! progenitor calls `ClientHooks` on the generated `Client`; Rust's orphan rule puts
//! that impl in this crate, so it only forwards to a [`Middleware`] object and keeps
//! the one rule that belongs to the spec: the `api-version` header is sent exactly
//! as the operation documents it, or not at all.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue};

use crate::operation::{self, Operation};

/// A boxed future, as the object-safe [`Middleware`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What runs around each request of a generated client.
pub trait Middleware: fmt::Debug + Send + Sync + 'static {
    /// Prepares a built request (e.g. adds credentials). An error aborts the call
    /// before anything is sent and surfaces as `Error::Custom` with this message.
    fn prepare<'a>(
        &'a self,
        request: &'a mut reqwest::Request,
        op: &'static Operation,
    ) -> BoxFuture<'a, Result<(), String>>;

    /// Sends the request (retrying and pacing as it sees fit) and returns the final response.
    fn send<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        op: &'static Operation,
    ) -> BoxFuture<'a, reqwest::Result<reqwest::Response>>;
}

/// The middleware a generated client runs; the default sends requests as they are.
#[derive(Clone, Debug, Default)]
pub struct Hooks(Option<Arc<dyn Middleware>>);

impl Hooks {
    pub fn new(middleware: Arc<dyn Middleware>) -> Self {
        Self(Some(middleware))
    }
}

/// progenitor adds `api-version: <info.version>` to every request; the API documents
/// the header on some operations only, with its own value.
fn documented_api_version(request: &mut reqwest::Request, op: &Operation) {
    let name = HeaderName::from_static("api-version");
    request.headers_mut().remove(&name);
    if let Some(version) = op.api_version {
        request.headers_mut().insert(name, HeaderValue::from_static(version));
    }
}

/// The operation a hook is called for; every generated operation is in its table.
fn lookup(table: &'static [Operation], info: &OperationInfo) -> &'static Operation {
    operation::find(table, info.operation_id)
        .unwrap_or_else(|| panic!("operation `{}` missing from the generated table", info.operation_id))
}

macro_rules! client_hooks {
    ($client:ty, $table:expr) => {
        impl ClientHooks<Hooks> for $client {
            async fn pre<E>(&self, request: &mut reqwest::Request, info: &OperationInfo) -> Result<(), Error<E>> {
                let op = lookup($table, info);
                documented_api_version(request, op);
                match &self.inner().0 {
                    Some(m) => m.prepare(request, op).await.map_err(Error::Custom),
                    None => Ok(()),
                }
            }

            async fn exec(
                &self,
                request: reqwest::Request,
                info: &OperationInfo,
            ) -> reqwest::Result<reqwest::Response> {
                match &self.inner().0 {
                    Some(m) => m.send(self.client(), request, lookup($table, info)).await,
                    None => self.client().execute(request).await,
                }
            }
        }
    };
}

client_hooks!(crate::v4::Client, crate::v4::operations::OPERATIONS);
client_hooks!(crate::c2c::Client, crate::c2c::operations::OPERATIONS);
