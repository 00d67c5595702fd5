//! One call, from the generated call builder to its [`Result`]: the options an
//! app sets on a single call (extra headers such as `api-version:
//! experimental`, a retry policy, a timeout), and what the
//! transport reports back about it (attempts, the error
//! answer with its envelope, an authentication failure).
//!
//! progenitor's generated client sits between the two: the call builder hands
//! it the request parameters, and it calls the transport's hooks, which cannot
//! return anything but a response or a `reqwest::Error`. So a call runs its
//! progenitor future inside a [`CallContext`] scoped to that future (a tokio
//! task-local), through which the hooks read the call's options and leave
//! their report. It is typed data in memory, alive for one call: nothing is
//! encoded into URLs, headers or strings.
//!
//! A call also takes care of the one failure the transport cannot see: a body
//! that arrived whole at the HTTP level but whose JSON ends early. For a call
//! that is safe to repeat it is sent once more before the error is reported
//! (and the error then says the body was cut short).

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use frameio_gen::{Operation, ResponseValue};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::error::{DecodeError, Error, Result};
use crate::retry::RetryPolicy;

tokio::task_local! {
    static CALL: Arc<CallContext>;
}

/// What an app set on one call.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallOptions {
    /// Sent with the call, replacing headers of the same name.
    pub(crate) headers: HeaderMap,
    /// A header that could not be converted: the call is not sent.
    invalid_header: Option<String>,
    /// Replaces the client's retry policy.
    pub(crate) retry: Option<RetryPolicy>,
    /// Replaces the per-attempt timeout.
    pub(crate) timeout: Option<Duration>,
}

/// One call on its way: its operation and its options.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    op: &'static Operation,
    options: CallOptions,
}

/// The context a call's progenitor future runs in (see the module documentation).
#[derive(Debug)]
pub(crate) struct CallContext {
    pub(crate) options: CallOptions,
    report: Mutex<Report>,
}

/// What the transport reports about a call.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Attempts made (the one repeat after a 401 with a renewed token not counted).
    pub(crate) attempts: u32,
    /// The typed failure, when the call ended in one the hooks saw: an error
    /// answer, a redirect, no access token.
    pub(crate) error: Option<Error>,
}

impl CallContext {
    /// The context of the call running now, if any.
    pub(crate) fn current() -> Option<Arc<CallContext>> {
        CALL.try_with(Arc::clone).ok()
    }

    /// Updates the call's report.
    pub(crate) fn report(&self, update: impl FnOnce(&mut Report)) {
        update(&mut self.report.lock().unwrap_or_else(PoisonError::into_inner));
    }

    fn take_report(&self) -> Report {
        std::mem::take(&mut self.report.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Call {
    pub(crate) fn new(op: &'static Operation) -> Self {
        Self { op, options: CallOptions::default() }
    }

    pub(crate) fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        V: TryInto<HeaderValue>,
    {
        match (name.try_into(), value.try_into()) {
            (Ok(name), Ok(value)) => {
                self.options.headers.insert(name, value);
            }
            _ => self.options.invalid_header = Some("a header name or value set on the call is not valid".into()),
        }
        self
    }

    pub(crate) fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.options.retry = Some(policy);
        self
    }

    pub(crate) fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// Sends `builder` with progenitor's `send`, in this call's context, and
    /// turns the outcome into the crate's [`Result`].
    pub(crate) async fn send<B, F, Fut, T, E>(self, builder: B, send: F) -> Result<T>
    where
        B: Clone,
        F: Fn(B) -> Fut,
        Fut: Future<Output = std::result::Result<ResponseValue<T>, frameio_gen::Error<E>>>,
    {
        if let Some(reason) = self.options.invalid_header {
            return Err(Error::InvalidRequest(reason));
        }
        let mut repeated = false;
        loop {
            let context = Arc::new(CallContext { options: self.options.clone(), report: Mutex::default() });
            let outcome = CALL.scope(Arc::clone(&context), send(builder.clone())).await;
            let report = context.take_report();
            let error = match outcome {
                Ok(value) => return Ok(value.into_inner()),
                Err(error) => error,
            };
            if let Some(error) = report.error {
                return Err(error);
            }
            match error {
                frameio_gen::Error::InvalidResponsePayload(body, source) => {
                    let decode = DecodeError::new(self.op.name, &body, &source);
                    if decode.is_truncated() && self.op.idempotent && !repeated {
                        tracing::info!(operation = self.op.name, "the body was cut short; sending the call again");
                        repeated = true;
                        continue;
                    }
                    return Err(decode.into());
                }
                other => return Err(self.unreported(other, report.attempts)),
            }
        }
    }

    /// A progenitor error the hooks left no report for.
    fn unreported<E>(&self, error: frameio_gen::Error<E>, attempts: u32) -> Error {
        use frameio_gen::Error as Gen;
        let attempts = Some(attempts).filter(|n| *n > 0);
        match error {
            Gen::CommunicationError(e) | Gen::InvalidUpgrade(e) | Gen::ResponseBodyError(e) => {
                Error::transport(e, Some(self.op.name), attempts)
            }
            Gen::InvalidRequest(message) => Error::InvalidRequest(message),
            Gen::ErrorResponse(response) => Error::InvalidRequest(format!(
                "`{}` was answered {} outside the client's transport",
                self.op.name,
                response.status()
            )),
            Gen::UnexpectedResponse(response) => Error::InvalidRequest(format!(
                "`{}` was answered {}, which it does not document",
                self.op.name,
                response.status()
            )),
            Gen::InvalidResponsePayload(_, source) => Error::InvalidRequest(source.to_string()),
            Gen::Custom(message) => Error::InvalidRequest(message),
        }
    }
}

/// The per-call options every generated call builder offers.
macro_rules! call_options {
    () => {
        /// Sends `name: value` with this call only, replacing a header of that
        /// name the call would otherwise send (an invalid name or value fails
        /// the call with [`Error::InvalidRequest`](crate::Error::InvalidRequest)).
        pub fn header<K, V>(mut self, name: K, value: V) -> Self
        where
            K: ::std::convert::TryInto<::http::HeaderName>,
            V: ::std::convert::TryInto<::http::HeaderValue>,
        {
            self.call = self.call.header(name, value);
            self
        }

        /// Sends `api-version: <version>` with this call, e.g. `experimental`
        /// to opt into endpoints Frame.io has not declared stable.
        pub fn api_version(self, version: &str) -> Self {
            self.header("api-version", version)
        }

        /// Retries this call under `policy` instead of the client's.
        pub fn retry_policy(mut self, policy: crate::RetryPolicy) -> Self {
            self.call = self.call.retry_policy(policy);
            self
        }

        /// How long each attempt of this call may take, instead of the
        /// client's timeout.
        pub fn timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.call = self.call.timeout(timeout);
            self
        }
    };
}

pub(crate) use call_options;
