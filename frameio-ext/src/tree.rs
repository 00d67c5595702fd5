//! Tree walks: everything under a folder, recursively, and every project a user
//! can reach.
//!
//! The V4 hierarchy is account → workspace → project → root folder → folders,
//! version stacks and files (the legacy guide "Read Directory Lists and File
//! Trees", in V4 terms). [`walk`] lists a folder's children page by page
//! (`folders_index`), descends into subfolders with bounded concurrency, and yields
//! each item as soon as its page arrives, with its path and depth. Memory holds the
//! pages in flight and the queue of folders not yet listed, never the whole tree.
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use frameio_ext::tree::{walk, WalkOptions};
//!
//! # async fn run(client: frameio_ext::Client) -> Result<(), frameio_ext::Error> {
//! let options = WalkOptions::new().concurrency(8).files_only();
//! let mut files = walk(&client, "account-id", "root-folder-id", options);
//! while let Some(entry) = files.try_next().await? {
//!     println!("{} (depth {})", entry.path, entry.depth);
//! }
//! # Ok(()) }
//! ```

use std::collections::{HashSet, VecDeque};

use frameio_gen::pagination::PageParts;
use frameio_gen::v4::types::{AssetWithIncludes, ProjectWithIncludes};
use futures::stream::{BoxStream, FuturesUnordered, Stream};
use futures::{StreamExt, TryStreamExt};

use crate::pagination::{DEFAULT_PAGE_SIZE, Follow, Follower, List};
use crate::{Client, Error};

/// What [`walk`] yields and how hard it works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkOptions {
    concurrency: usize,
    files: bool,
    folders: bool,
    version_stacks: bool,
    max_depth: Option<usize>,
}

impl Default for WalkOptions {
    /// Four folders listed at once (enough to hide latency without tripping the
    /// documented 100 calls per minute on `folders_index` for small trees), every kind
    /// of item, no depth limit.
    fn default() -> Self {
        Self { concurrency: 4, files: true, folders: true, version_stacks: true, max_depth: None }
    }
}

impl WalkOptions {
    /// The defaults: concurrency 4, every kind of item, unlimited depth.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many folder pages may be requested at once (at least 1).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Yield files only (folders are still descended into).
    pub fn files_only(mut self) -> Self {
        (self.files, self.folders, self.version_stacks) = (true, false, false);
        self
    }

    /// Yield folders only.
    pub fn folders_only(mut self) -> Self {
        (self.files, self.folders, self.version_stacks) = (false, true, false);
        self
    }

    /// Whether to yield version stacks.
    pub fn version_stacks(mut self, yes: bool) -> Self {
        self.version_stacks = yes;
        self
    }

    /// Do not descend below this depth (the folder's own children are depth 1).
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = Some(depth);
        self
    }

    fn wants(&self, item: &AssetWithIncludes) -> bool {
        match item {
            AssetWithIncludes::File(_) => self.files,
            AssetWithIncludes::Folder(_) => self.folders,
            AssetWithIncludes::VersionStack(_) => self.version_stacks,
            _ => true,
        }
    }
}

/// One item found by [`walk`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Entry {
    /// The file, folder or version stack.
    pub item: AssetWithIncludes,
    /// Names from the walked folder down to the item, joined with `/`.
    pub path: String,
    /// 1 for the walked folder's children, 2 for theirs, ...
    pub depth: usize,
}

/// A folder page still to list: the folder, and where its listing stands.
#[derive(Debug)]
struct Task {
    folder_id: String,
    path: String,
    depth: usize,
    cursor: Option<String>,
    follower: Follower,
}

type Listed = (Task, Result<PageParts<AssetWithIncludes>, Error>);

struct Walk<'a> {
    client: &'a Client,
    account_id: String,
    options: WalkOptions,
    queue: VecDeque<Task>,
    in_flight: FuturesUnordered<futures::future::BoxFuture<'a, Listed>>,
    /// Items (and errors) from listed pages, in order, not yet handed out.
    ready: VecDeque<Result<Entry, Error>>,
}

/// Every item under `folder_id`, depth first as pages arrive; see the module docs.
pub fn walk<'a>(
    client: &'a Client,
    account_id: &str,
    folder_id: &str,
    options: WalkOptions,
) -> BoxStream<'a, Result<Entry, Error>> {
    let root = Task::folder(folder_id.to_string(), String::new(), 1);
    let state = Walk {
        client,
        account_id: account_id.to_string(),
        options,
        queue: VecDeque::from([root]),
        in_flight: FuturesUnordered::new(),
        ready: VecDeque::new(),
    };
    futures::stream::unfold(state, |mut state| async move {
        let next = state.next().await?;
        Some((next, state))
    })
    .boxed()
}

