//! The escrow registry: statements members and vendors file, the pure rule
//! that forfeits or releases bonds, and the replayable registry state.

pub mod report;
pub mod rule;
pub mod state;
