//! Cursor pagination, as every list operation shares it: a request that can be
//! repeated with another cursor, and a page that splits into items, the next cursor
//! and the optional total. The impls are generated per list operation; the streams
//! that use them are in `frameio-ext`.

use std::future::Future;
use std::pin::Pin;

use progenitor_client::{Error, ResponseValue};

/// The future of one page request.
pub type PageFuture<'a, P, E> = Pin<Box<dyn Future<Output = Result<ResponseValue<P>, Error<E>>> + Send + 'a>>;

/// A list request (a generated builder) that can be sent again for another page.
pub trait ListRequest<'a>: Clone + Send + 'a {
    /// The response page type.
    type Page: ListPage + Send + 'a;
    /// The typed error body of the operation.
    type ErrorBody: Send + 'a;

    /// Whether the caller chose a `page_size`.
    fn page_size_is_set(&self) -> bool;
    /// The same request with `page_size` set.
    fn with_page_size(self, size: i64) -> Self;
    /// The same request (every parameter and header kept) for the page after `cursor`.
    fn with_cursor(self, cursor: String) -> Self;
    /// The `after` cursor the request carries, if any (`None` for a first page).
    fn cursor(&self) -> Option<&str>;
    /// Sends the request.
    fn send_page(self) -> PageFuture<'a, Self::Page, Self::ErrorBody>;
}

/// One page of a list response.
pub trait ListPage {
    /// The listed item.
    type Item;
    /// The page's items, its `links.next` and its `total_count`.
    fn into_parts(self) -> PageParts<Self::Item>;
}

/// A page taken apart.
#[derive(Debug, Clone, PartialEq)]
pub struct PageParts<T> {
    pub items: Vec<T>,
    /// `links.next`: the relative URL of the next page, carrying its `after` cursor.
    pub next: Option<String>,
    /// Present when the request asked for `include_total_count=true`.
    pub total_count: Option<i64>,
}
