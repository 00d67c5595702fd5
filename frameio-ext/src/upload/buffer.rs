//! Read buffers recycled across the chunks of one upload.
//!
//! Each body chunk is a buffer filled from the source and handed to the HTTP
//! client as [`Bytes`]; when the client has written it and drops it, the
//! buffer comes back here instead of going to the allocator. That keeps
//! memory at about "buffers in flight" (allocating per chunk on the blocking
//! pool's threads left tens of MiB stranded in per-thread malloc arenas) and
//! skips zeroing a fresh buffer for every chunk.

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;

/// Buffers of one size, at most `keep` of them held while unused.
#[derive(Debug)]
pub(crate) struct BufferPool {
    size: usize,
    keep: usize,
    free: Mutex<Vec<Vec<u8>>>,
}

impl BufferPool {
    pub(crate) fn new(size: usize, keep: usize) -> Arc<Self> {
        Arc::new(Self { size: size.max(1), keep, free: Mutex::new(Vec::with_capacity(keep)) })
    }

    /// The size of every buffer.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// A buffer of [`size`](Self::size) bytes, recycled when possible.
    pub(crate) fn lease(self: &Arc<Self>) -> Lease {
        let recycled = self.lock().pop();
        Lease { buf: recycled.unwrap_or_else(|| vec![0; self.size]), pool: Arc::clone(self) }
    }

    fn give_back(&self, buf: Vec<u8>) {
        let mut free = self.lock();
        if free.len() < self.keep && buf.len() == self.size {
            free.push(buf);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A buffer on loan from a [`BufferPool`]; it goes back when dropped.
#[derive(Debug)]
pub(crate) struct Lease {
    buf: Vec<u8>,
    pool: Arc<BufferPool>,
}

impl Lease {
    /// The whole buffer, to read into.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    /// The first `len` bytes as [`Bytes`]; the buffer returns to the pool
    /// when the last clone is dropped.
    pub(crate) fn into_bytes(self, len: usize) -> Bytes {
        Bytes::from_owner(Filled { len: len.min(self.buf.len()), lease: self })
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.pool.give_back(std::mem::take(&mut self.buf));
    }
}

struct Filled {
    lease: Lease,
    len: usize,
}

impl AsRef<[u8]> for Filled {
    fn as_ref(&self) -> &[u8] {
        &self.lease.buf[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_when_their_bytes_are_dropped() {
        let pool = BufferPool::new(8, 2);
        let mut lease = pool.lease();
        lease.as_mut_slice()[..3].copy_from_slice(b"abc");
        let bytes = lease.into_bytes(3);
        let clone = bytes.clone();
        assert_eq!(&bytes[..], b"abc");
        drop(bytes);
        assert_eq!(pool.lock().len(), 0, "a clone still holds the buffer");
        drop(clone);
        assert_eq!(pool.lock().len(), 1);

        let mut again = pool.lease();
        assert_eq!(&again.as_mut_slice()[..3], b"abc", "the same buffer, not re-zeroed");
        assert_eq!(pool.lock().len(), 0);
        drop(again);
        assert_eq!(pool.lock().len(), 1, "an unused lease returns too");
    }

    #[test]
    fn the_pool_keeps_only_so_many() {
        let pool = BufferPool::new(4, 1);
        let leases: Vec<_> = (0..3).map(|_| pool.lease()).collect();
        drop(leases);
        assert_eq!(pool.lock().len(), 1);
        assert_eq!(BufferPool::new(0, 1).size(), 1);
    }
}
