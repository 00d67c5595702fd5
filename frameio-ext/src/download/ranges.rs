//! Byte ranges: which bytes of a download are in place ([`RangeSet`]) and
//! which pieces are still to fetch ([`pieces`]).

use std::ops::Range;

/// Disjoint, sorted byte ranges, merged as they are added (touching ranges
/// become one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RangeSet {
    ranges: Vec<Range<u64>>,
}

impl RangeSet {
    /// An empty set.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds `range`, merging it with the ranges it overlaps or touches.
    pub(crate) fn insert(&mut self, range: Range<u64>) {
        if range.is_empty() {
            return;
        }
        // The first range that ends at or after the new start may merge with it.
        let first = self.ranges.partition_point(|r| r.end < range.start);
        let mut merged = range;
        let mut last = first;
        while last < self.ranges.len() && self.ranges[last].start <= merged.end {
            merged.start = merged.start.min(self.ranges[last].start);
            merged.end = merged.end.max(self.ranges[last].end);
            last += 1;
        }
        self.ranges.splice(first..last, [merged]);
    }

    /// How many bytes the set covers.
    pub(crate) fn covered(&self) -> u64 {
        self.ranges.iter().map(|r| r.end - r.start).sum()
    }

    /// Whether every byte of `range` is in the set.
    pub(crate) fn contains(&self, range: &Range<u64>) -> bool {
        range.is_empty() || self.ranges.iter().any(|r| r.start <= range.start && range.end <= r.end)
    }

    /// The ranges, in order.
    pub(crate) fn ranges(&self) -> &[Range<u64>] {
        &self.ranges
    }

    /// The set without anything at or past `end`.
    pub(crate) fn below(&self, end: u64) -> RangeSet {
        let ranges = self.ranges.iter().filter(|r| r.start < end).map(|r| r.start..r.end.min(end)).collect();
        RangeSet { ranges }
    }

    /// The parts of `within` the set does not cover, in order.
    pub(crate) fn gaps(&self, within: Range<u64>) -> Vec<Range<u64>> {
        let mut gaps = Vec::new();
        let mut at = within.start;
        for r in &self.ranges {
            if r.end <= at {
                continue;
            }
            if r.start >= within.end {
                break;
            }
            if r.start > at {
                gaps.push(at..r.start);
            }
            at = at.max(r.end);
        }
        if at < within.end {
            gaps.push(at..within.end);
        }
        gaps
    }
}

/// The pieces to fetch for `gaps`: each gap cut at multiples of `part_size`,
/// so a resumed download asks for the same pieces a fresh one would (minus
/// what is in place) rather than odd-sized ones.
pub(crate) fn pieces(gaps: &[Range<u64>], part_size: u64) -> Vec<Range<u64>> {
    let part_size = part_size.max(1);
    let mut pieces = Vec::new();
    for gap in gaps {
        let mut start = gap.start;
        while start < gap.end {
            let boundary = (start / part_size).saturating_add(1).saturating_mul(part_size);
            let end = boundary.min(gap.end);
            pieces.push(start..end);
            start = end;
        }
    }
    pieces
}

#[cfg(test)]
// One-element arrays of byte ranges are lists of ranges, not of numbers.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    fn set(ranges: &[Range<u64>]) -> RangeSet {
        let mut set = RangeSet::new();
        for r in ranges {
            set.insert(r.clone());
        }
        set
    }

    #[test]
    fn inserts_merge_overlapping_and_touching_ranges() {
        let s = set(&[10..20, 30..40, 20..25, 5..8, 39..50, 0..0]);
        assert_eq!(s.ranges(), [5..8, 10..25, 30..50]);
        assert_eq!(s.covered(), 3 + 15 + 20);
        let s = set(&[10..20, 30..40, 0..100]);
        assert_eq!(s.ranges(), [0..100], "one range swallowing several");
        let s = set(&[30..40, 10..20, 15..35]);
        assert_eq!(s.ranges(), [10..40]);
        assert!(s.contains(&(12..38)) && !s.contains(&(5..12)) && s.contains(&(7..7)));
        assert_eq!(set(&[5..8, 10..25, 30..50]).below(12).ranges(), [5..8, 10..12]);
        assert_eq!(set(&[5..8]).below(5).ranges(), Vec::<Range<u64>>::new());
    }

    #[test]
    fn gaps_are_what_is_missing() {
        let s = set(&[10..20, 30..40]);
        assert_eq!(s.gaps(0..50), [0..10, 20..30, 40..50]);
        assert_eq!(s.gaps(15..35), [20..30]);
        assert_eq!(s.gaps(10..20), Vec::<Range<u64>>::new());
        assert_eq!(RangeSet::new().gaps(0..7), [0..7]);
        assert_eq!(set(&[0..7]).gaps(0..7), Vec::<Range<u64>>::new());
    }

    #[test]
    fn pieces_are_cut_on_part_boundaries() {
        assert_eq!(pieces(&[0..25], 10), [0..10, 10..20, 20..25]);
        assert_eq!(pieces(&[5..25, 31..33], 10), [5..10, 10..20, 20..25, 31..33]);
        assert_eq!(pieces(&[0..3], 0), [0..1, 1..2, 2..3], "a zero part size is read as 1");
        let huge = pieces(&[u64::MAX - 5..u64::MAX], 1 << 20);
        assert_eq!(huge, [u64::MAX - 5..u64::MAX], "no overflow at the top");
    }
}
