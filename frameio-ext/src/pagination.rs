//! Pagination: a `Stream` of items ([`Items`]), or of pages ([`Pages`]), for
//! every cursor-paginated list operation; the call builders of those
//! operations (`files_list`, `folders_index`, `projects_index`, ... about
//! twenty) have `.stream()` and `.pages()`.
//!
//! - later pages repeat every original parameter and header; only the `after`
//!   cursor (taken from `links.next`) changes;
//! - page N+1 is requested as soon as page N arrives, and makes progress while
//!   page N's items are consumed (one page ahead, never more), so memory holds
//!   at most two pages whatever the listing's length;
//! - `page_size` defaults to 100 (the maximum; half the requests of the API's
//!   50) unless the call set one;
//! - a page that fails (after the call's retries) ends the stream with
//!   [`Error::Page`], which carries the cursor the page was asked for: resume
//!   with `.after(cursor)` on the same call ([`Error::resume_cursor`]). A
//!   [`Page`] tells its own cursor too;
//! - the server's quirks are followed with a bound: an empty page whose
//!   `links.next` repeats its own cursor is asked for again up to
//!   [`EMPTY_PAGE_RETRIES`] times; a cursor seen before (a cycle, however
//!   long, among the last [`CURSOR_MEMORY`] pages) and more pages than a known
//!   `total_count` allows end the stream with a [`PaginationError`].
//!
//! ```no_run
//! use futures::TryStreamExt;
//!
//! # async fn run(client: frameio_ext::Client) -> frameio_ext::Result<()> {
//! let mut files = client.files_list().account_id("acc").folder_id("folder").stream();
//! while let Some(file) = files.try_next().await? {
//!     println!("{:?} {:?}", file.id(), file.name());
//! }
//! # Ok(()) }
//! ```

use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::task::{Context, Poll};

use frameio_gen::pagination::PageParts;
use futures::future::BoxFuture;
use futures::{FutureExt, Stream};

pub use crate::error::PaginationError;
use crate::error::{Error, Result};

/// The page size streams ask for unless the call set one: the API's maximum.
pub const DEFAULT_PAGE_SIZE: i64 = 100;
/// How many times an empty page that points at itself is asked for again.
pub const EMPTY_PAGE_RETRIES: u32 = 3;
/// How many recent cursors a stream remembers to detect a cycle (as 8-byte
/// hashes: a fixed 80 KB at most, whatever the listing's length).
pub const CURSOR_MEMORY: usize = 10_000;

/// A list call that can be sent again for another page: implemented by the
/// generated call builder of every cursor-paginated list operation.
pub trait List<'a>: Clone + Send + 'a {
    /// The listed item.
    type Item: Send + 'a;

    /// Whether the call set a `page_size`.
    fn page_size_is_set(&self) -> bool;
    /// The same call with `page_size` set.
    fn with_page_size(self, size: i64) -> Self;
    /// The same call (every parameter and header kept) for the page after `cursor`.
    fn with_cursor(self, cursor: String) -> Self;
    /// The `after` cursor the call carries (`None` for a first page).
    fn cursor(&self) -> Option<&str>;
    /// Sends the call for one page.
    fn send_page(self) -> BoxFuture<'a, Result<PageParts<Self::Item>>>;
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The page's items, in server order.
    pub items: Vec<T>,
    /// The total across all pages, when the call set `include_total_count(true)`.
    pub total_count: Option<i64>,
    /// The cursor this page was asked for with (`None` for the first page).
    pub after: Option<String>,
    /// The cursor of the next page (`None` on the last one).
    pub next: Option<String>,
}

type PageFuture<'a, T> = BoxFuture<'a, Result<PageParts<T>>>;
/// A page's outcome, with the cursor it was asked for with.
type Landed<T> = (Option<String>, Result<PageParts<T>>);

/// A stream of [`Page`]s; see the [module documentation](self).
#[must_use = "streams do nothing unless polled"]
pub struct Pages<'a, L: List<'a>> {
    request: L,
    started: bool,
    in_flight: Option<(Option<String>, PageFuture<'a, L::Item>)>,
    ready: Option<Landed<L::Item>>,
    /// Why the listing cannot go on, reported after the page that caused it.
    stopped: Option<Error>,
    follower: Follower,
}

impl<'a, L: List<'a>> std::fmt::Debug for Pages<'a, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("pages", &self.follower.pages)
            .field("in_flight", &self.in_flight.is_some())
            .finish_non_exhaustive()
    }
}

