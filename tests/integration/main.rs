//! The one integration-test binary (one link step for every test).

mod cli;
mod crypto;
mod schema;
mod util;
