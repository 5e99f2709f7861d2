//! The worker's cache of compiled pieces: entries by key, least recently used out first once
//! their cost (an estimate of their memory, in bytes) passes a budget. Generic over what it
//! holds, so it is tested here with plain values; the worker holds `Rc<Part>` by home.

use rustc_hash::FxHashMap;
use std::hash::Hash;

/// Entries within a byte budget, least recently used out first.
pub struct Lru<K, V> {
    entries: FxHashMap<K, Held<V>>,
    /// The cost of the entries held, and the most they may cost.
    cost: usize,
    budget: usize,
    /// Ticks on every use: an entry's `used` says how recently.
    clock: u64,
}

struct Held<V> {
    value: V,
    cost: usize,
    used: u64,
}

impl<K: Hash + Eq, V: Clone> Lru<K, V> {
    /// An empty cache whose entries cost at most `budget`.
    pub fn new(budget: usize) -> Self {
        Lru {
            entries: FxHashMap::default(),
            cost: 0,
            budget,
            clock: 0,
        }
    }

    /// Takes an entry out.
    pub fn take(&mut self, key: &K) -> Option<V> {
        let gone = self.entries.remove(key)?;
        self.cost -= gone.cost;
        Some(gone.value)
    }

    /// The entry for `key` (a copy: an `Rc` for a large value), counted as a use.
    pub fn get(&mut self, key: &K) -> Option<V> {
        self.clock += 1;
        let held = self.entries.get_mut(key)?;
        held.used = self.clock;
        Some(held.value.clone())
    }

    /// Whether `key` is held (not counted as a use).
    pub fn holds(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }

    /// The cost of the entries held, never more than the budget.
    pub fn cost(&self) -> usize {
        self.cost
    }

    /// How many entries are held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Keeps `value` at `cost` (counted as at least 1); a value that costs more than the whole
    /// budget is not kept (whoever made it still uses it). To make room it first drops, as
    /// often as it takes, the entries last used in the oldest quarter of the time since the
    /// oldest use (the oldest entry at least): each insert pays for a few drops, not a scan.
    pub fn insert(&mut self, key: K, value: V, cost: usize) {
        let cost = cost.max(1);
        if cost > self.budget {
            return;
        }
        while self.cost + cost > self.budget && !self.entries.is_empty() {
            let oldest = self.entries.values().map(|h| h.used).min().unwrap_or(0);
            let cut = oldest + (self.clock - oldest) / 4;
            self.entries.retain(|_, h| h.used > cut);
            self.cost = self.entries.values().map(|h| h.cost).sum();
        }
        self.clock += 1;
        let used = self.clock;
        if let Some(old) = self.entries.insert(key, Held { value, cost, used }) {
            self.cost -= old.cost;
        }
        self.cost += cost;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_goes_first() {
        let mut lru = Lru::new(30);
        lru.insert(1, "one", 10);
        lru.insert(2, "two", 10);
        lru.insert(3, "three", 10);
        assert_eq!(lru.get(&1), Some("one")); // 2 is now the least recently used
        lru.insert(4, "four", 10);
        assert!(!lru.holds(&2));
        assert!(lru.holds(&1) && lru.holds(&3) && lru.holds(&4));
        assert_eq!(lru.cost(), 30);
    }

    #[test]
    fn the_budget_is_never_passed() {
        let mut lru = Lru::new(100);
        for k in 0..1000u64 {
            lru.insert(k, k, (k as usize % 37) + 1);
            assert!(lru.cost() <= 100, "at {k}: {}", lru.cost());
            let counted: usize = lru.entries.values().map(|h| h.cost).sum();
            assert_eq!(counted, lru.cost());
            assert!(lru.holds(&k), "the entry just kept is held");
        }
    }

    #[test]
    fn a_value_larger_than_the_budget_is_not_kept_and_evicts_nothing() {
        let mut lru = Lru::new(50);
        lru.insert(1, 'a', 20);
        lru.insert(2, 'b', 51);
        assert!(!lru.holds(&2));
        assert!(lru.holds(&1));
        assert_eq!(lru.cost(), 20);
        lru.insert(3, 'c', 50); // exactly the budget: kept, alone
        assert!(lru.holds(&3) && !lru.holds(&1));
        assert_eq!(lru.cost(), 50);
    }

    #[test]
    fn a_free_value_costs_one_and_a_replaced_value_is_counted_once() {
        let mut lru = Lru::new(10);
        lru.insert("k", 1, 0);
        assert_eq!(lru.cost(), 1);
        lru.insert("k", 2, 4);
        assert_eq!((lru.cost(), lru.len()), (4, 1));
        assert_eq!(lru.get(&"k"), Some(2));
    }

    #[test]
    fn take_removes_and_gives_back_the_cost() {
        let mut lru = Lru::new(10);
        lru.insert(7, "seven", 6);
        assert_eq!(lru.take(&7), Some("seven"));
        assert_eq!(lru.take(&7), None);
        assert!(lru.is_empty());
        assert_eq!(lru.cost(), 0);
        assert_eq!(lru.get(&7), None);
    }

    #[test]
    fn holds_is_not_a_use() {
        let mut lru = Lru::new(20);
        lru.insert(1, (), 10);
        lru.insert(2, (), 10);
        assert!(lru.holds(&1)); // 1 stays the least recently used
        lru.insert(3, (), 10);
        assert!(!lru.holds(&1) && lru.holds(&2));
    }
}