impl<'a> Walk<'a> {
    async fn next(&mut self) -> Option<Result<Entry, Error>> {
        loop {
            if let Some(entry) = self.ready.pop_front() {
                return Some(entry);
            }
            while self.in_flight.len() < self.options.concurrency {
                let Some(task) = self.queue.pop_front() else { break };
                self.in_flight.push(Box::pin(list(self.client, self.account_id.clone(), task)));
            }
            let (task, listed) = self.in_flight.next().await?;
            match listed {
                Ok(page) => self.accept(task, page),
                // One folder failing does not hide the rest of the tree.
                Err(e) => return Some(Err(e)),
            }
        }
    }

    fn accept(&mut self, mut task: Task, page: PageParts<AssetWithIncludes>) {
        let next = task.follower.follow(task.cursor.as_deref(), &page);
        for item in page.items {
            let name = item_name(&item);
            let path = if task.path.is_empty() { name.to_string() } else { format!("{}/{name}", task.path) };
            if let AssetWithIncludes::Folder(folder) = &item
                && self.options.max_depth.is_none_or(|max| task.depth < max)
            {
                self.queue.push_back(Task::folder(folder.id.clone(), path.clone(), task.depth + 1));
            }
            if self.options.wants(&item) {
                self.ready.push_back(Ok(Entry { item, path, depth: task.depth }));
            }
        }
        match next {
            Ok(Follow::Next(cursor) | Follow::Again(cursor)) => {
                task.cursor = Some(cursor);
                // The folder's next page before other folders: one folder at a time per slot.
                self.queue.push_front(task);
            }
            Ok(Follow::End) => {}
            Err(error) => self.ready.push_back(Err(Error::Pagination(error))),
        }
    }
}

impl Task {
    fn folder(folder_id: String, path: String, depth: usize) -> Self {
        Self { folder_id, path, depth, cursor: None, follower: Follower::new(None) }
    }
}

async fn list(client: &Client, account_id: String, task: Task) -> Listed {
    let mut request =
        client.folders_index().account_id(account_id).folder_id(task.folder_id.clone()).page_size(DEFAULT_PAGE_SIZE);
    if let Some(cursor) = &task.cursor {
        request = request.after(cursor.clone());
    }
    let after = task.cursor.clone();
    let page = request.send_page().await.map_err(|source| Error::Page { after, source: Box::new(source) });
    (task, page)
}

fn item_name(item: &AssetWithIncludes) -> &str {
    match item {
        AssetWithIncludes::File(f) => &f.name,
        AssetWithIncludes::Folder(f) => &f.name,
        AssetWithIncludes::VersionStack(v) => &v.name,
        AssetWithIncludes::Unknown(fields) => fields.get("name").and_then(|n| n.as_str()).unwrap_or_default(),
    }
}

/// A 404 for the listing's first page: the account does not serve it.
fn is_unserved(error: &Error) -> bool {
    error.is_not_found() && error.resume_cursor() == Some(None)
}

/// A project and where it lives.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ProjectEntry {
    pub account_id: String,
    pub workspace_id: String,
    pub project: ProjectWithIncludes,
    /// Whether the user reaches it only as a project collaborator (an
    /// invitation), without access to its workspace.
    pub invited: bool,
}

/// Every project the user can reach, streamed as they are listed: for each
/// account, the projects of each of its workspaces, then the projects the user
/// was invited to without workspace access (`projects_invited_projects_index`).
///
/// A project appears once even if it is listed both ways. An account that
/// does not serve the invited-projects listing (a 404 for its first page) adds
/// none, as that operation comes from the SDK rather than the published spec.
pub fn projects(client: &Client) -> BoxStream<'_, Result<ProjectEntry, Error>> {
    client
        .accounts_index()
        .stream()
        .map_ok(move |account| {
            let account_id = account.id;
            let mut seen = HashSet::new();
            workspace_projects(client, account_id.clone())
                .chain(invited_projects(client, account_id))
                .try_filter(move |entry| std::future::ready(seen.insert(entry.project.id.clone())))
        })
        .try_flatten()
        .boxed()
}

fn workspace_projects(client: &Client, account_id: String) -> impl Stream<Item = Result<ProjectEntry, Error>> + '_ {
    client
        .workspaces_index()
        .account_id(account_id.clone())
        .stream()
        .map_ok(move |workspace| {
            let (account_id, workspace_id) = (account_id.clone(), workspace.id);
            client.projects_index().account_id(account_id.clone()).workspace_id(workspace_id.clone()).stream().map_ok(
                move |project| ProjectEntry {
                    account_id: account_id.clone(),
                    workspace_id: workspace_id.clone(),
                    project,
                    invited: false,
                },
            )
        })
        .try_flatten()
}

fn invited_projects(client: &Client, account_id: String) -> impl Stream<Item = Result<ProjectEntry, Error>> + '_ {
    let listed = client.projects_invited_projects_index().account_id(account_id.clone()).stream();
    listed
        .map_ok(move |project| ProjectEntry {
            account_id: account_id.clone(),
            workspace_id: project.workspace_id.clone(),
            project,
            invited: true,
        })
        .take_while(|item| std::future::ready(!matches!(item, Err(error) if is_unserved(error))))
}
