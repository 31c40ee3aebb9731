//! What the tests of the qcs crates share instead of each keeping a copy: the emulator as the
//! library tests start it, and the real parts they start on loopback for one test. A
//! dev-dependency only; nothing here ships.

pub mod emulator;
pub mod tinyproxy;
