//! Pagination: a `Stream` of items, or of pages, for every cursor-paginated list
//! operation.
//!
//! Every generated list builder (`files_list`, `folders_index`, `projects_index`, ...
//! about twenty; see [`frameio_gen::pagination::ListRequest`]) gets `.stream()` and
//! `.pages()` from the [`Paginate`] trait:
//!
//! - later pages repeat every original parameter and header; only the `after`
//!   cursor (taken from `links.next`) changes;
//! - errors on any page are stream items, never swallowed, and end the stream;
//!   retries apply to each page request as to any other request;
//! - an empty page does not end the stream while `links.next` is set; a cursor the
//!   server repeats is an error rather than an endless loop;
//! - page N+1 is requested as soon as page N arrives, and makes progress while
//!   page N's items are consumed (one page ahead, never more);
//! - `page_size` defaults to 100 (the maximum; half the requests of the API's 50)
//!   unless the caller set one.
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use frameio_ext::pagination::Paginate;
//!
//! # async fn run(client: frameio_ext::Client) -> Result<(), frameio_ext::Error> {
//! let mut files = client.files_list().account_id("acc").folder_id("folder").stream();
//! while let Some(file) = files.try_next().await? {
//!     println!("{}", file.tag());
//! }
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use frameio_gen::pagination::{ListPage, ListRequest, PageFuture, PageParts};
use futures::{FutureExt, Stream};

use crate::Error;

/// The page size streams ask for unless the caller chose one: the API's maximum.
pub const DEFAULT_PAGE_SIZE: i64 = 100;

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The page's items, in server order.
    pub items: Vec<T>,
    /// The total across all pages, when the request set `include_total_count(true)`.
    pub total_count: Option<i64>,
}

/// Why a listing could not go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PaginationError {
    /// The server returned the cursor it was just given: following it would loop forever.
    #[error("the server repeated pagination cursor `{cursor}`; stopping instead of looping (report this to Frame.io)")]
    RepeatedCursor {
        /// The repeated cursor.
        cursor: String,
    },
    /// `links.next` was set but carried no `after` cursor.
    #[error("`links.next` ({next}) has no `after` cursor; cannot request the next page")]
    MissingCursor {
        /// The link as sent.
        next: String,
    },
}

/// `.pages()` and `.stream()` for every generated list request.
pub trait Paginate<'a>: ListRequest<'a> + Sized {
    /// A stream of pages, one page ahead.
    fn pages(self) -> Pages<'a, Self>;

    /// A stream of items across all pages, one page ahead.
    fn stream(self) -> Items<'a, Self>;
}

impl<'a, R> Paginate<'a> for R
where
    R: ListRequest<'a>,
    Error: From<frameio_gen::Error<R::ErrorBody>>,
{
    fn pages(self) -> Pages<'a, Self> {
        Pages::new(self)
    }

    fn stream(self) -> Items<'a, Self> {
        Items { pages: Pages::new(self), current: VecDeque::new() }
    }
}

type Item<'a, R> = <<R as ListRequest<'a>>::Page as ListPage>::Item;

/// A stream of [`Page`]s; see the [module docs](self).
#[must_use = "streams do nothing unless polled"]
pub struct Pages<'a, R: ListRequest<'a>> {
    request: R,
    started: bool,
    in_flight: Option<PageFuture<'a, R::Page, R::ErrorBody>>,
    ready: Option<PageResult<'a, R>>,
    last_cursor: Option<String>,
    /// Why the listing cannot go on, reported after the page that caused it.
    stopped: Option<PaginationError>,
}

type PageResult<'a, R> = Result<
    frameio_gen::ResponseValue<<R as ListRequest<'a>>::Page>,
    frameio_gen::Error<<R as ListRequest<'a>>::ErrorBody>,
>;

impl<'a, R: ListRequest<'a>> std::fmt::Debug for Pages<'a, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages").field("in_flight", &self.in_flight.is_some()).finish_non_exhaustive()
    }
}

