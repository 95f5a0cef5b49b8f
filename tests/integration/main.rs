//! The one integration-test binary (one link step for every test).

mod cli;
mod crypto;
mod diff;
mod schema;
mod util;