impl<'a, L: List<'a>> Pages<'a, L> {
    /// The listing `request` starts, from its own cursor if it has one.
    pub fn new(request: L) -> Self {
        let request = if request.page_size_is_set() { request } else { request.with_page_size(DEFAULT_PAGE_SIZE) };
        let follower = Follower::new(request.cursor());
        Self { request, started: false, in_flight: None, ready: None, stopped: None, follower }
    }

    /// Starts the request for the page after `cursor` (the request's own page
    /// for `None`) and polls it once, so it is on the wire before this page is
    /// consumed.
    fn start(&mut self, cursor: Option<String>, cx: &mut Context<'_>) {
        let request = match &cursor {
            Some(cursor) => self.request.clone().with_cursor(cursor.clone()),
            None => self.request.clone(),
        };
        let after = cursor.or_else(|| self.request.cursor().map(str::to_string));
        self.in_flight = Some((after, request.send_page()));
        self.advance(cx);
    }

    /// Polls the in-flight request, keeping its result for [`Self::drive`].
    fn advance(&mut self, cx: &mut Context<'_>) {
        if let Some((_, future)) = self.in_flight.as_mut()
            && let Poll::Ready(result) = future.poll_unpin(cx)
            && let Some((after, _)) = self.in_flight.take()
        {
            self.ready = Some((after, result));
        }
    }

    /// The next page, once its request completes.
    fn drive(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Page<L::Item>>>> {
        loop {
            if !self.started {
                self.started = true;
                self.start(None, cx);
            }
            self.advance(cx);
            if let Some(stopped) = self.stopped.take() {
                return Poll::Ready(Some(Err(stopped)));
            }
            let Some((after, result)) = self.ready.take() else {
                return if self.in_flight.is_some() { Poll::Pending } else { Poll::Ready(None) };
            };
            let parts = match result {
                Ok(parts) => parts,
                Err(error) => return Poll::Ready(Some(Err(Error::Page { after, source: Box::new(error) }))),
            };
            let next = match self.follower.follow(after.as_deref(), &parts) {
                Ok(Follow::Again(cursor)) => {
                    self.start(Some(cursor), cx);
                    continue;
                }
                Ok(Follow::Next(cursor)) => {
                    self.start(Some(cursor.clone()), cx);
                    Some(cursor)
                }
                Ok(Follow::End) => None,
                Err(error) => {
                    self.stopped = Some(Error::Pagination(error));
                    None
                }
            };
            return Poll::Ready(Some(Ok(Page { items: parts.items, total_count: parts.total_count, after, next })));
        }
    }
}

/// What comes after a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Follow {
    /// The next page, after this cursor.
    Next(String),
    /// The same (empty) page again.
    Again(String),
    /// That was the last page.
    End,
}

/// Follows one listing's cursors from page to page, within the bounds the
/// [module documentation](self) gives.
#[derive(Debug)]
pub(crate) struct Follower {
    seen: SeenCursors,
    pages: u64,
    empty_repeats: u32,
}

impl Follower {
    /// A listing that starts after `cursor` (or at its beginning).
    pub(crate) fn new(cursor: Option<&str>) -> Self {
        let mut seen = SeenCursors::default();
        if let Some(cursor) = cursor {
            seen.insert(cursor);
        }
        Self { seen, pages: 0, empty_repeats: 0 }
    }

    /// What follows the page asked for with `after` whose parts are `parts`.
    pub(crate) fn follow<T>(&mut self, after: Option<&str>, parts: &PageParts<T>) -> Result<Follow, PaginationError> {
        self.pages += 1;
        let Some(next) = parts.next.as_deref().filter(|n| !n.is_empty()) else { return Ok(Follow::End) };
        let cursor = cursor_of(next).ok_or_else(|| PaginationError::MissingCursor { next: without_query(next) })?;
        if after == Some(cursor.as_str()) && parts.items.is_empty() {
            self.empty_repeats += 1;
            if self.empty_repeats > EMPTY_PAGE_RETRIES {
                return Err(PaginationError::StuckEmptyPage { cursor, tries: self.empty_repeats });
            }
            tracing::debug!(tries = self.empty_repeats, "an empty page pointed at itself; asking again");
            return Ok(Follow::Again(cursor));
        }
        self.empty_repeats = 0;
        if !self.seen.insert(&cursor) {
            return Err(PaginationError::Cycle { cursor, pages: self.pages });
        }
        if let Some(total) = parts.total_count.filter(|t| *t >= 0)
            && self.pages > u64::try_from(total).unwrap_or(u64::MAX).saturating_add(10)
        {
            return Err(PaginationError::TooManyPages { pages: self.pages, total_count: total });
        }
        Ok(Follow::Next(cursor))
    }
}

impl<'a, L: List<'a>> Stream for Pages<'a, L> {
    type Item = Result<Page<L::Item>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().drive(cx)
    }
}

// Nothing is pinned in place: the in-flight future is boxed.
impl<'a, L: List<'a>> Unpin for Pages<'a, L> {}

/// A stream of items across pages; see the [module documentation](self).
#[must_use = "streams do nothing unless polled"]
pub struct Items<'a, L: List<'a>> {
    pages: Pages<'a, L>,
    current: std::vec::IntoIter<L::Item>,
}

impl<'a, L: List<'a>> Items<'a, L> {
    /// Every item of the listing `request` starts.
    pub fn new(request: L) -> Self {
        Self { pages: Pages::new(request), current: Vec::new().into_iter() }
    }
}

impl<'a, L: List<'a>> std::fmt::Debug for Items<'a, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Items").field("pages", &self.pages).field("buffered", &self.current.len()).finish()
    }
}