impl<'a, R> Pages<'a, R>
where
    R: ListRequest<'a>,
    Error: From<frameio_gen::Error<R::ErrorBody>>,
{
    fn new(request: R) -> Self {
        let request = if request.page_size_is_set() { request } else { request.with_page_size(DEFAULT_PAGE_SIZE) };
        Self { request, started: false, in_flight: None, ready: None, last_cursor: None, stopped: None }
    }

    /// Starts the request for the page after `cursor` (the first page for `None`)
    /// and polls it once, so that it is on the wire before this page is consumed.
    fn start(&mut self, cursor: Option<String>, cx: &mut Context<'_>) {
        let request = match cursor {
            Some(cursor) => self.request.clone().with_cursor(cursor),
            None => self.request.clone(),
        };
        self.in_flight = Some(request.send_page());
        self.advance(cx);
    }

    /// Polls the in-flight request, keeping its result for [`Self::drive`].
    fn advance(&mut self, cx: &mut Context<'_>) {
        if let Some(future) = self.in_flight.as_mut()
            && let Poll::Ready(result) = future.poll_unpin(cx)
        {
            self.in_flight = None;
            self.ready = Some(result);
        }
    }

    /// The next cursor from `links.next`, or why there is none to follow.
    fn next_cursor(&mut self, next: Option<String>) -> Result<Option<String>, PaginationError> {
        let Some(next) = next.filter(|n| !n.is_empty()) else { return Ok(None) };
        let cursor = cursor_of(&next).ok_or(PaginationError::MissingCursor { next })?;
        if self.last_cursor.as_deref() == Some(cursor.as_str()) {
            return Err(PaginationError::RepeatedCursor { cursor });
        }
        self.last_cursor = Some(cursor.clone());
        Ok(Some(cursor))
    }

    /// The next page, once its request completes.
    fn drive(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Page<Item<'a, R>>, Error>>> {
        if !self.started {
            self.started = true;
            self.start(None, cx);
        }
        self.advance(cx);
        if let Some(stopped) = self.stopped.take() {
            return Poll::Ready(Some(Err(Error::Pagination(stopped))));
        }
        let Some(result) = self.ready.take() else {
            return if self.in_flight.is_some() { Poll::Pending } else { Poll::Ready(None) };
        };
        let parts: PageParts<Item<'a, R>> = match result {
            Ok(response) => response.into_inner().into_parts(),
            Err(e) => return Poll::Ready(Some(Err(Error::from(e)))),
        };
        match self.next_cursor(parts.next) {
            Ok(Some(cursor)) => self.start(Some(cursor), cx),
            Ok(None) => {}
            Err(e) => self.stopped = Some(e),
        }
        Poll::Ready(Some(Ok(Page { items: parts.items, total_count: parts.total_count })))
    }
}

impl<'a, R> Stream for Pages<'a, R>
where
    R: ListRequest<'a>,
    Error: From<frameio_gen::Error<R::ErrorBody>>,
{
    type Item = Result<Page<Item<'a, R>>, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().drive(cx)
    }
}

// Nothing is pinned in place: the in-flight future is boxed.
impl<'a, R: ListRequest<'a>> Unpin for Pages<'a, R> {}

/// A stream of items across pages; see the [module docs](self).
#[must_use = "streams do nothing unless polled"]
pub struct Items<'a, R: ListRequest<'a>> {
    pages: Pages<'a, R>,
    current: VecDeque<Item<'a, R>>,
}

impl<'a, R: ListRequest<'a>> std::fmt::Debug for Items<'a, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Items").field("pages", &self.pages).field("buffered", &self.current.len()).finish()
    }
}

impl<'a, R> Stream for Items<'a, R>
where
    R: ListRequest<'a>,
    Error: From<frameio_gen::Error<R::ErrorBody>>,
{
    type Item = Result<Item<'a, R>, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.current.pop_front() {
                // Keep the next page moving while this one is consumed.
                this.pages.advance(cx);
                return Poll::Ready(Some(Ok(item)));
            }
            match futures::ready!(this.pages.drive(cx)) {
                Some(Ok(page)) => this.current.extend(page.items),
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => return Poll::Ready(None),
            }
        }
    }
}

impl<'a, R: ListRequest<'a>> Unpin for Items<'a, R> {}

/// The `after` query value of a relative (or absolute) `links.next` URL.
pub(crate) fn cursor_of(next: &str) -> Option<String> {
    let base = reqwest::Url::parse("https://api.frame.io/").ok()?;
    let url = base.join(next).ok()?;
    url.query_pairs().find(|(k, _)| k == "after").map(|(_, v)| v.into_owned()).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::cursor_of;

    #[test]
    fn cursor_comes_from_the_after_parameter() {
        assert_eq!(
            cursor_of("/v4/accounts/a/folders/f/children?page_size=5&after=g2wAAA%3D%3D").as_deref(),
            Some("g2wAAA==")
        );
        assert_eq!(cursor_of("https://api.frame.io/v4/x?after=abc").as_deref(), Some("abc"));
        assert_eq!(cursor_of("/v4/x?page_size=5"), None);
        assert_eq!(cursor_of("/v4/x?after="), None);
    }
}
