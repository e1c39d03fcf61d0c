//! The row allocator: how many main and range rows each piece of a layout takes.
//!
//! The planner counts a model's rows with it and the circuit's layout takes its rows from it,
//! so the plan and the layout cannot disagree. It sits below both (and below the operators),
//! so the planner, the operators and the circuit depend on it in a line.

use crate::chips::requant_row::ADVICE;
use crate::requant::Requant;

/// Whether the requant chip is tall (`y`, `s` on a second row) at this lane width: when the
/// dot chip's lanes and accumulator are fewer columns than one requant row needs.
pub fn is_tall(lanes: usize) -> bool {
    lanes + 1 < ADVICE
}

/// Allocates rows: [`crate::ops::LayoutCtx`] lays out with it, the planner counts rows with it, so the
/// plan and the layout cannot disagree.
#[derive(Clone, Copy, Debug, Default)]
pub struct RowCounter {
    /// Main rows.
    pub row: usize,
    /// Range rows.
    pub range_row: usize,
    /// The limb width when the requant chip has compact rows (see
    /// [`crate::chips::requant_row::range_rows`]).
    pub compact: Option<u32>,
    /// Whether the requant chip is tall (two main rows per requantization).
    pub tall: bool,
}

impl RowCounter {
    /// A counter from row `first` for a circuit with `lanes` dot lanes and, when it has
    /// compact requant rows, limb width `compact`.
    pub fn new(first: usize, lanes: usize, compact: Option<u32>) -> Self {
        Self {
            row: first,
            range_row: 0,
            compact,
            tall: is_tall(lanes),
        }
    }

    /// A dot row; returns it.
    pub fn dot(&mut self) -> usize {
        self.row += 1;
        self.row - 1
    }

    /// A requant row for `rq` and its range rows; returns the requant row.
    pub fn requant(&mut self, rq: &Requant) -> usize {
        let r = self.used();
        self.row = r + crate::chips::requant_row::main_rows(self.tall);
        self.range_row = r + crate::chips::requant_row::range_rows(rq, self.compact);
        r
    }

    /// The rows of `dot_then_requant` over `terms` terms: at least one dot row, then the
    /// requant row.
    pub fn dot_then_requant(&mut self, terms: usize, lanes: usize, rq: &Requant) {
        for _ in 0..terms.div_ceil(lanes).max(1) {
            self.dot();
        }
        self.requant(rq);
    }

    /// The rows of `requant_then_lookup`: a requant row, then a table row.
    pub fn requant_then_lookup(&mut self, rq: &Requant) {
        self.requant(rq);
        self.dot();
    }

    /// Rows used.
    pub fn used(&self) -> usize {
        self.row.max(self.range_row)
    }
}