impl<'a, L: List<'a>> Stream for Items<'a, L> {
    type Item = Result<L::Item>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.current.next() {
                // Keep the next page moving while this one is consumed.
                this.pages.advance(cx);
                return Poll::Ready(Some(Ok(item)));
            }
            match futures::ready!(this.pages.drive(cx)) {
                Some(Ok(page)) => this.current = page.items.into_iter(),
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => return Poll::Ready(None),
            }
        }
    }
}

impl<'a, L: List<'a>> Unpin for Items<'a, L> {}

/// The last [`CURSOR_MEMORY`] cursors, as hashes.
#[derive(Debug, Default)]
struct SeenCursors {
    set: HashSet<u64>,
    order: VecDeque<u64>,
}

impl SeenCursors {
    /// Remembers `cursor`; `false` if it was remembered already.
    fn insert(&mut self, cursor: &str) -> bool {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        cursor.hash(&mut hasher);
        let hash = hasher.finish();
        if !self.set.insert(hash) {
            return false;
        }
        self.order.push_back(hash);
        if self.order.len() > CURSOR_MEMORY
            && let Some(oldest) = self.order.pop_front()
        {
            self.set.remove(&oldest);
        }
        true
    }
}

/// The `after` query value of a relative (or absolute) `links.next` URL.
pub(crate) fn cursor_of(next: &str) -> Option<String> {
    let base = reqwest::Url::parse("https://api.frame.io/").ok()?;
    let url = base.join(next).ok()?;
    url.query_pairs().find(|(k, _)| k == "after").map(|(_, v)| v.into_owned()).filter(|v| !v.is_empty())
}

/// A link as it may be shown in an error: its path, without the query.
fn without_query(next: &str) -> String {
    next.split(['?', '#']).next().unwrap_or_default().chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_comes_from_the_after_parameter() {
        assert_eq!(
            cursor_of("/v4/accounts/a/folders/f/children?page_size=5&after=g2wAAA%3D%3D").as_deref(),
            Some("g2wAAA==")
        );
        assert_eq!(cursor_of("https://api.frame.io/v4/x?after=abc").as_deref(), Some("abc"));
        assert_eq!(cursor_of("/v4/x?page_size=5"), None);
        assert_eq!(cursor_of("/v4/x?after="), None);
        assert_eq!(without_query("/v4/x?page_size=5&token=s"), "/v4/x");
    }

    fn parts(items: usize, next: Option<&str>) -> PageParts<u8> {
        PageParts { items: vec![0; items], next: next.map(|c| format!("/v4/x?after={c}")), total_count: None }
    }

    #[test]
    fn a_follower_catches_cycles_stuck_pages_and_missing_cursors() {
        let mut follower = Follower::new(None);
        assert_eq!(follower.follow(None, &parts(2, Some("c1"))), Ok(Follow::Next("c1".into())));
        assert_eq!(follower.follow(Some("c1"), &parts(2, Some("c2"))), Ok(Follow::Next("c2".into())));
        assert!(matches!(follower.follow(Some("c2"), &parts(2, Some("c1"))), Err(PaginationError::Cycle { .. })));

        let mut follower = Follower::new(Some("c5"));
        for _ in 0..EMPTY_PAGE_RETRIES {
            assert_eq!(follower.follow(Some("c5"), &parts(0, Some("c5"))), Ok(Follow::Again("c5".into())));
        }
        assert!(matches!(
            follower.follow(Some("c5"), &parts(0, Some("c5"))),
            Err(PaginationError::StuckEmptyPage { .. })
        ));
        assert!(
            matches!(follower.follow(Some("c5"), &parts(3, Some("c5"))), Err(PaginationError::Cycle { .. })),
            "a page with items that points at itself is a cycle"
        );

        let mut follower = Follower::new(None);
        let no_cursor = PageParts { items: vec![1u8], next: Some("/v4/x?page_size=2".into()), total_count: None };
        assert!(matches!(follower.follow(None, &no_cursor), Err(PaginationError::MissingCursor { .. })));
        assert_eq!(follower.follow(None, &parts(1, None)), Ok(Follow::End));

        let mut follower = Follower::new(None);
        let counted =
            |c: String| PageParts { items: vec![1u8], next: Some(format!("/v4/x?after={c}")), total_count: Some(3) };
        let stopped = (0..20).find_map(|i| follower.follow(None, &counted(format!("c{i}"))).err());
        assert!(matches!(stopped, Some(PaginationError::TooManyPages { total_count: 3, .. })), "{stopped:?}");
    }

    #[test]
    fn remembered_cursors_are_bounded() {
        let mut seen = SeenCursors::default();
        assert!(seen.insert("c1") && seen.insert("c2"));
        assert!(!seen.insert("c1"), "a cycle c1 -> c2 -> c1 is caught");
        for i in 0..CURSOR_MEMORY * 3 {
            seen.insert(&format!("cursor-{i}"));
        }
        assert_eq!(seen.set.len(), CURSOR_MEMORY);
        assert_eq!(seen.order.len(), CURSOR_MEMORY);
        assert!(seen.insert("c1"), "forgotten after CURSOR_MEMORY newer ones");
    }
}
