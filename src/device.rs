//! The shipped device: evidence from captures and SBOMs, the diff against
//! a signed blueprint with its deviation classes, and the MUD export.

pub mod diff;
pub mod mud;
pub mod observe;
